"""One path from a domain error to a page response.

Services raise ``qinghe.core.errors.ApplicationError`` (and its ``NotFound`` and
``PermissionDenied``) for broken rules and django's ``ValidationError`` for bad fields. Page
views let them rise; ``DomainErrorMiddleware`` turns them into what a person sees:

- ``NotFound`` → the Chinese 404 page (missing and forbidden look alike);
- ``PermissionDenied`` during a GET → the Chinese 403 page;
- ``ApplicationError`` (``PermissionDenied`` included) / ``ValidationError`` during a POST (any
  method but GET/HEAD/OPTIONS) → the Chinese message as an error message and a redirect: to the
  target the view declared with ``@redirect_on_error``, else to a same-host ``next``, else to a
  same-host Referer, else back to the same URL. A refused button press thus reads like every
  other refusal ("只能核实分配给你的学生的档案") on the page it came from, as the pages always
  did; the route-level 403 of ``AccessPolicyMiddleware`` is unaffected;
- ``ApplicationError`` / ``ValidationError`` during a GET → a 400 page with the message;
- ``StorageFull`` (a full disk during an upload, qinghe.core.diskspace) is also reported to the
  system administrators before the message is shown.

The JSON API under /api/ is left alone: django-ninja's handlers in ``config.api`` answer there.
A view that re-renders a form with the errors on its fields still catches ``ValidationError``
itself — that is form handling, not error mapping."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from .diskspace import StorageFull, storage_full_report
from .errors import ApplicationError, NotFound, PermissionDenied, validation_message

_TARGET_ATTR = "domain_error_redirect"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def redirect_on_error(
    viewname: str, *kwarg_names: str
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Declares where a page POST goes back to when its service refuses: ``viewname`` reversed
    with the named URL arguments of the view itself, e.g.
    ``@redirect_on_error("talents:detail", "talent_id")``."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            names = {name: kwargs[name] for name in kwarg_names}
            setattr(request, _TARGET_ATTR, lambda: reverse(viewname, kwargs=names or None))
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def redirect_on_error_to(request: HttpRequest, url: str) -> None:
    """The same declaration made inside a view, for a page known only once the view has
    fetched its object (an interview's POST goes back to its application's page)."""
    setattr(request, _TARGET_ATTR, lambda: url)


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _safe(request: HttpRequest, url: str | None) -> str | None:
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return None


def back_url(request: HttpRequest) -> str:
    """Where a refused POST goes back to (never to another host)."""
    declared: Callable[[], str] | None = getattr(request, _TARGET_ATTR, None)
    if declared is not None:
        return declared()
    return (
        _safe(request, request.POST.get("next"))
        or _safe(request, request.GET.get("next"))
        or _safe(request, request.META.get("HTTP_REFERER"))
        or request.get_full_path()
    )


def _message(exc: Exception) -> str:
    if isinstance(exc, ApplicationError):
        return exc.message
    return validation_message(exc)


class DomainErrorMiddleware:
    """See the module's docstring."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if _is_api(request) or not isinstance(exception, ApplicationError | ValidationError):
            return None
        if isinstance(exception, NotFound):
            return render(request, "404.html", status=404)
        if isinstance(exception, StorageFull):  # the upload's transaction is rolled back by now
            storage_full_report(actor=getattr(request, "user", None), error=exception)
        text = _message(exception)
        if request.method in SAFE_METHODS:
            if isinstance(exception, PermissionDenied):
                return render(request, "403.html", status=403)
            return render(request, "400.html", {"message": text}, status=400)
        messages.error(request, text)
        return HttpResponseRedirect(back_url(request))
