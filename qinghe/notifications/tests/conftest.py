from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from qinghe.notifications.channels import WechatTemplateAdapter
from qinghe.notifications.fakes import FakeAliyunSms, FakeWechat


@pytest.fixture
def sms_gateway(settings: Any) -> Iterator[FakeAliyunSms]:
    with FakeAliyunSms() as fake:
        settings.NOTIFY_SMS = {
            **settings.NOTIFY_SMS,
            "BASE_URL": fake.url,
            "ACCESS_KEY_ID": "test-key",
            "ACCESS_KEY_SECRET": "test-secret",
        }
        yield fake


@pytest.fixture
def wechat_api(settings: Any) -> Iterator[FakeWechat]:
    WechatTemplateAdapter._token = None
    with FakeWechat() as fake:
        settings.NOTIFY_WECHAT = {
            "BASE_URL": fake.url,
            "APP_ID": "wx-test",
            "APP_SECRET": "wx-secret",
            "TEMPLATE_ID": "TPL-1",
        }
        yield fake
    WechatTemplateAdapter._token = None
