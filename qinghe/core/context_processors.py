from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .navigation import menus_for


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None:
        return {"menu": [], "menu_groups": [], "inbox_unread": 0}
    menu, groups = menus_for(user)
    return {
        "menu": menu,
        "menu_groups": groups,
        "inbox_unread": lambda: inbox_unread(request),
    }


def inbox_unread(request: HttpRequest) -> int:
    """The unread badge of 我的消息: only when a template shows it, once per request (kept on
    the request), and kept between requests under the user's inbox version
    (core/fragments.py: every message queued, opened or deleted gives it a new token), so a
    page reads the COUNT only after the user's inbox changed."""
    cached: int | None = getattr(request, "_inbox_unread", None)
    if cached is not None:
        return cached
    user = getattr(request, "user", None)
    count = 0
    if user is not None and user.is_authenticated:
        from qinghe.core import fragments
        from qinghe.notifications.selectors import inbox_unread_count

        count = fragments.kept(
            "inbox-unread",
            (fragments.INBOX, fragments.inbox_of(user.pk)),
            (user.pk,),
            lambda: inbox_unread_count(user=user),
            cache_alias="badges",
        )
    request._inbox_unread = count  # type: ignore[attr-defined]
    return count
