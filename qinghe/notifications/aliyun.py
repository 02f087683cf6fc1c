"""Aliyun SMS: the RPC request signature and the one client of Dysmsapi ``SendSms``.

``aliyun_signature`` has no Django imports (the fake gateway uses it too). ``AliyunSmsClient``
is the only code that talks to Aliyun: the sign-up code sender (``accounts.sms``) and the
notifications' SMS adapter (``channels.AliyunSmsAdapter``) both send through it and only
decide what its result means to them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode


def aliyun_signature(params: dict[str, str], secret: str, method: str = "POST") -> str:
    """Aliyun RPC signature v1: HMAC-SHA1 over the sorted, percent-encoded parameters."""

    def enc(value: str) -> str:
        return quote(value, safe="~")

    canonical = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(params.items()))
    to_sign = f"{method}&{enc('/')}&{enc(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


# (method, url, body, headers) -> (HTTP status, raw body); raises on a network failure.
HttpRequest = Callable[[str, str, bytes, dict[str, str]], tuple[int, bytes]]


@dataclass(frozen=True)
class SmsResult:
    """What the gateway answered. ``answer`` is None when the body was not a JSON object."""

    status: int
    answer: Mapping[str, Any] | None

    @property
    def parsed(self) -> bool:
        return self.answer is not None

    @property
    def code(self) -> str:
        return str((self.answer or {}).get("Code") or "")

    @property
    def message(self) -> str:
        return str((self.answer or {}).get("Message") or "")

    @property
    def biz_id(self) -> str:
        return str((self.answer or {}).get("BizId") or "")

    @property
    def ok(self) -> bool:
        return self.code == "OK"

    @property
    def unavailable(self) -> bool:
        """The gateway is down or rate-limits the caller (HTTP 5xx or 429)."""
        return self.status >= 500 or self.status == 429


class AliyunSmsClient:
    """Dysmsapi ``SendSms`` (2017-05-25), signature v1. ``send`` signs and posts one message
    and returns the gateway's answer; a network failure raises whatever ``http`` raises (the
    notifications app's keep-alive ``channels.HTTP`` raises ``TransientError``)."""

    REGION = "cn-hangzhou"
    VERSION = "2017-05-25"

    def __init__(
        self,
        *,
        base_url: str,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        http: HttpRequest | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.key_id = access_key_id
        self.secret = access_key_secret
        self.sign_name = sign_name
        self._http = http

    @classmethod
    def from_settings(cls, conf: Mapping[str, Any] | None = None) -> AliyunSmsClient:
        """From ``settings.NOTIFY_SMS`` (BASE_URL, ACCESS_KEY_ID, ACCESS_KEY_SECRET,
        SIGN_NAME); missing values are empty strings (callers check what they require)."""
        if conf is None:
            from django.conf import settings

            conf = getattr(settings, "NOTIFY_SMS", None) or {}
        return cls(
            base_url=str(conf.get("BASE_URL") or ""),
            access_key_id=str(conf.get("ACCESS_KEY_ID") or ""),
            access_key_secret=str(conf.get("ACCESS_KEY_SECRET") or ""),
            sign_name=str(conf.get("SIGN_NAME") or ""),
        )

    def _post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        if self._http is not None:
            return self._http("POST", url, body, headers)
        # Imported here: the channels module loads the notifications models.
        from .channels import HTTP

        return HTTP.request("POST", url, body=body, headers=headers)

    def _rpc(self, action: Mapping[str, str]) -> SmsResult:
        request = {
            "AccessKeyId": self.key_id,
            "Format": "JSON",
            "RegionId": self.REGION,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "Version": self.VERSION,
            **action,
        }
        request["Signature"] = aliyun_signature(request, self.secret)
        status, raw = self._post(
            self.base_url + "/",
            urlencode(request).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        try:
            answer = json.loads(raw)
        except ValueError:
            answer = None
        return SmsResult(status=status, answer=answer if isinstance(answer, dict) else None)

    def send(
        self, phone: str, template_code: str, params: Mapping[str, str], out_id: str
    ) -> SmsResult:
        return self._rpc(
            {
                "Action": "SendSms",
                "OutId": out_id,
                "PhoneNumbers": phone,
                "SignName": self.sign_name,
                "TemplateCode": template_code,
                "TemplateParam": json.dumps(dict(params), ensure_ascii=False),
            }
        )

    def query_send_details(self, phone: str, send_date: str, page: int) -> SmsResult:
        """``QuerySendDetails``: one page (50 records) of what was sent to ``phone`` on
        ``send_date`` (YYYYMMDD, China time)."""
        return self._rpc(
            {
                "Action": "QuerySendDetails",
                "PhoneNumber": phone,
                "SendDate": send_date,
                "PageSize": "50",
                "CurrentPage": str(page),
            }
        )
