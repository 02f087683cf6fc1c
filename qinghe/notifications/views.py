"""The inbox, notification preferences, the one-step unsubscribe link, and the system
administrator's page for messages whose delivery outcome is unknown."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qinghe.core.errors import ApplicationError
from qinghe.core.http import AuthedRequest

from . import delivery, selectors, services
from .models import Category, Channel

if TYPE_CHECKING:
    from qinghe.accounts.models import User


@require_GET
def inbox(request: AuthedRequest) -> HttpResponse:
    """The list shows each message's subject and whether it was read; opening one (``message``)
    marks it read, 全部标为已读 (``mark_all_read``) all of them."""
    unread = request.GET.get("unread") == "1"
    page = Paginator(selectors.inbox_list(user=request.user, unread=unread), 30).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "notifications/inbox.html",
        {"page": page, "filter_note": "未读消息" if unread else ""},
    )


@require_GET
def message(request: AuthedRequest, pk: int) -> HttpResponse:
    """One of the user's messages (anyone else's is 404); opening it marks it read."""
    m = selectors.inbox_get(user=request.user, message_id=pk)
    if m.opened_at is None:
        services.inbox_mark_opened(user=request.user, ids=[m.pk])
    return render(
        request,
        "notifications/message.html",
        {"message": m, "link": selectors.message_link(m)},
    )


@require_POST
def mark_all_read(request: AuthedRequest) -> HttpResponse:
    count = services.inbox_mark_all_read(user=request.user)
    messages.success(request, f"已将 {count} 条消息标为已读" if count else "没有未读消息")
    return redirect("notifications:inbox")


def _parse_time(value: str) -> dt.time | None:
    try:
        return dt.time.fromisoformat(value) if value else None
    except ValueError:
        return None


def _channels_shown(user: User) -> list[str]:
    """The channels a user chooses among: WeChat only once they bound it (我的账号)."""
    bound = selectors.wechat_bound(user=user)
    return [c for c in Channel.values if c != Channel.INBOX and (c != Channel.WECHAT or bound)]


@require_http_methods(["GET", "POST"])
def preferences(request: AuthedRequest) -> HttpResponse:
    if request.method == "POST":
        if request.POST.get("resubscribe") in Channel.values:
            services.resubscribe(user=request.user, channel=request.POST["resubscribe"])
        else:
            # A channel the page did not show (WeChat before binding) keeps its setting.
            shown = _channels_shown(request.user)
            before = set(selectors.preference_get(user=request.user).disabled_channels or [])
            services.preference_set(
                user=request.user,
                disabled_channels=[
                    c
                    for c in Channel.values
                    if c != Channel.INBOX
                    and (request.POST.get(f"on_{c}") != "1" if c in shown else c in before)
                ],
                quiet_start=_parse_time(request.POST.get("quiet_start", "")),
                quiet_end=_parse_time(request.POST.get("quiet_end", "")),
            )
        messages.success(request, "通知设置已保存")
        return redirect("notifications:preferences")
    pref = selectors.preference_get(user=request.user)
    shown = _channels_shown(request.user)
    channels = [
        (c.value, c.label, c.value not in (pref.disabled_channels or []))
        for c in Channel
        if c in shown
    ]
    unsubs = [
        (u.channel, Channel(u.channel).label, Category(u.category).label if u.category else "全部")
        for u in selectors.unsubscriptions_for(user=request.user)
    ]
    return render(
        request,
        "notifications/preferences.html",
        {"pref": pref, "channels": channels, "unsubs": unsubs},
    )


# No sign-in and no CSRF token: the signed token in the link is the authority (and mail
# clients' one-click unsubscribe POSTs without a session, RFC 8058).
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    # Not left to DomainErrorMiddleware: a mail client's one-click POST has no page to be
    # redirected back to, so a bad link answers 400 with its own page on GET and POST alike.
    try:
        row = services.unsubscribe_by_token(token=token)
    except ApplicationError as exc:
        return render(request, "notifications/unsubscribe.html", {"error": exc.message}, status=400)
    label = Category(row.category).label if row.category else "全部"
    return render(
        request,
        "notifications/unsubscribe.html",
        {"channel": Channel(row.channel).label, "category": label},
    )


@require_GET
def undelivered(request: AuthedRequest) -> HttpResponse:
    """Messages handed to a provider that cannot be asked what became of them (system
    administrators only, see qinghe.core.policies)."""
    page = Paginator(selectors.undelivered_list(), 50).get_page(request.GET.get("page"))
    return render(request, "notifications/undelivered.html", {"page": page})


@require_POST
def undelivered_resolve(request: AuthedRequest, pk: int) -> HttpResponse:
    try:
        delivery.outbox_resolve_unknown(
            actor=request.user,
            message_id=pk,
            decision=request.POST.get("decision", ""),
            reason=request.POST.get("reason", ""),
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已处理")
    return redirect("notifications:undelivered")
