"""Who is asking and from where, for the code a request runs (the audit writer above all),
without threading the request through every service signature.

``RequestContextMiddleware`` opens the context for each request (after authentication, so the
user is known); management commands, tasks and tests run outside any request and get None,
or open one with ``request_context(...)`` where they act for someone. A ``ContextVar`` keeps
each request's context to its own thread or asyncio task."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse

from .network import client_ip

if TYPE_CHECKING:
    from qinghe.accounts.models import User


@dataclass(frozen=True)
class RequestContext:
    ip: str | None
    user: User | None


_current: ContextVar[RequestContext | None] = ContextVar("qinghe_request", default=None)


def current() -> RequestContext | None:
    """The context of the request being served, or None outside one."""
    return _current.get()


@contextmanager
def request_context(*, ip: str | None, user: User | None) -> Iterator[RequestContext]:
    context = RequestContext(ip=ip, user=user)
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def _signed_in(request: HttpRequest) -> User | None:
    user: Any = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with request_context(ip=client_ip(request), user=_signed_in(request)):
            return self.get_response(request)
