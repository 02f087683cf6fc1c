"""Local fake providers that speak the real APIs, for tests and the benchmark.

``FakeAliyunSms`` answers Aliyun's SendSms (checks the v1 signature) and QuerySendDetails;
``FakeWechat`` answers ``/cgi-bin/token`` and ``/cgi-bin/message/template/send`` (template
messages) and the official account's web authorisation: ``/connect/oauth2/authorize`` (sends
the browser back to ``redirect_uri`` with a one-time code and the state, or with the state
alone when the user refuses) and ``/sns/oauth2/access_token`` (the code for the openid, with
WeChat's error codes: 40013 bad appid, 40125 bad secret, 40002 bad grant type, 40029 unknown or
expired code, 40163 code already used).

Like Aliyun's real gateway, neither de-duplicates: every accepted request is a delivery, so
tests can prove the worker hands each message over exactly once. ``deliveries`` maps a key
(``OutId`` / ``client_msg_id``) to how many times it was delivered, ``posts`` counts accepted
send requests and ``duplicates`` those whose key had been delivered before.

``latency`` delays every send (after it is recorded, before the answer) and ``hold_after``
records the N-th send and then withholds its answer until ``release`` is set (``held`` is set
when that happens): the window in which a killed worker has handed a message over but never
learnt the outcome."""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlencode, urlsplit

from .aliyun import aliyun_signature


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client killed mid-request (the kill test) is expected, not news


class FakeProvider:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.deliveries: Counter[str] = Counter()
        self.posts = 0
        self.duplicates = 0
        self.fail_next = 0  # answer this many requests with a throttling error
        self.bodies: list[dict[str, Any]] = []
        self.keep_bodies = True
        self.latency = 0.0
        self.hold_after: int | None = None
        self.held = threading.Event()
        self.release = threading.Event()
        self.queries = 0
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> Self:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _record(self, key: str, body: dict[str, Any]) -> int:
        """Counts one delivery (never de-duplicated); returns how many sends came before it."""
        with self.lock:
            self.posts += 1
            number = self.posts
            before = self.deliveries[key]
            if before:
                self.duplicates += 1
            self.deliveries[key] += 1
            if self.keep_bodies:
                self.bodies.append(body)
        if self.hold_after is not None and number == self.hold_after:
            self.held.set()
            self.release.wait()
        if self.latency:
            time.sleep(self.latency)
        return before

    def _take_failure(self) -> bool:
        with self.lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return True
            return False

    def handle(
        self, method: str, path: str, query: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        raise NotImplementedError

    def redirect(self, method: str, path: str, query: dict[str, str]) -> str | None:
        """A URL to send the browser to (302) instead of a JSON answer; None for JSON."""
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def _go(self, method: str) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                location = provider.redirect(method, parts.path, query)
                if location is not None:
                    self.send_response(302)
                    self.send_header("Location", location)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status, answer = provider.handle(method, parts.path, query, body)
                raw = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                # Headers and body in one write: no Nagle / delayed-ACK stall per request.
                self._headers_buffer.append(b"\r\n" + raw)  # type: ignore[attr-defined]  # BaseHTTPRequestHandler sets it in send_header; typeshed omits the private attribute
                self.flush_headers()

            def do_GET(self) -> None:  # noqa: N802
                self._go("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._go("POST")

        return Handler


class FakeAliyunSms(FakeProvider):
    def __init__(self, *, key_id: str = "test-key", secret: str = "test-secret") -> None:  # noqa: S107 - a fake
        super().__init__()
        self.key_id = key_id
        self.secret = secret
        self.sent_records: list[dict[str, str]] = []

    def handle(
        self, method: str, path: str, query: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        params = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
        signature = params.pop("Signature", "")
        action = params.get("Action")
        if (
            action not in ("SendSms", "QuerySendDetails")
            or params.get("AccessKeyId") != self.key_id
        ):
            return 400, {
                "Code": "InvalidAccessKeyId.NotFound",
                "Message": "Specified access key is not found.",
            }
        if signature != aliyun_signature(params, self.secret, method):
            return 400, {
                "Code": "SignatureDoesNotMatch",
                "Message": "Specified signature is not matched.",
            }
        if action == "QuerySendDetails":
            return 200, self._query(params)
        if self._take_failure():
            return 200, {
                "Code": "isv.BUSINESS_LIMIT_CONTROL",
                "Message": "触发流控",
                "RequestId": secrets.token_hex(8),
            }
        biz_id = f"{uuid.uuid4().int % 10**12:012d}^0"
        with self.lock:
            self.sent_records.append(
                {
                    "OutId": params.get("OutId", ""),
                    "PhoneNum": params.get("PhoneNumbers", ""),
                    "SendDate": time.strftime("%Y-%m-%d %H:%M:%S"),
                    "BizId": biz_id,
                }
            )
        self._record(params.get("OutId", ""), params)
        return 200, {
            "Code": "OK",
            "Message": "OK",
            "BizId": biz_id,
            "RequestId": secrets.token_hex(8),
        }

    def _query(self, params: dict[str, str]) -> dict[str, Any]:
        """QuerySendDetails (2017-05-25): the sends to ``PhoneNumber`` (optionally one
        ``BizId``); each record carries the ``OutId`` it was sent with. SendStatus 3 means
        delivered. The date filter is not modelled: the fake lives for one test."""
        with self.lock:
            self.queries += 1
            found = [
                {
                    "OutId": r["OutId"],
                    "PhoneNum": r["PhoneNum"],
                    "SendDate": r["SendDate"],
                    "ReceiveDate": r["SendDate"],
                    "SendStatus": 3,
                    "ErrCode": "DELIVERED",
                    "TemplateCode": "SMS_000000",
                    "Content": "",
                }
                for r in self.sent_records
                if r["PhoneNum"] == params.get("PhoneNumber")
                and (not params.get("BizId") or r["BizId"] == params["BizId"])
            ]
        size = int(params.get("PageSize") or 10)
        page = int(params.get("CurrentPage") or 1)
        return {
            "Code": "OK",
            "Message": "OK",
            "RequestId": secrets.token_hex(8),
            "TotalCount": len(found),
            "SmsSendDetailDTOs": {"SmsSendDetailDTO": found[(page - 1) * size : page * size]},
        }


class FakeWechat(FakeProvider):
    CODE_LIFETIME = 300.0  # seconds; WeChat's codes last five minutes

    def __init__(self, *, app_id: str = "wx-test", app_secret: str = "wx-secret") -> None:  # noqa: S107 - a fake
        super().__init__()
        self.app_id = app_id
        self.app_secret = app_secret
        self.tokens: set[str] = set()
        self.token_requests = 0
        # Web authorisation: the WeChat user holding the phone, and what they do next.
        self.openid = "oFakeWechatUser0000000000001"
        self.refuse = False  # the user taps 拒绝: back to redirect_uri without a code
        self.codes: dict[str, tuple[str, float, str]] = {}  # code -> (openid, issued, scope)
        self.used_codes: set[str] = set()
        self.authorizations = 0
        self.exchanges = 0

    def redirect(self, method: str, path: str, query: dict[str, str]) -> str | None:
        if path != "/connect/oauth2/authorize" or method != "GET":
            return None
        target = query.get("redirect_uri", "")
        if (
            query.get("appid") != self.app_id
            or query.get("response_type") != "code"
            or query.get("scope") not in ("snsapi_base", "snsapi_userinfo")
            or not target.startswith(("http://", "https://"))
        ):
            return None  # handle() answers the error page
        state = query.get("state", "")
        joiner = "&" if "?" in target else "?"
        with self.lock:
            self.authorizations += 1
            if self.refuse:
                return f"{target}{joiner}{urlencode({'state': state})}"
            code = secrets.token_hex(16)
            self.codes[code] = (self.openid, time.monotonic(), query["scope"])
        return f"{target}{joiner}{urlencode({'code': code, 'state': state})}"

    def _exchange(self, query: dict[str, str]) -> dict[str, Any]:
        with self.lock:
            self.exchanges += 1
            if query.get("appid") != self.app_id:
                return {"errcode": 40013, "errmsg": "invalid appid"}
            if query.get("secret") != self.app_secret:
                return {"errcode": 40125, "errmsg": "invalid appsecret"}
            if query.get("grant_type") != "authorization_code":
                return {"errcode": 40002, "errmsg": "invalid grant_type"}
            code = query.get("code", "")
            if code in self.used_codes:
                return {"errcode": 40163, "errmsg": "code been used"}
            found = self.codes.pop(code, None)
            if found is None or time.monotonic() - found[1] > self.CODE_LIFETIME:
                return {"errcode": 40029, "errmsg": "invalid code"}
            self.used_codes.add(code)
        openid, _issued, scope = found
        return {
            "access_token": secrets.token_hex(16),
            "expires_in": 7200,
            "refresh_token": secrets.token_hex(16),
            "openid": openid,
            "scope": scope,
        }

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    def handle(
        self, method: str, path: str, query: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        if path == "/connect/oauth2/authorize":
            return 400, {"errcode": 10003, "errmsg": "redirect_uri, appid or scope invalid"}
        if path == "/sns/oauth2/access_token":
            return 200, self._exchange(query)
        if path == "/cgi-bin/token":
            if query.get("appid") != self.app_id or query.get("secret") != self.app_secret:
                return 200, {"errcode": 40013, "errmsg": "invalid appid"}
            token = secrets.token_hex(16)
            with self.lock:
                self.tokens.add(token)
                self.token_requests += 1
            return 200, {"access_token": token, "expires_in": 7200}
        if path == "/cgi-bin/message/template/send" and method == "POST":
            if query.get("access_token") not in self.tokens:
                return 200, {
                    "errcode": 40001,
                    "errmsg": "invalid credential, access_token is invalid or not latest",
                }
            if self._take_failure():
                return 200, {"errcode": -1, "errmsg": "system error"}
            payload = json.loads(body)
            if not payload.get("touser") or not payload.get("template_id"):
                return 200, {"errcode": 40003, "errmsg": "invalid openid"}
            self._record(payload.get("client_msg_id", ""), payload)
            return 200, {
                "errcode": 0,
                "errmsg": "ok",
                "msgid": abs(hash(payload.get("client_msg_id", ""))) % 10**12,
            }
        return 404, {"errcode": 404, "errmsg": "not found"}
