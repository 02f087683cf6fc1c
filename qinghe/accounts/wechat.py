"""WeChat official-account web authorisation (网页授权, OAuth 2.0): the protocol half.

1. ``authorization_start`` keeps a fresh nonce in the session and returns the URL of
   ``open.weixin.qq.com/connect/oauth2/authorize`` (appid, redirect_uri, response_type=code,
   scope, state, ``#wechat_redirect``).
2. WeChat sends the browser back to our callback with ``code`` and ``state`` — or with the
   state alone when the user refused (snsapi_userinfo's consent screen).
3. ``authorization_finish`` takes the session's pending authorisation out (single use, whatever
   happens next), checks the state against it (HMAC, same nonce, not older than
   QINGHE_WECHAT_STATE_MAX_AGE), and exchanges the code at ``/sns/oauth2/access_token``
   (appid, secret, code, grant_type=authorization_code) for the openid.

The state holds only ``[0-9a-f]`` (WeChat passes back a-zA-Z0-9, at most 128 bytes): a nonce,
the issue time and an HMAC over both and the intent. It is tied to the session that started
the flow, so a link forged for another browser finds no pending authorisation there.

Every refusal is a ``WechatAuthError`` with a Chinese message for the person; the openid and
the code are never put in a message or a log line."""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.utils.crypto import salted_hmac

Intent = Literal["login", "bind"]
SESSION_KEY = "wechat_oauth"
_SALT = "qinghe.accounts.wechat.state"
# (connect, read) seconds: a sign-in waits for WeChat at most this long.
TIMEOUT = (5, 10)

# What the token endpoint's error codes mean to the person in front of the phone.
ERROR_MESSAGES = {
    40029: "微信授权码无效或已过期，请重新点击“微信登录”",
    40163: "微信授权码已被使用，请重新点击“微信登录”",
    40013: "公众号配置有误（AppID 无效），请联系平台管理员",
    40125: "公众号配置有误（AppSecret 无效），请联系平台管理员",
    40001: "公众号配置有误（AppSecret 无效），请联系平台管理员",
    41008: "微信没有返回授权码，请重新点击“微信登录”",
    -1: "微信系统繁忙，请稍后再试",
}

CANCELLED = "你已取消微信授权，未登录也未绑定。"
BAD_STATE = "微信授权已过期或不是从本页面发起的，请重新点击“微信登录”。"
UNREACHABLE = "暂时无法连接微信，请稍后再试。"
DISABLED = "本平台未开启微信登录。"


class WechatAuthError(Exception):
    """An authorisation that ends without an openid; ``str()`` is the Chinese message."""


@dataclass(frozen=True)
class Pending:
    """What the session remembers between the redirect to WeChat and the callback."""

    intent: Intent
    user_id: int | None
    next_url: str


@dataclass(frozen=True)
class Authorised:
    """The outcome of a good callback. ``openid`` is personal data: never log it."""

    openid: str
    pending: Pending


def enabled() -> bool:
    return bool(getattr(settings, "QINGHE_WECHAT_ENABLED", False))


def _mac(nonce: str, issued: str, intent: str, user_id: int | None) -> str:
    return salted_hmac(
        _SALT, f"{nonce}|{issued}|{intent}|{user_id or ''}", algorithm="sha256"
    ).hexdigest()


def authorization_start(
    session: SessionBase,
    *,
    intent: Intent,
    redirect_uri: str,
    user_id: int | None = None,
    next_url: str = "",
) -> str:
    """Remembers a new pending authorisation in ``session`` (replacing any earlier one) and
    returns the URL to send the browser to."""
    if not enabled():
        raise WechatAuthError(DISABLED)
    nonce = secrets.token_hex(16)
    issued = f"{int(time.time()):x}"
    state = nonce + issued + _mac(nonce, issued, intent, user_id)
    session[SESSION_KEY] = {
        "nonce": nonce,
        "intent": intent,
        "user_id": user_id,
        "next": next_url,
    }
    query = urlencode(
        {
            "appid": settings.QINGHE_WECHAT_APPID,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": settings.QINGHE_WECHAT_SCOPE,
            "state": state,
        }
    )
    return f"{settings.QINGHE_WECHAT_AUTHORIZE_URL}?{query}#wechat_redirect"


def _pending_from(session: SessionBase, state: str) -> Pending:
    """Takes the pending authorisation out of the session (it is used up even when the state
    turns out bad) and checks ``state`` against it."""
    stored: dict[str, Any] | None = session.pop(SESSION_KEY, None)
    if not stored or not state or len(state) > 128:
        raise WechatAuthError(BAD_STATE)
    nonce, rest = state[:32], state[32:]
    issued, mac = rest[:-64], rest[-64:]
    intent = stored.get("intent")
    user_id = stored.get("user_id")
    if (
        intent not in ("login", "bind")
        or not issued
        or not hmac.compare_digest(nonce, str(stored.get("nonce", "")))
        or not hmac.compare_digest(mac, _mac(nonce, issued, intent, user_id))
    ):
        raise WechatAuthError(BAD_STATE)
    try:
        age = time.time() - int(issued, 16)
    except ValueError as exc:
        raise WechatAuthError(BAD_STATE) from exc
    if not 0 <= age <= settings.QINGHE_WECHAT_STATE_MAX_AGE:
        raise WechatAuthError(BAD_STATE)
    return Pending(intent=intent, user_id=user_id, next_url=str(stored.get("next") or ""))


def exchange_code(code: str) -> str:
    """The openid behind an authorisation code (``/sns/oauth2/access_token``)."""
    try:
        response = requests.get(
            settings.QINGHE_WECHAT_API_BASE.rstrip("/") + "/sns/oauth2/access_token",
            params={
                "appid": settings.QINGHE_WECHAT_APPID,
                "secret": settings.QINGHE_WECHAT_SECRET,
                "code": code,
                "grant_type": "authorization_code",
            },
            timeout=TIMEOUT,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        raise WechatAuthError(UNREACHABLE) from exc
    if response.status_code != 200:
        raise WechatAuthError(UNREACHABLE)
    try:
        answer = response.json()
    except ValueError as exc:
        raise WechatAuthError(UNREACHABLE) from exc
    if not isinstance(answer, dict):
        raise WechatAuthError(UNREACHABLE)
    errcode = answer.get("errcode")
    if errcode not in (None, 0):
        try:
            number = int(errcode)
        except (TypeError, ValueError):
            number = -1
        raise WechatAuthError(
            ERROR_MESSAGES.get(number, f"微信授权失败（错误码 {number}），请稍后再试")
        )
    openid = answer.get("openid")
    if not isinstance(openid, str) or not openid.strip() or len(openid) > 128:
        raise WechatAuthError("微信没有返回用户标识，请稍后再试")
    return openid.strip()


def authorization_finish(session: SessionBase, *, code: str, state: str) -> Authorised:
    """Checks the callback's state against the session (single use) and, when the user
    authorised, exchanges the code for the openid."""
    if not enabled():
        raise WechatAuthError(DISABLED)
    pending = _pending_from(session, state)
    if not code:
        raise WechatAuthError(CANCELLED)
    return Authorised(openid=exchange_code(code), pending=pending)
