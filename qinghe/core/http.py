"""Request types for views. Almost every route requires a signed-in user
(``qinghe.core.policies``: ``RoutePolicyMiddleware`` refuses anyone else before the view runs),
so such views take an ``AuthedRequest``, whose ``user`` is the project's ``User`` and never
``AnonymousUser``. Only the few ``PUBLIC`` routes take a plain ``HttpRequest``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from qinghe.accounts.models import User


class AuthedRequest(HttpRequest):
    """For type checking only: Django builds a plain ``HttpRequest`` at run time."""

    user: User  # type: ignore[assignment]  # narrower than HttpRequest's User | AnonymousUser, which the route policy guarantees
