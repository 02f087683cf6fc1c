"""Sending text messages. The sender is pluggable: ``settings.SMS_SENDER`` names a class with
a ``send(phone, text)`` method. Development prints to the log; tests keep an outbox; production
plugs in the government SMS gateway's client behind the same protocol.

No sender may write a raw phone number to a log: numbers are masked with the one masking
function (138****5678)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import ClassVar, Protocol, runtime_checkable

from django.conf import settings
from django.utils.module_loading import import_string

from qinghe.core.masking import mask_phone

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


def get_sms_sender() -> SmsSender:
    path = getattr(settings, "SMS_SENDER", "") or DEFAULT_SMS_SENDER
    sender = import_string(path)()
    if not isinstance(sender, SmsSender):
        raise TypeError(f"{path} has no send(phone, text) method")
    return sender
