"""The local fake of WeChat (qinghe.notifications.fakes.FakeWechat) wired into the settings:
web authorisation (sign-in, binding) and template messages both talk to it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from qinghe.notifications.channels import WechatTemplateAdapter
from qinghe.notifications.fakes import FakeWechat

APP_ID = "wx-test"
APP_SECRET = "wx-secret"  # noqa: S105 - the fake's own


@contextmanager
def wechat_fake_running(settings: Any) -> Iterator[FakeWechat]:
    """Starts the fake and points every WeChat setting at it (pytest-django's ``settings``
    puts them back afterwards)."""
    WechatTemplateAdapter._token = None
    with FakeWechat(app_id=APP_ID, app_secret=APP_SECRET) as fake:
        settings.QINGHE_WECHAT_ENABLED = True
        settings.QINGHE_WECHAT_APPID = APP_ID
        settings.QINGHE_WECHAT_SECRET = APP_SECRET
        settings.QINGHE_WECHAT_AUTHORIZE_URL = f"{fake.url}/connect/oauth2/authorize"
        settings.QINGHE_WECHAT_API_BASE = fake.url
        settings.NOTIFY_WECHAT = {
            "BASE_URL": fake.url,
            "APP_ID": APP_ID,
            "APP_SECRET": APP_SECRET,
            "TEMPLATE_ID": "TPL-1",
        }
        try:
            yield fake
        finally:
            WechatTemplateAdapter._token = None
