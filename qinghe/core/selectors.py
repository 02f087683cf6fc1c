from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.utils import timezone

from .models import AuditLog

if TYPE_CHECKING:
    from qinghe.accounts.models import User


def parse_day(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def audit_list(
    *,
    viewer: User,
    action: str = "",
    actor: str = "",
    target_type: str = "",
    day: dt.date | None = None,
) -> QuerySet[AuditLog]:
    """``day``: entries of that local day only."""
    qs = AuditLog.objects.all()
    if day is not None:
        start = dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())
        qs = qs.filter(created_at__gte=start, created_at__lt=start + dt.timedelta(days=1))
    if action:
        qs = qs.filter(action=action)
    if actor:
        qs = qs.filter(actor_label__icontains=actor)
    if target_type:
        qs = qs.filter(target_type=target_type)
    return qs.order_by("-created_at", "-id")
