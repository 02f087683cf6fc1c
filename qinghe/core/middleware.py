from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils import timezone

from .policies import access_for, operation_view_name, policy_for
from .roles import STAFF_ROLES

logger = logging.getLogger(__name__)


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


class AccessPolicyMiddleware:
    """Enforces ``qinghe.core.policies.POLICIES`` on every routed request. Deny by default."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        response = self._check(request)
        if response is not None:
            # Marks refusals by the policy (as opposed to a view's own 403) for the tests.
            response.policy_refused = True  # type: ignore[attr-defined]
        return response

    def _check(self, request: HttpRequest) -> HttpResponse | None:
        match = request.resolver_match
        # per operation: two django-ninja operations on one path may have different policies
        view_name = operation_view_name(match, request.method or "GET") if match else None
        access = access_for(view_name, request.method or "GET")
        user = request.user
        authenticated = bool(user.is_authenticated)
        if policy_for(view_name) is None:
            logger.warning("route without a declared policy refused: %s", view_name)
            return _forbidden(request)
        if access is None:
            if _is_api(request):
                return JsonResponse({"detail": "不允许的请求方法"}, status=405)
            return HttpResponse(
                "不允许的请求方法", status=405, content_type="text/plain; charset=utf-8"
            )
        role = getattr(user, "role", None) if authenticated else None
        if access.allows(authenticated=authenticated, role=role):
            return None
        if not authenticated:
            if _is_api(request):
                return JsonResponse({"detail": "请先登录"}, status=401)
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        return _forbidden(request)


def _forbidden(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "无权访问"}, status=403)
    from .views import error_403

    return error_403(request)


# The session key holding when a staff session's expiry was last pushed (epoch seconds).
STAFF_EXPIRY_PUSHED = "_staff_expiry_pushed"


class StaffSessionMiddleware:
    """Staff sessions expire after 30 idle minutes (STAFF_SESSION_IDLE_SECONDS).

    A request pushes the expiry forward (the session is written: its expiry is counted from
    the write) only when the last push is STAFF_SESSION_PUSH_SECONDS old or more, not on
    every request: a staff page would otherwise write its session row each time. So a
    session ends between 30 minutes minus the push interval and 30 minutes after its last
    request, never later; any other write of the session (a message, a sign-in) pushes too.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.role in STAFF_ROLES:
            session = request.session
            idle = settings.STAFF_SESSION_IDLE_SECONDS
            now = int(timezone.now().timestamp())
            pushed = session.get(STAFF_EXPIRY_PUSHED)
            if (
                session.get_expiry_age() != idle
                or not isinstance(pushed, int)
                or not 0 <= now - pushed < settings.STAFF_SESSION_PUSH_SECONDS
            ):
                session.set_expiry(idle)
                session[STAFF_EXPIRY_PUSHED] = now
        return self.get_response(request)


TWO_FACTOR_EXEMPT = {
    "accounts:otp_setup",
    "accounts:otp_verify",
    "accounts:logout",
    "accounts:login",
    "set_language",
    "core:healthz",
    "core:home",
}


class TwoFactorMiddleware:
    """Under QINGHE_REQUIRE_STAFF_2FA, a staff user must pass a TOTP check before anything else."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        if not settings.QINGHE_REQUIRE_STAFF_2FA:
            return None
        user = request.user
        if not user.is_authenticated or user.role not in STAFF_ROLES:
            return None
        # OTPMiddleware (django_otp) runs earlier and gives the user is_verified().
        if getattr(user, "is_verified", lambda: False)():
            return None
        match = request.resolver_match
        if match and match.view_name in TWO_FACTOR_EXEMPT:
            return None
        if _is_api(request):
            return JsonResponse({"detail": "请先完成双因素认证"}, status=403)
        from django_otp import devices_for_user

        target = "accounts:otp_verify" if any(devices_for_user(user)) else "accounts:otp_setup"
        return redirect(target)


class SecurityHeadersMiddleware:
    """Headers Django's SecurityMiddleware does not set."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            # Pages with personal information must not linger in shared caches.
            response.headers.setdefault("Cache-Control", "no-store")
        return response


class ChineseFirstLocaleMiddleware:
    """Simplified Chinese unless the visitor chose another language with the switcher (the
    language cookie). Unlike Django's LocaleMiddleware, a browser's Accept-Language alone does
    not switch an official Chinese service to English."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.utils import translation

        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        supported = {code for code, _ in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language  # type: ignore[attr-defined]
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        translation.deactivate()
        return response


class DevelopmentNotFoundPageMiddleware:
    """Development only (config.settings.dev puts it first): under DEBUG Django answers a
    missing page with its English technical page; this serves the project's Chinese 404 page
    instead, as production does. Other 404 answers (a view's own page, the API's JSON) pass."""

    TECHNICAL_MARK = b"<title>Page not found at"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code == 404
            and not getattr(response, "streaming", False)
            and self.TECHNICAL_MARK in response.content
        ):
            from .views import error_404

            return error_404(request)
        return response
