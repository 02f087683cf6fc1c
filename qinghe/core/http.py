"""The request type of pages and API handlers that only signed-in users reach.

``AccessPolicyMiddleware`` (qinghe.core.policies) lets an anonymous visitor through only to the
routes marked PUBLIC, and the API's default ``auth=django_auth`` refuses one, so behind every
other route ``request.user`` is a ``User``, never ``AnonymousUser``. Annotating such a view's
request with ``AuthedRequest`` says so to mypy (the django-stubs pattern). Only the few PUBLIC
routes take a plain ``HttpRequest``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from qinghe.accounts.models import User


class AuthedRequest(HttpRequest):
    """For type checking only: Django builds a plain ``HttpRequest`` at run time."""

    user: User  # type: ignore[assignment]  # narrower than HttpRequest's User | AnonymousUser, which the route policy guarantees
