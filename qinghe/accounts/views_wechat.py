"""WeChat sign-in and binding pages: start (redirect to WeChat), callback, unbind.

The start pages are GET links, not forms: the site's CSP ``form-action 'self'`` would stop a
form whose answer redirects to open.weixin.qq.com, and starting an authorisation changes
nothing but the session's pending state (the callback checks it)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from qinghe.core.errors import ApplicationError
from qinghe.core.http import AuthedRequest

from . import wechat
from .models import User
from .services_wechat import NOT_A_STUDENT, WECHAT_ROLES, wechat_bind, wechat_unbind
from .services_wechat import wechat_user_for_login as user_for_login

BACKEND = "qinghe.accounts.backends.UsernameOrPhoneBackend"


def _callback_uri(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("accounts:wechat_callback"))


def _safe(request: HttpRequest, target: str) -> str:
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


@require_GET
def wechat_login(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    try:
        url = wechat.authorization_start(
            request.session,
            intent="login",
            redirect_uri=_callback_uri(request),
            next_url=_safe(request, request.GET.get("next", "")),
        )
    except wechat.WechatAuthError as exc:
        messages.error(request, str(exc))
        return redirect("accounts:login")
    return redirect(url)


@require_GET
def wechat_bind_start(request: AuthedRequest) -> HttpResponse:
    if request.user.role not in WECHAT_ROLES:
        messages.error(request, NOT_A_STUDENT)
        return redirect("accounts:profile")
    try:
        url = wechat.authorization_start(
            request.session,
            intent="bind",
            redirect_uri=_callback_uri(request),
            user_id=request.user.pk,
        )
    except wechat.WechatAuthError as exc:
        messages.error(request, str(exc))
        return redirect("accounts:profile")
    return redirect(url)


@require_GET
def wechat_callback(request: HttpRequest) -> HttpResponse:
    """Where WeChat sends the browser back. Every refusal leaves a Chinese message and binds
    or signs in nobody."""
    back = "accounts:profile" if request.user.is_authenticated else "accounts:login"
    try:
        result = wechat.authorization_finish(
            request.session,
            code=request.GET.get("code", ""),
            state=request.GET.get("state", ""),
        )
    except wechat.WechatAuthError as exc:
        messages.error(request, str(exc))
        return redirect(back)
    pending = result.pending
    if pending.intent == "bind":
        signed_in = request.user
        if not isinstance(signed_in, User) or signed_in.pk != pending.user_id:
            messages.error(request, wechat.BAD_STATE)
            return redirect(back)
        try:
            wechat_bind(user=signed_in, openid=result.openid)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect("accounts:profile")
        messages.success(request, "已绑定微信：今后可在微信中直接登录，并通过公众号接收通知。")
        return redirect("accounts:profile")
    try:
        user = user_for_login(openid=result.openid)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("accounts:login")
    request.qinghe_login_method = "wechat"  # type: ignore[attr-defined]  # read by the sign-in audit receiver
    auth_login(request, user, backend=BACKEND)
    return redirect(_safe(request, pending.next_url) or resolve_url(settings.LOGIN_REDIRECT_URL))


@require_POST
def wechat_unbind_view(request: AuthedRequest) -> HttpResponse:
    try:
        wechat_unbind(user=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("accounts:profile")
    messages.success(request, "已解除微信绑定：不能再用这个微信登录，也不再通过公众号接收通知。")
    return redirect("accounts:profile")
