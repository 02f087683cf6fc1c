"""Binding a WeChat openid to an account, unbinding it, and finding who signs in with it.

Only students (学子, and the ambassadors who are students too) bind and sign in with WeChat:
staff keep password + TOTP, enterprises their password. An openid is bound to one account and
an account to one openid; the openid is looked up through its blind index only and never
written to a log or an audit summary."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from qinghe.core.audit import audit_record
from qinghe.core.errors import ApplicationError
from qinghe.core.roles import Role
from qinghe.notifications.models import WechatBinding, openid_index

from .models import User

WECHAT_ROLES = frozenset({Role.STUDENT, Role.AMBASSADOR})

NOT_A_STUDENT = "只有学子账号可以使用微信登录；工作人员和企业请用账号密码登录。"
ALREADY_BOUND = "你的账号已绑定微信；如需更换，请先在“我的账号”中解除绑定。"
TAKEN = "该微信已绑定其他青鹤账号，不能重复绑定；请先用那个账号登录并解除绑定。"
NOT_BOUND_ACCOUNT = "你的账号尚未绑定微信。"
UNKNOWN_OPENID = (
    "该微信尚未绑定青鹤账号：请先用手机号或用户名和密码登录，再在“我的账号”中绑定微信。"
)


def wechat_binding_get(*, user: User) -> WechatBinding | None:
    return WechatBinding.objects.filter(user=user).first()


def wechat_user_for_login(*, openid: str) -> User:
    """The account bound to ``openid`` that may sign in with it; refused otherwise."""
    binding = (
        WechatBinding.objects.select_related("user")
        .filter(openid_index=openid_index(openid))
        .first()
    )
    if binding is None or not binding.user.is_active:
        raise ApplicationError(UNKNOWN_OPENID)
    if binding.user.role not in WECHAT_ROLES:
        raise ApplicationError(NOT_A_STUDENT)
    return binding.user


@transaction.atomic
def wechat_bind(*, user: User, openid: str) -> WechatBinding:
    if user.role not in WECHAT_ROLES:
        raise ApplicationError(NOT_A_STUDENT)
    user = User.objects.select_for_update().get(pk=user.pk)
    if WechatBinding.objects.filter(user=user).exists():
        raise ApplicationError(ALREADY_BOUND)
    index = openid_index(openid)
    if WechatBinding.objects.filter(openid_index=index).exists():
        raise ApplicationError(TAKEN)
    try:
        with transaction.atomic():
            binding = WechatBinding.objects.create(user=user, openid=openid, openid_index=index)
    except IntegrityError as exc:  # the same openid bound by a parallel request
        raise ApplicationError(TAKEN) from exc
    audit_record(action="create", actor=user, target=user, summary="绑定微信公众号")
    return binding


@transaction.atomic
def wechat_unbind(*, user: User) -> None:
    deleted, _ = WechatBinding.objects.filter(user=user).delete()
    if not deleted:
        raise ApplicationError(NOT_BOUND_ACCOUNT)
    audit_record(action="delete", actor=user, target=user, summary="解除微信公众号绑定")
