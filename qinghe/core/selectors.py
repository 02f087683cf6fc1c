from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.urls import reverse

from .models import AuditLog
from .navigation import menu_for

if TYPE_CHECKING:
    from qinghe.accounts.models import User


def audit_list(
    *, viewer: User, action: str = "", actor: str = "", target_type: str = ""
) -> QuerySet[AuditLog]:
    qs = AuditLog.objects.all()
    if action:
        qs = qs.filter(action=action)
    if actor:
        qs = qs.filter(actor_label__icontains=actor)
    if target_type:
        qs = qs.filter(target_type=target_type)
    return qs.order_by("-created_at", "-id")


def dashboard_cards(*, viewer: User) -> list[dict[str, str]]:
    """The entries of the viewer's menu, as cards on the dashboard."""
    cards = []
    for item in menu_for(viewer):
        if item.url_name == "core:dashboard":
            continue
        cards.append({"title": item.label, "url": reverse(item.url_name), "text": item.hint})
    return cards
