"""Deployment checks for the accounts app (``manage.py check --deploy``).

Sign-up codes go out through ``settings.SMS_SENDER``. The console sender only logs and the
memory sender only keeps a list, so in production a code would silently never reach anyone:
with DEBUG off either of them is an error (accounts.E001). A path that does not import
(accounts.E002), a class without ``send(phone, text)`` (accounts.E003) and a sender that
reports missing configuration of its own (accounts.E004, e.g. the Aliyun keys) are errors too.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.utils.module_loading import import_string

HINT = (
    "在环境变量 SMS_SENDER 中设置 qinghe.accounts.sms.AliyunSmsSender，并设置 "
    "NOTIFY_SMS_ACCESS_KEY_ID、NOTIFY_SMS_ACCESS_KEY_SECRET、NOTIFY_SMS_SIGN_NAME、"
    "NOTIFY_SMS_CODE_TEMPLATE_CODE（见 docs/OPERATIONS.md）"
)


def check_sms_sender(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from .sms import DEFAULT_SMS_SENDER, ConsoleSmsSender, MemorySmsSender

    path = getattr(settings, "SMS_SENDER", "") or DEFAULT_SMS_SENDER
    try:
        sender_class = import_string(path)
    except Exception as exc:  # noqa: BLE001 - any import failure is the finding
        return [
            checks.Error(
                f"短信发送类 SMS_SENDER={path!r} 无法导入（{exc.__class__.__name__}），"
                "验证码短信将无法发送",
                hint=HINT,
                id="accounts.E002",
            )
        ]
    if not callable(getattr(sender_class, "send", None)):
        return [
            checks.Error(
                f"短信发送类 SMS_SENDER={path!r} 没有 send(phone, text) 方法",
                hint=HINT,
                id="accounts.E003",
            )
        ]
    if (
        not settings.DEBUG
        and isinstance(sender_class, type)
        and issubclass(sender_class, ConsoleSmsSender | MemorySmsSender)
    ):
        return [
            checks.Error(
                f"生产环境（DEBUG=False）不能使用 {path}：它只写日志或留在内存中，"
                "注册验证码不会真正发送到用户手机",
                hint=HINT,
                id="accounts.E001",
            )
        ]
    problems = getattr(sender_class, "configuration_problems", None)
    if callable(problems):
        return [checks.Error(problem, hint=HINT, id="accounts.E004") for problem in problems()]
    return []
