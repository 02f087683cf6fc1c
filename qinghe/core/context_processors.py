from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .navigation import menu_for, menu_groups_for


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None:
        return {"menu": [], "menu_groups": []}
    return {"menu": menu_for(user), "menu_groups": menu_groups_for(user)}
