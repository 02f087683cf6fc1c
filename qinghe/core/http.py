"""The request type of pages and API handlers that only signed-in users reach.

``AccessPolicyMiddleware`` (qinghe.core.policies) lets an anonymous visitor through only to the
routes marked PUBLIC, and the API's default ``auth=django_auth`` refuses one, so behind every
other route ``request.user`` is a ``User``. Annotating such a view's request with this type says
so to mypy (the django-stubs pattern), instead of ``Any`` parameters down the line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from qinghe.accounts.models import User


class AuthenticatedHttpRequest(HttpRequest):
    user: User
