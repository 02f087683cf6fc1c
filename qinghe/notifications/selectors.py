"""Reads of the outbox: a user's inbox, delivery figures per campaign."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from .models import Channel, OutboxMessage, Preference, Unsubscription


def inbox_list(*, user: Any) -> QuerySet[OutboxMessage]:
    return OutboxMessage.objects.filter(user=user, channel=Channel.INBOX).order_by(
        "-created_at", "-id"
    )


def preference_get(*, user: Any) -> Preference:
    return Preference.objects.filter(user=user).first() or Preference(user=user)


def unsubscriptions_for(*, user: Any) -> QuerySet[Unsubscription]:
    return Unsubscription.objects.filter(user=user).order_by("channel", "category")


def delivery_figures(*, campaign_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per campaign: queued (incl. sending), sent, failed, cancelled, opened, unsubscribed."""
    S = OutboxMessage.State
    rows = (
        OutboxMessage.objects.filter(campaign_id__in=campaign_ids)
        .values("campaign_id")
        .annotate(
            total=Count("id"),
            queued=Count("id", filter=Q(state__in=[S.QUEUED, S.SENDING])),
            sent=Count("id", filter=Q(state=S.SENT)),
            failed=Count("id", filter=Q(state=S.FAILED)),
            cancelled=Count("id", filter=Q(state=S.CANCELLED)),
            opened=Count("id", filter=Q(opened_at__isnull=False)),
        )
    )
    figures = {
        row["campaign_id"]: {k: v for k, v in row.items() if k != "campaign_id"} for row in rows
    }
    for campaign_id in campaign_ids:
        figures.setdefault(
            campaign_id,
            {"total": 0, "queued": 0, "sent": 0, "failed": 0, "cancelled": 0, "opened": 0},
        )
    return figures
