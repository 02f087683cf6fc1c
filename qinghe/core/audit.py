"""Writing the audit trail. Callers pass what happened; this fills in who, from where, when."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, models
from django.utils import timezone

from .context import current
from .masking import scrub_text
from .models import AuditLog

if TYPE_CHECKING:
    from qinghe.accounts.models import User


def audit_record(
    *,
    action: str,
    actor: User | None = None,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str | int = "",
    summary: str = "",
    reason: str = "",
    count: int = 1,
    data: dict[str, Any] | None = None,
) -> AuditLog:
    """One audit row. The actor defaults to the signed-in user of the request being served,
    and the address is always that request's client (``qinghe.core.context``)."""
    context = current()
    if actor is None and context is not None:
        actor = context.user
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or str(target.pk)
    return AuditLog.objects.create(
        actor=actor if actor is not None and getattr(actor, "pk", None) else None,
        actor_label=getattr(actor, "username", "") if actor is not None else "",
        actor_role=getattr(actor, "role", "") if actor is not None else "",
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        summary=scrub_text(summary)[:500],
        reason=scrub_text(reason)[:300],
        count=count,
        ip_address=context.ip if context is not None else None,
        data=data or {},
    )


def audit_purge_expired(*, now: Any = None) -> int:
    """Deletes entries older than AUDIT_RETENTION_DAYS (never fewer than 183 days)."""
    days = max(int(settings.AUDIT_RETENTION_DAYS), 183)
    cutoff = (now or timezone.now()) - timedelta(days=days)
    table = AuditLog._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE created_at < %s", [cutoff])  # noqa: S608
        return cursor.rowcount
