"""Phone verification and student self-registration.

A code is six random digits, valid for 10 minutes and for 5 wrong tries; only its keyed hash
is stored, bound to the phone's blind index. A phone gets at most one code a minute and five
an hour. Registration checks the code, then creates the student account in one transaction
with marking the code used, so a refused account (a taken username) leaves the code usable."""

from __future__ import annotations

import hmac
import logging
import math
import re
import secrets
from datetime import datetime, timedelta

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from qinghe.core.crypto import blind_index
from qinghe.core.errors import ApplicationError
from qinghe.core.roles import Role

from .models import PhoneVerification, User
from .phones import InvalidPhone, normalize_phone, phone_index
from .services import user_create
from .sms import SmsSender, get_sms_sender

logger = logging.getLogger(__name__)

CODE_TTL = timedelta(minutes=10)
MAX_ATTEMPTS = 5
RESEND_INTERVAL = timedelta(seconds=60)
HOURLY_LIMIT = 5

PHONE_TAKEN = "该手机号已注册，请直接登录（可用手机号登录）"
CODE_MISSING = "请先获取验证码"
CODE_EXPIRED = "验证码已过期，请重新获取"
CODE_EXHAUSTED = "验证码错误次数过多，请重新获取"
CODE_USED = "验证码已使用，请重新获取"


def _normalized(raw: str) -> str:
    try:
        return normalize_phone(raw)
    except InvalidPhone as exc:
        raise ValidationError({"phone": str(exc)}) from exc


def code_hash(index: str, code: str) -> str:
    return blind_index(f"{index}:{code}", purpose="sms_code")


def _message(purpose: str, code: str) -> str:
    what = PhoneVerification.Purpose(purpose).label
    minutes = int(CODE_TTL.total_seconds() // 60)
    return f"【青鹤】你的{what}验证码是 {code}，{minutes} 分钟内有效。请勿告诉他人。"


@transaction.atomic
def verification_send(
    *,
    phone: str,
    purpose: str = PhoneVerification.Purpose.REGISTER,
    now: datetime | None = None,
    sender: SmsSender | None = None,
) -> PhoneVerification:
    """Sends a new code. A failed send rolls back, so it counts against no limit."""
    normalized = _normalized(phone)
    index = phone_index(normalized)
    if (
        purpose == PhoneVerification.Purpose.REGISTER
        and User.objects.filter(phone_index=index).exists()
    ):
        raise ValidationError({"phone": PHONE_TAKEN})
    now = now or timezone.now()
    sent = sorted(
        PhoneVerification.objects.filter(
            phone_index=index, created_at__gt=now - timedelta(hours=1)
        ).values_list("created_at", flat=True)
    )
    if sent and sent[-1] > now - RESEND_INTERVAL:
        wait = math.ceil((sent[-1] + RESEND_INTERVAL - now).total_seconds())
        raise ApplicationError(f"验证码发送过于频繁，请 {wait} 秒后再试")
    if len(sent) >= HOURLY_LIMIT:
        raise ApplicationError(f"该手机号 1 小时内已获取 {HOURLY_LIMIT} 次验证码，请稍后再试")
    code = f"{secrets.randbelow(10**6):06d}"
    verification = PhoneVerification.objects.create(
        phone_index=index,
        code_hash=code_hash(index, code),
        purpose=purpose,
        expires_at=now + CODE_TTL,
        created_at=now,
    )
    try:
        (sender or get_sms_sender()).send(normalized, _message(purpose, code))
    except Exception as exc:
        logger.exception("SMS sending failed")
        raise ApplicationError("短信发送失败，请稍后再试") from exc
    return verification


def verification_check(
    *, phone: str, code: str, purpose: str, now: datetime | None = None
) -> PhoneVerification:
    """The newest unused code of the phone if ``code`` matches it. A wrong code counts one
    try (kept even though this raises); after ``MAX_ATTEMPTS`` the code is dead."""
    index = phone_index(_normalized(phone))
    now = now or timezone.now()
    code = (code or "").strip()
    with transaction.atomic():
        verification = (
            PhoneVerification.objects.select_for_update()
            .filter(phone_index=index, purpose=purpose, used_at__isnull=True)
            .order_by("-created_at", "-id")
            .first()
        )
        if verification is None:
            error = CODE_MISSING
        elif verification.expires_at <= now:
            error = CODE_EXPIRED
        elif verification.attempts >= MAX_ATTEMPTS:
            error = CODE_EXHAUSTED
        elif hmac.compare_digest(verification.code_hash, code_hash(index, code)):
            return verification
        else:
            verification.attempts += 1
            verification.save(update_fields=["attempts"])
            left = MAX_ATTEMPTS - verification.attempts
            error = f"验证码不正确，还可尝试 {left} 次" if left else CODE_EXHAUSTED
    raise ValidationError({"code": error})


USERNAME_RESERVED_PREFIX = "deleted-"


def username_clean(username: str) -> str:
    """A chosen username, validated; '' when none was chosen."""
    username = (username or "").strip()
    if not username:
        return ""
    field = User._meta.get_field("username")
    try:
        field.run_validators(username)
    except ValidationError as exc:
        raise ValidationError(
            {"username": "用户名只能包含字母、数字和 @ . + - _，最长 150 个字符"}
        ) from exc
    if len(username) > 150:
        raise ValidationError({"username": "用户名最长 150 个字符"})
    # Sign-in accepts a username or a phone: a username that reads as a number would shadow
    # somebody's phone sign-in.
    if re.fullmatch(r"[+\d\s-]+", username):
        raise ValidationError({"username": "用户名不能是手机号或纯数字"})
    if username.lower().startswith(USERNAME_RESERVED_PREFIX):
        raise ValidationError({"username": "该用户名不可使用"})
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": "该用户名已被使用"})
    return username


def username_default(normalized_phone: str) -> str:
    """Phone-based but not the phone: the raw number must not become a username, which the
    audit trail and pages show to others."""
    tail = re.sub(r"\D", "", normalized_phone)[-4:]
    while True:
        candidate = f"qh{tail}_{secrets.token_hex(3)}"
        if not User.objects.filter(username=candidate).exists():
            return candidate


def student_register(
    *,
    phone: str,
    code: str,
    password: str,
    display_name: str,
    username: str = "",
    now: datetime | None = None,
) -> User:
    """Creates a student account for a verified phone. Everything that can be checked without
    the code is checked first, so a typo elsewhere does not use up code tries."""
    normalized = _normalized(phone)
    index = phone_index(normalized)
    if User.objects.filter(phone_index=index).exists():
        raise ValidationError({"phone": PHONE_TAKEN})
    display_name = (display_name or "").strip()
    if not display_name:
        raise ValidationError({"display_name": "请填写姓名"})
    if len(display_name) > 64:
        raise ValidationError({"display_name": "姓名最长 64 个字"})
    username = username_clean(username)
    provisional = User(username=username or "student", display_name=display_name, role=Role.STUDENT)
    try:
        validate_password(password, provisional)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    verification = verification_check(
        phone=normalized, code=code, purpose=PhoneVerification.Purpose.REGISTER, now=now
    )
    with transaction.atomic():
        verification = PhoneVerification.objects.select_for_update().get(pk=verification.pk)
        if verification.used_at is not None:
            raise ValidationError({"code": CODE_USED})
        user = user_create(
            username=username or username_default(normalized),
            password=password,
            role=Role.STUDENT,
            display_name=display_name,
            phone=normalized,
        )
        verification.used_at = now or timezone.now()
        verification.save(update_fields=["used_at"])
    return user
