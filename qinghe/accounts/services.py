from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from qinghe.core.audit import audit_record
from qinghe.core.roles import Role

from .models import Organisation, User
from .phones import InvalidPhone, normalize_phone, phone_index


def organisation_get_or_create(
    *, kind: str, name: str, bureau: str = "", code: str = ""
) -> Organisation:
    org, _ = Organisation.objects.get_or_create(
        kind=kind, name=name, defaults={"bureau": bureau, "code": code}
    )
    return org


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    role: str,
    display_name: str = "",
    phone: str = "",
    organisation: Organisation | None = None,
    email: str = "",
    actor: User | None = None,
    validate: bool = True,
    password_hash: str = "",
) -> User:
    """``password_hash``: an already hashed password to store instead of hashing ``password``
    (the demo's accounts share one hash of the one demo password: each argon2 hash costs a
    quarter of a second)."""
    if role not in Role.values:
        raise ValidationError({"role": f"未知角色：{role}"})
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": "该用户名已被使用"})
    user = User(
        username=username,
        role=role,
        display_name=display_name,
        organisation=organisation,
        email=email,
        is_staff=role == Role.SYSADMIN,
        is_superuser=role == Role.SYSADMIN,
    )
    if phone:
        try:
            normalized = normalize_phone(phone)
        except InvalidPhone as exc:
            raise ValidationError({"phone": str(exc)}) from exc
        index = phone_index(normalized)
        if User.objects.filter(phone_index=index).exists():
            raise ValidationError({"phone": "该手机号已注册"})
        user.phone = normalized
        user.phone_index = index
    if validate:
        validate_password(password, user)
    if password_hash:
        user.password = password_hash
    else:
        user.set_password(password)
    user.save()
    audit_record(
        action="create",
        actor=actor,
        target=user,
        summary=f"新建账号 {username}（{Role(role).label}）",
    )
    return user
