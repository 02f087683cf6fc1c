"""Sending text messages. The sender is pluggable: ``settings.SMS_SENDER`` names a class with
a ``send(phone, text)`` method. Development prints to the log; tests keep an outbox; production
uses ``AliyunSmsSender`` (Aliyun Dysmsapi SendSms, the same gateway and credentials as the
notifications app). ``manage.py check --deploy`` refuses the console and memory senders when
DEBUG is off (accounts.E001, see ``qinghe/accounts/checks.py``).

No sender may write a raw phone number or a code to a log: numbers are masked with the one
masking function (138****5678)."""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from typing import ClassVar, Protocol, runtime_checkable

from django.conf import settings
from django.utils.module_loading import import_string

from qinghe.core.masking import mask_phone, scrub_text
from qinghe.notifications.aliyun import AliyunSmsClient

logger = logging.getLogger(__name__)

DEFAULT_SMS_SENDER = "qinghe.accounts.sms.ConsoleSmsSender"


@runtime_checkable
class SmsSender(Protocol):
    def send(self, phone: str, text: str) -> None: ...


class SmsSendError(Exception):
    """The gateway refused or failed to take the message."""


@dataclass(frozen=True)
class SmsMessage:
    phone: str
    text: str


class ConsoleSmsSender:
    """Development: writes the message to the log, with the phone masked."""

    def send(self, phone: str, text: str) -> None:
        logger.info("短信 → %s：%s", mask_phone(phone), text)


class MemorySmsSender:
    """Tests: keeps every message in a class-level outbox (like ``django.core.mail.outbox``),
    so a test can read the code whichever instance sent it."""

    outbox: ClassVar[list[SmsMessage]] = []

    def send(self, phone: str, text: str) -> None:
        MemorySmsSender.outbox.append(SmsMessage(phone=phone, text=text))

    @classmethod
    def clear(cls) -> None:
        cls.outbox.clear()


# The code in a verification text (registration._message): six digits on their own; the
# "10 分钟" beside it is not one.
CODE_RE = re.compile(r"(?<![0-9])([0-9]{6})(?![0-9])")

# NOTIFY_SMS keys the code sender needs; each comes from the environment variable
# NOTIFY_SMS_<key> (config/settings/base.py; CODE_TEMPLATE_CODE in production.py).
ALIYUN_REQUIRED = (
    "BASE_URL",
    "ACCESS_KEY_ID",
    "ACCESS_KEY_SECRET",
    "SIGN_NAME",
    "CODE_TEMPLATE_CODE",
)

# Aliyun refusal codes an operator will meet, in words.
ALIYUN_REFUSALS = {
    "isv.BUSINESS_LIMIT_CONTROL": "发送过于频繁，被短信网关限流",
    "isv.DAY_LIMIT_CONTROL": "该号码已达当日发送上限",
    "isv.MOBILE_NUMBER_ILLEGAL": "手机号码格式不正确",
    "isv.MOBILE_COUNT_OVER_LIMIT": "手机号码数量超过上限",
    "isv.SMS_TEMPLATE_ILLEGAL": "验证码短信模板不存在或未通过审核",
    "isv.SMS_SIGNATURE_ILLEGAL": "短信签名不存在或未通过审核",
    "isv.TEMPLATE_MISSING_PARAMETERS": "短信模板缺少参数",
    "isv.AMOUNT_NOT_ENOUGH": "短信账户余额不足",
    "isv.OUT_OF_SERVICE": "短信服务已停机",
    "isv.BLACK_KEY_CONTROL_LIMIT": "短信内容含有禁止的关键词",
    "InvalidAccessKeyId.NotFound": "访问密钥不存在",
    "SignatureDoesNotMatch": "访问密钥与签名不符",
}


class AliyunSmsSender:
    """Production: Aliyun Dysmsapi ``SendSms`` (2017-05-25) with the verification-code
    template ``NOTIFY_SMS["CODE_TEMPLATE_CODE"]``. Aliyun sends approved templates only, so
    the code is taken from the text and passed as the template parameter ``code`` (the
    template reads e.g. "您的验证码为${code}，10分钟内有效"). The request goes through the one
    Aliyun client, the notifications app's ``AliyunSmsClient``; the endpoint, key, secret and
    sign name are its ``NOTIFY_SMS`` settings.

    Every failure raises ``SmsSendError`` with a Chinese reason that holds neither the phone
    nor the code; the log gets the masked phone only."""

    TEMPLATE_PARAM = "code"

    def __init__(self) -> None:
        conf = getattr(settings, "NOTIFY_SMS", None) or {}
        self.base_url = str(conf.get("BASE_URL") or "").rstrip("/")
        self.key_id = str(conf.get("ACCESS_KEY_ID") or "")
        self.secret = str(conf.get("ACCESS_KEY_SECRET") or "")
        self.sign_name = str(conf.get("SIGN_NAME") or "")
        self.template_code = str(conf.get("CODE_TEMPLATE_CODE") or "")

    @classmethod
    def configuration_problems(cls) -> list[str]:
        """Chinese descriptions of what is missing (the deploy check reports them)."""
        conf = getattr(settings, "NOTIFY_SMS", None) or {}
        missing = [
            f"NOTIFY_SMS_{key}" for key in ALIYUN_REQUIRED if not str(conf.get(key) or "").strip()
        ]
        if missing:
            return [f"阿里云短信验证码发送缺少配置：{'、'.join(missing)}"]
        return []

    def send(self, phone: str, text: str) -> None:
        # Imported here: the channels module loads the notifications models.
        from qinghe.notifications.channels import TransientError

        problems = self.configuration_problems()
        if problems:
            raise SmsSendError(problems[0])
        match = CODE_RE.search(text)
        if match is None:
            raise SmsSendError("短信内容中没有验证码：阿里云短信只按模板发送验证码")
        out_id = uuid.uuid4().hex
        client = AliyunSmsClient.from_settings()
        try:
            result = client.send(
                phone.strip().lstrip("+"),
                self.template_code,
                {self.TEMPLATE_PARAM: match.group(1)},
                out_id,
            )
        except TransientError as exc:
            raise self._failed(phone, out_id, "无法连接短信网关") from exc
        if result.unavailable:
            raise self._failed(phone, out_id, f"短信网关暂时不可用（HTTP {result.status}）")
        if not result.parsed:
            raise self._failed(phone, out_id, f"短信网关的回复无法解析（HTTP {result.status}）")
        if result.ok:
            logger.info(
                "验证码短信已发送 → %s（OutId %s，BizId %s）",
                mask_phone(phone),
                out_id,
                scrub_text(result.biz_id),
            )
            return
        code = result.code
        reason = ALIYUN_REFUSALS.get(code) or scrub_text(result.message)[:100]
        detail = f"{reason}（{scrub_text(code)[:60]}）" if reason else scrub_text(code)[:60]
        raise self._failed(phone, out_id, f"短信网关拒绝发送：{detail or f'HTTP {result.status}'}")

    @staticmethod
    def _failed(phone: str, out_id: str, reason: str) -> SmsSendError:
        logger.warning("验证码短信发送失败 → %s（OutId %s）：%s", mask_phone(phone), out_id, reason)
        return SmsSendError(reason)


def get_sms_sender() -> SmsSender:
    path = getattr(settings, "SMS_SENDER", "") or DEFAULT_SMS_SENDER
    sender = import_string(path)()
    if not isinstance(sender, SmsSender):
        raise TypeError(f"{path} has no send(phone, text) method")
    return sender
