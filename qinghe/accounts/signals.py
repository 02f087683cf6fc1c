"""Sign-in events go to the audit trail. Django announces them through signals, so the
receivers here are the one place where a signal writes (through the audit service)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from qinghe.core.audit import audit_record
from qinghe.core.masking import scrub_text

from .models import User


@receiver(user_logged_in)
def _on_login(sender: type[User], request: HttpRequest, user: User, **kwargs: Any) -> None:
    # The WeChat callback marks its sign-ins (accounts.views_wechat).
    via_wechat = getattr(request, "qinghe_login_method", "") == "wechat"
    audit_record(
        action="login",
        actor=user,
        target=user,
        summary="微信登录成功" if via_wechat else "登录成功",
    )


@receiver(user_logged_out)
def _on_logout(
    sender: type[User] | None, request: HttpRequest, user: User | None, **kwargs: Any
) -> None:
    if user is not None:
        audit_record(action="logout", actor=user, target=user, summary="退出登录")


@receiver(user_login_failed)
def _on_login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    typed = scrub_text(str(credentials.get("username", "")))[:64]
    audit_record(
        action="login_failed",
        target_type="accounts.user",
        summary=f"登录失败：{typed}",
    )
