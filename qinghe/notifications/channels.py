"""Channel adapters. Each takes an outbox message and hands it to its provider, passing the
message's idempotency key where the provider accepts one, so that a message re-sent after a
worker died is still delivered once.

- email: Django's mail backends (the key goes in the Message-ID and a header);
- sms: an adapter for Aliyun's SendSms RPC API (signature v1, ``OutId`` carries the key);
- wechat: official-account template messages (``/cgi-bin/token`` then
  ``/cgi-bin/message/template/send``; ``client_msg_id`` carries the key).

Base URLs come from settings, so tests and the benchmark point them at local fake servers.

``query`` asks the provider what became of a message whose hand-over was started but whose
answer was never recorded (the worker died): only Aliyun's SMS API can answer
(QuerySendDetails); e-mail and WeChat template messages say "unknown" and a person decides."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import threading
import time
from dataclasses import dataclass
from typing import Any, Literal, Protocol
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMessage

from qinghe.core.masking import scrub_text

from .aliyun import AliyunSmsClient
from .models import Channel, OutboxMessage


class TransientError(Exception):
    """Try again later (network, rate limit, 5xx)."""


class PermanentError(Exception):
    """Will never succeed (no address, rejected number, unsubscribed at the provider)."""


@dataclass(frozen=True)
class StatusAnswer:
    """What a provider says about a message we may have handed over: ``delivered`` (it has
    it), ``failed`` (it has it and could not deliver), ``not_received`` (it never got it),
    ``unknown`` (it cannot tell us)."""

    state: Literal["delivered", "failed", "not_received", "unknown"]
    provider_id: str = ""
    detail: str = ""


UNKNOWN_ANSWER = StatusAnswer("unknown", detail="该渠道不支持状态查询")


class Adapter(Protocol):
    def send(self, message: OutboxMessage) -> str: ...

    def query(self, message: OutboxMessage, *, since: dt.datetime) -> StatusAnswer:
        """The provider's record of ``message`` sent at or after ``since``; raises
        TransientError when the provider cannot be asked right now."""
        ...


class _Http:
    """One keep-alive connection per thread and host (the worker sends from a thread pool)."""

    _local = threading.local()

    def request(
        self,
        method: str,
        url: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc)
        conns: dict[Any, http.client.HTTPConnection] = getattr(self._local, "conns", None) or {}
        self._local.conns = conns
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        for attempt in range(2):
            conn = conns.get(key)
            reused = conn is not None
            if conn is None:
                cls = (
                    http.client.HTTPSConnection
                    if parts.scheme == "https"
                    else http.client.HTTPConnection
                )
                conn = cls(parts.netloc, timeout=10)
                conns[key] = conn
            try:
                conn.request(method, path, body=body, headers=headers or {})
                response = conn.getresponse()
                return response.status, response.read()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                conns.pop(key, None)
                # Sent again only when an idle keep-alive connection had been closed by the
                # server before it answered anything (RemoteDisconnected): a timeout or a reset
                # may come after the provider took the request, so it is never repeated here;
                # the delivery worker settles it by a status query instead.
                if attempt or not reused or not isinstance(exc, http.client.RemoteDisconnected):
                    raise TransientError(f"网络错误：{exc.__class__.__name__}") from exc
        raise TransientError("网络错误")


HTTP = _Http()


def _unsubscribe_url(message: OutboxMessage) -> str:
    from django.urls import reverse

    from .services import unsubscribe_token

    token = unsubscribe_token(
        user_id=message.user_id, channel=message.channel, category=message.category
    )
    base = getattr(settings, "SITE_URL", "").rstrip("/")
    return base + reverse("notifications:unsubscribe", args=[token])


class EmailAdapter:
    def send(self, message: OutboxMessage) -> str:
        address = (message.user.email or "").strip()
        if not address:
            raise PermanentError("没有电子邮箱")
        unsubscribe = _unsubscribe_url(message)
        domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "qinghe.local"
        msg_id = f"<{message.idempotency_key}@{domain}>"
        email = EmailMessage(
            subject=f"【青鹤】{message.subject}",
            body=scrub_text(
                f"{message.body}\n\n退订：{unsubscribe}\n（本邮件由系统发送，请勿直接回复。）"
            ),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[address],
            headers={
                "Message-ID": msg_id,
                "X-Idempotency-Key": message.idempotency_key,
                "List-Unsubscribe": f"<{unsubscribe}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        )
        try:
            email.send(fail_silently=False)
        except OSError as exc:
            raise TransientError(f"邮件发送失败：{exc.__class__.__name__}") from exc
        return msg_id

    def query(self, message: OutboxMessage, *, since: dt.datetime) -> StatusAnswer:
        return UNKNOWN_ANSWER  # SMTP has no status query


class AliyunSmsAdapter:
    """Aliyun Dysmsapi ``SendSms`` (2017-05-25). Throttling codes are transient; a rejected
    number or template is permanent. The text goes as template parameters, never logged."""

    TRANSIENT_CODES = frozenset(
        {"isv.BUSINESS_LIMIT_CONTROL", "isp.SYSTEM_ERROR", "Throttling", "ServiceUnavailable"}
    )

    def __init__(self) -> None:
        self.client = AliyunSmsClient.from_settings(settings.NOTIFY_SMS)
        self.template_code = str(settings.NOTIFY_SMS["TEMPLATE_CODE"] or "")

    def send(self, message: OutboxMessage) -> str:
        phone = (message.user.phone or "").strip()
        if not phone:
            raise PermanentError("没有手机号")
        result = self.client.send(
            phone,
            message.template or self.template_code,
            {"title": message.subject[:20], "content": message.body[:60]},
            message.idempotency_key,
        )
        if result.unavailable:
            raise TransientError(f"短信网关 HTTP {result.status}")
        if not result.parsed:
            raise TransientError("短信网关返回无法解析")
        if result.ok:
            return result.biz_id
        if result.code in self.TRANSIENT_CODES:
            raise TransientError(f"短信网关：{result.code}")
        raise PermanentError(scrub_text(f"短信网关：{result.code} {result.message}")[:300])

    def query(self, message: OutboxMessage, *, since: dt.datetime) -> StatusAnswer:
        """QuerySendDetails by phone number and send date (China time), looking for the
        record that carries our ``OutId``. Aliyun lists a send within seconds; the worker
        asks only once an attempt is older than NOTIFY_INFLIGHT_SECONDS."""
        phone = (message.user.phone or "").strip()
        if not phone:
            return StatusAnswer("not_received", detail="没有手机号")
        china = ZoneInfo("Asia/Shanghai")
        days = sorted({since.astimezone(china).date(), dt.datetime.now(tz=china).date()})
        for day in days:
            page = 1
            while True:
                result = self.client.query_send_details(phone, day.strftime("%Y%m%d"), page)
                if not result.ok:
                    raise TransientError(f"短信网关：{result.code or result.status}")
                answer = result.answer or {}
                found = (answer.get("SmsSendDetailDTOs") or {}).get("SmsSendDetailDTO") or []
                for record in found:
                    if record.get("OutId") != message.idempotency_key:
                        continue
                    if int(record.get("SendStatus", 0)) == 2:
                        return StatusAnswer(
                            "failed", detail=f"短信网关：{record.get('ErrCode', '')}"[:300]
                        )
                    return StatusAnswer("delivered", provider_id=str(record.get("BizId", "")))
                if not found or page * 50 >= int(answer.get("TotalCount", 0)):
                    break
                page += 1
        return StatusAnswer("not_received")


class WechatTemplateAdapter:
    """Official-account template messages. The access token is fetched once and shared by
    the worker's threads; an expired or invalid token (40001/42001) is fetched again."""

    _lock = threading.Lock()
    _token: tuple[str, float] | None = None

    def __init__(self) -> None:
        conf = settings.NOTIFY_WECHAT
        self.base_url = conf["BASE_URL"].rstrip("/")
        self.app_id = conf["APP_ID"]
        self.app_secret = conf["APP_SECRET"]
        self.template_id = conf["TEMPLATE_ID"]
        self.templates: dict[str, str] = dict(conf.get("TEMPLATES") or {})

    def token(self, *, refresh: bool = False) -> str:
        with WechatTemplateAdapter._lock:
            cached = WechatTemplateAdapter._token
            if cached and not refresh and cached[1] > time.monotonic():
                return cached[0]
            query = urlencode(
                {"grant_type": "client_credential", "appid": self.app_id, "secret": self.app_secret}
            )
            status, raw = HTTP.request("GET", f"{self.base_url}/cgi-bin/token?{query}")
            answer = json.loads(raw) if status == 200 else {}
            if "access_token" not in answer:
                raise TransientError(f"微信取令牌失败：{answer.get('errcode', status)}")
            expires = int(answer.get("expires_in", 7200))
            WechatTemplateAdapter._token = (
                answer["access_token"],
                time.monotonic() + max(expires - 300, 60),
            )
            return answer["access_token"]

    def send(self, message: OutboxMessage) -> str:
        binding = getattr(message.user, "wechat_binding", None)
        if binding is None:
            raise PermanentError("未绑定微信公众号")
        extra = dict(message.data or {})
        link = str(extra.pop("url", "") or "")
        payload: dict[str, Any] = {
            "touser": binding.openid,
            # OutboxMessage.template names the kind of message (recruitment.stage_changed);
            # the official account's template for a kind comes from settings, else the default.
            "template_id": self.templates.get(message.template) or self.template_id,
            "client_msg_id": message.idempotency_key,
            "data": {
                "thing1": {"value": message.subject[:20]},
                "thing2": {"value": message.body[:20]},
                **{k: {"value": str(v)[:20]} for k, v in extra.items()},
            },
        }
        if link.startswith("/") and not link.startswith("//"):
            # Tapping the message opens the object on the site (same-site paths only).
            payload["url"] = getattr(settings, "SITE_URL", "").rstrip("/") + link
        body = json.dumps(payload, ensure_ascii=False).encode()
        for attempt in range(2):
            token = self.token(refresh=attempt > 0)
            status, raw = HTTP.request(
                "POST",
                f"{self.base_url}/cgi-bin/message/template/send?access_token={token}",
                body=body,
                headers={"Content-Type": "application/json"},
            )
            if status >= 500:
                raise TransientError(f"微信 HTTP {status}")
            answer = json.loads(raw)
            code = int(answer.get("errcode", -1))
            if code == 0:
                return str(answer.get("msgid", ""))
            if code in (40001, 42001, 40014) and attempt == 0:
                continue
            if code in (-1, 45009, 45047):
                raise TransientError(f"微信：{code}")
            if code == 43004:
                raise PermanentError("用户未关注公众号")
            raise PermanentError(f"微信：{code} {answer.get('errmsg', '')}"[:300])
        raise TransientError("微信令牌无效")

    def query(self, message: OutboxMessage, *, since: dt.datetime) -> StatusAnswer:
        return UNKNOWN_ANSWER  # template messages have no status query by client_msg_id


def adapter_for(channel: str) -> Adapter:
    if channel == Channel.EMAIL:
        return EmailAdapter()
    if channel == Channel.SMS:
        return AliyunSmsAdapter()
    if channel == Channel.WECHAT:
        return WechatTemplateAdapter()
    raise PermanentError(f"渠道 {channel} 无需投递")
