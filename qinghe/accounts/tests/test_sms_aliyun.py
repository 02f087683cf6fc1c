"""Sign-up codes through Aliyun SendSms (``AliyunSmsSender``) against the notifications app's
fake gateway, and the deploy check that refuses a sender which never reaches a phone."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from django.core.checks import Error
from django.test import override_settings

from qinghe.accounts.checks import check_sms_sender
from qinghe.accounts.models import PhoneVerification
from qinghe.accounts.registration import student_register, verification_send
from qinghe.accounts.sms import AliyunSmsSender, SmsSendError, get_sms_sender
from qinghe.core.errors import ApplicationError
from qinghe.notifications.aliyun import aliyun_signature
from qinghe.notifications.fakes import FakeAliyunSms

pytestmark = pytest.mark.django_db

PHONE = "13800139001"
MASKED = "138****9001"
ALIYUN = "qinghe.accounts.sms.AliyunSmsSender"
TEXT = "【青鹤】你的注册验证码是 604213，10 分钟内有效。请勿告诉他人。"


def aliyun_settings(base_url: str, **overrides: str) -> dict[str, str]:
    return {
        "BASE_URL": base_url,
        "ACCESS_KEY_ID": "test-key",
        "ACCESS_KEY_SECRET": "test-secret",
        "SIGN_NAME": "鹤山人社",
        "TEMPLATE_CODE": "SMS_000000",
        "CODE_TEMPLATE_CODE": "SMS_CODE_1",
        **overrides,
    }


class SigningFake(FakeAliyunSms):
    """The fake gateway, also keeping every request's parameters with their signature."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.signed: list[dict[str, str]] = []

    def handle(
        self, method: str, path: str, query: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        params = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
        with self.lock:
            self.signed.append(params)
        return super().handle(method, path, query, body)


@pytest.fixture
def gateway() -> Iterator[SigningFake]:
    fake = SigningFake()
    with (
        fake,
        override_settings(SMS_SENDER=ALIYUN, NOTIFY_SMS=aliyun_settings(fake.url)),
    ):
        yield fake


@pytest.fixture
def wrong_key_gateway() -> Iterator[FakeAliyunSms]:
    """A gateway that knows another secret: it refuses every request's signature."""
    fake = FakeAliyunSms(secret="the-real-secret")  # noqa: S106 - a fake
    with (
        fake,
        override_settings(SMS_SENDER=ALIYUN, NOTIFY_SMS=aliyun_settings(fake.url)),
    ):
        yield fake


def test_a_code_reaches_the_gateway_with_the_code_template_and_a_valid_signature(
    gateway: SigningFake,
) -> None:
    sender = get_sms_sender()
    assert isinstance(sender, AliyunSmsSender)
    sender.send(PHONE, TEXT)
    assert gateway.posts == 1 and len(gateway.bodies) == 1
    body = gateway.bodies[0]
    assert body["Action"] == "SendSms" and body["Version"] == "2017-05-25"
    assert body["PhoneNumbers"] == PHONE
    assert body["SignName"] == "鹤山人社"
    assert body["TemplateCode"] == "SMS_CODE_1"  # not the notifications template
    assert json.loads(body["TemplateParam"]) == {"code": "604213"}
    assert body["SignatureMethod"] == "HMAC-SHA1" and body["AccessKeyId"] == "test-key"
    assert len(body["OutId"]) == 32  # a fresh id per send, never the phone
    # The fake checked the signature before accepting; check it here too.
    signed = dict(gateway.signed[0])
    signature = signed.pop("Signature")
    assert signed == body
    assert signature == aliyun_signature(signed, "test-secret")


def test_each_send_is_a_new_message_for_the_gateway(gateway: FakeAliyunSms) -> None:
    sender = AliyunSmsSender()
    sender.send(PHONE, TEXT)
    sender.send(PHONE, TEXT.replace("604213", "118822"))
    assert gateway.duplicates == 0 and len(gateway.bodies) == 2
    assert [json.loads(b["TemplateParam"])["code"] for b in gateway.bodies] == ["604213", "118822"]


def test_registration_sends_the_code_through_aliyun_and_the_code_works(
    gateway: FakeAliyunSms,
) -> None:
    verification_send(phone=PHONE)
    code = json.loads(gateway.bodies[-1]["TemplateParam"])["code"]
    user = student_register(
        phone=PHONE, code=code, password="Heshan-home-2026", display_name="谭嘉琪"
    )
    assert user.phone == PHONE


def test_a_refused_signature_raises_sms_send_error_in_chinese(
    wrong_key_gateway: FakeAliyunSms,
) -> None:
    with pytest.raises(SmsSendError) as refused:
        AliyunSmsSender().send(PHONE, TEXT)
    assert str(refused.value) == "短信网关拒绝发送：访问密钥与签名不符（SignatureDoesNotMatch）"
    assert wrong_key_gateway.bodies == []


def test_throttling_raises_sms_send_error(gateway: FakeAliyunSms) -> None:
    gateway.fail_next = 1
    with pytest.raises(SmsSendError, match="限流"):
        AliyunSmsSender().send(PHONE, TEXT)
    assert gateway.bodies == []


def test_an_unreachable_gateway_raises_sms_send_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with override_settings(NOTIFY_SMS=aliyun_settings(f"http://127.0.0.1:{port}")):
        with pytest.raises(SmsSendError, match="无法连接短信网关"):
            AliyunSmsSender().send(PHONE, TEXT)


def test_missing_configuration_or_a_text_without_code_never_calls_the_gateway(
    gateway: FakeAliyunSms,
) -> None:
    with override_settings(NOTIFY_SMS=aliyun_settings(gateway.url, CODE_TEMPLATE_CODE="")):
        with pytest.raises(SmsSendError, match="NOTIFY_SMS_CODE_TEMPLATE_CODE"):
            AliyunSmsSender().send(PHONE, TEXT)
    with pytest.raises(SmsSendError, match="没有验证码"):
        AliyunSmsSender().send(PHONE, "【青鹤】欢迎注册")
    assert gateway.posts == 0


def test_a_gateway_refusal_during_registration_leaves_nothing_half_done(
    wrong_key_gateway: FakeAliyunSms,
) -> None:
    with pytest.raises(ApplicationError) as refused:
        verification_send(phone=PHONE)
    assert refused.value.message == "短信发送失败，请稍后再试"
    # No code row: the refused send counts against no rate limit, so the user may retry at once.
    assert PhoneVerification.objects.count() == 0
    wrong_key_gateway.secret = "test-secret"  # noqa: S105 - the operator fixed the key
    verification_send(phone=PHONE)
    assert PhoneVerification.objects.count() == 1


def test_the_register_page_shows_the_chinese_message_when_the_gateway_refuses(
    wrong_key_gateway: FakeAliyunSms, client: Any
) -> None:
    response = client.post("/accounts/register/", {"phone": PHONE})
    assert response.status_code == 200
    assert "短信发送失败，请稍后再试" in response.content.decode()
    assert PhoneVerification.objects.count() == 0


def test_no_log_line_holds_the_raw_phone_or_the_code(
    gateway: FakeAliyunSms, caplog: Any, monkeypatch: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr("qinghe.accounts.registration.secrets.randbelow", lambda _n: 424242)
    verification_send(phone=PHONE)  # accepted
    assert json.loads(gateway.bodies[-1]["TemplateParam"]) == {"code": "424242"}
    PhoneVerification.objects.all().delete()
    gateway.fail_next = 1
    with pytest.raises(ApplicationError):
        verification_send(phone=PHONE)  # throttled by the gateway
    gateway.secret = "another-secret"  # noqa: S105
    with pytest.raises(SmsSendError) as refused:
        AliyunSmsSender().send(PHONE, TEXT)  # refused signature
    logged = caplog.text
    assert "验证码短信已发送" in logged and "验证码短信发送失败" in logged
    assert MASKED in logged
    assert PHONE not in logged
    assert "424242" not in logged and "604213" not in logged
    assert PHONE not in str(refused.value) and "604213" not in str(refused.value)


# --- the deploy check (accounts.E001-E004); the subprocess runs are in test_security.py ---


def ids(messages: list[Any]) -> list[str]:
    assert all(isinstance(m, Error) for m in messages)
    return [m.id for m in messages]


@pytest.mark.parametrize(
    "path",
    ["qinghe.accounts.sms.ConsoleSmsSender", "qinghe.accounts.sms.MemorySmsSender", ""],
)
def test_the_console_and_memory_senders_are_errors_when_debug_is_off(path: str) -> None:
    with override_settings(DEBUG=False, SMS_SENDER=path):
        messages = check_sms_sender()
    assert ids(messages) == ["accounts.E001"]
    assert "生产环境" in messages[0].msg and "SMS_SENDER" in (messages[0].hint or "")


def test_the_console_sender_is_fine_while_debugging() -> None:
    with override_settings(DEBUG=True, SMS_SENDER="qinghe.accounts.sms.ConsoleSmsSender"):
        assert check_sms_sender() == []


def test_a_sender_that_does_not_import_or_cannot_send_is_an_error() -> None:
    with override_settings(DEBUG=False, SMS_SENDER="qinghe.accounts.sms.NoSuchSender"):
        assert ids(check_sms_sender()) == ["accounts.E002"]
    with override_settings(DEBUG=False, SMS_SENDER="nodots"):
        assert ids(check_sms_sender()) == ["accounts.E002"]
    with override_settings(DEBUG=False, SMS_SENDER="qinghe.accounts.sms.SmsMessage"):
        messages = check_sms_sender()
    assert ids(messages) == ["accounts.E003"] and "send(phone, text)" in messages[0].msg


def test_the_aliyun_sender_needs_its_keys_and_template() -> None:
    with override_settings(
        DEBUG=False,
        SMS_SENDER=ALIYUN,
        NOTIFY_SMS=aliyun_settings("https://dysmsapi.aliyuncs.com", ACCESS_KEY_SECRET=""),
    ):
        messages = check_sms_sender()
    assert ids(messages) == ["accounts.E004"]
    assert "NOTIFY_SMS_ACCESS_KEY_SECRET" in messages[0].msg
    with override_settings(
        DEBUG=False, SMS_SENDER=ALIYUN, NOTIFY_SMS=aliyun_settings("https://dysmsapi.aliyuncs.com")
    ):
        assert check_sms_sender() == []
