"""The one Aliyun SMS client: signed requests the gateway accepts, its answer as a result, and
both senders of text messages (sign-up codes, notifications) going through it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from django.test import override_settings

from qinghe.accounts.sms import AliyunSmsSender, SmsSendError
from qinghe.notifications.aliyun import AliyunSmsClient, SmsResult
from qinghe.notifications.channels import AliyunSmsAdapter, TransientError
from qinghe.notifications.fakes import FakeAliyunSms
from qinghe.notifications.models import Category, Channel
from qinghe.notifications.services import notify

SMS_SETTINGS = {
    "ACCESS_KEY_ID": "test-key",
    "ACCESS_KEY_SECRET": "test-secret",
    "SIGN_NAME": "鹤山人社",
    "TEMPLATE_CODE": "SMS_000000",
    "CODE_TEMPLATE_CODE": "SMS_CODE_1",
}


def test_the_client_sends_a_signed_request_and_returns_the_answer() -> None:
    with FakeAliyunSms() as fake:
        client = AliyunSmsClient.from_settings({**SMS_SETTINGS, "BASE_URL": fake.url})
        result = client.send("13800139001", "SMS_1", {"code": "604213"}, "out-1")
    assert result.ok and result.parsed and not result.unavailable
    assert (result.status, result.code) == (200, "OK")
    assert [(r["OutId"], r["BizId"]) for r in fake.sent_records] == [("out-1", result.biz_id)]
    body = fake.bodies[0]
    assert body["PhoneNumbers"] == "13800139001"
    assert body["TemplateCode"] == "SMS_1"
    assert json.loads(body["TemplateParam"]) == {"code": "604213"}
    assert body["OutId"] == "out-1"
    assert body["SignName"] == "鹤山人社"


def test_a_refused_signature_is_an_answer_not_an_exception() -> None:
    with FakeAliyunSms(secret="the-real-secret") as fake:  # noqa: S106 - a fake
        client = AliyunSmsClient.from_settings({**SMS_SETTINGS, "BASE_URL": fake.url})
        result = client.send("13800139001", "SMS_1", {"code": "604213"}, "out-2")
    assert (result.status, result.code, result.ok) == (400, "SignatureDoesNotMatch", False)
    assert fake.deliveries == {}


class Recorder:
    """Stands in for the gateway behind AliyunSmsClient.send and keeps every call."""

    def __init__(self, answer: Mapping[str, Any] | None, status: int = 200) -> None:
        self.calls: list[tuple[str, str, dict[str, str], str]] = []
        self.result = SmsResult(status=status, answer=answer)

    def install(self, monkeypatch: Any) -> None:
        def send(
            client: AliyunSmsClient, phone: str, template: str, params: Any, out_id: str
        ) -> SmsResult:
            self.calls.append((phone, template, dict(params), out_id))
            return self.result

        monkeypatch.setattr(AliyunSmsClient, "send", send)


@pytest.mark.django_db
@override_settings(NOTIFY_SMS={**SMS_SETTINGS, "BASE_URL": "http://127.0.0.1:9"})
def test_sign_up_codes_and_notifications_both_go_through_the_client(
    personas: Any, monkeypatch: Any
) -> None:
    recorder = Recorder({"Code": "OK", "BizId": "biz-1"})
    recorder.install(monkeypatch)

    AliyunSmsSender().send("+8613800139001", "【青鹤】你的注册验证码是 604213，10 分钟内有效。")
    student = personas["student"]
    [message] = notify(
        user=student,
        channels=(Channel.SMS,),
        category=Category.NEWS,
        subject="鹤山产业资讯",
        body="本周新增岗位 30 个",
        key="client-1",
    )
    assert AliyunSmsAdapter().send(message) == "biz-1"

    code_out_id = recorder.calls[0][3]
    assert recorder.calls == [
        ("8613800139001", "SMS_CODE_1", {"code": "604213"}, code_out_id),
        (
            "13800138001",
            "SMS_000000",
            {"title": "鹤山产业资讯", "content": "本周新增岗位 30 个"},
            message.idempotency_key,
        ),
    ]


@pytest.mark.django_db
@override_settings(NOTIFY_SMS={**SMS_SETTINGS, "BASE_URL": "http://127.0.0.1:9"})
def test_an_answer_that_is_not_a_json_object_is_retried_or_refused_not_a_crash(
    personas: Any, monkeypatch: Any
) -> None:
    Recorder(None).install(monkeypatch)
    [message] = notify(
        user=personas["student"],
        channels=(Channel.SMS,),
        category=Category.NEWS,
        subject="资讯",
        body="正文",
        key="client-2",
    )
    with pytest.raises(TransientError, match="无法解析"):
        AliyunSmsAdapter().send(message)
    with pytest.raises(SmsSendError, match="无法解析"):
        AliyunSmsSender().send("13800139001", "验证码 604213")
