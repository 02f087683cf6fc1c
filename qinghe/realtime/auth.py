"""Who is on the other end of a websocket, decided exactly as for a page.

Channels' ``AuthMiddlewareStack`` puts the session's user in ``scope["user"]``; what it does not
do is django_otp's part (is this staff session past its TOTP check?). ``is_verified`` reads the
same session key django_otp's ``OTPMiddleware`` reads, so a staff member who has not passed the
second factor gets no socket, as they get no page (``TwoFactorMiddleware``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device

from qinghe.core.policies import access_for, policy_for
from qinghe.core.roles import STAFF_ROLES


def is_verified(user: Any, session: Any) -> bool:
    """True when the session carries a confirmed OTP device of this user."""
    persistent_id = session.get(DEVICE_ID_SESSION_KEY) if session is not None else None
    if not persistent_id:
        return False
    device = Device.from_persistent_id(persistent_id)
    return bool(device is not None and device.user_id == user.pk and device.confirmed)


def socket_refusal(route_name: str, user: Any, session: Any) -> str | None:
    """Why a socket on ``route_name`` is refused to ``user`` (a Chinese reason), or None.

    Deny by default: a websocket route with no ``WS`` entry in the policy table is refused to
    everyone, the system administrator included."""
    if policy_for(route_name) is None:
        return "未声明访问策略的实时通道"
    access = access_for(route_name, "WS")
    if access is None:
        return "未声明访问策略的实时通道"
    authenticated = bool(getattr(user, "is_authenticated", False))
    role = getattr(user, "role", None) if authenticated else None
    if not access.allows(authenticated=authenticated, role=role):
        return "请先登录" if not authenticated else "无权访问"
    if settings.QINGHE_REQUIRE_STAFF_2FA and role in STAFF_ROLES and not is_verified(user, session):
        return "请先完成双因素认证"
    return None
