"""Reads of the outbox: a user's inbox, delivery figures per campaign."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Count, Prefetch, Q, QuerySet

from .models import (
    Channel,
    DeliveryAttempt,
    OutboxMessage,
    Preference,
    Unsubscription,
    WechatBinding,
)

if TYPE_CHECKING:
    from qinghe.accounts.models import User


def inbox_list(*, user: User, unread: bool = False) -> QuerySet[OutboxMessage]:
    qs = OutboxMessage.objects.filter(user=user, channel=Channel.INBOX)
    if unread:
        qs = qs.filter(opened_at__isnull=True)
    return qs.order_by("-created_at", "-id")


def inbox_get(*, user: User, message_id: int) -> OutboxMessage:
    """One of the user's own inbox messages; anyone else's is NotFound."""
    from qinghe.core.errors import NotFound

    message = inbox_list(user=user).filter(pk=message_id).first()
    if message is None:
        raise NotFound()
    return message


def inbox_unread_count(*, user: User) -> int:
    """The menu's badge: one COUNT over the (user, channel, created_at) index."""
    return OutboxMessage.objects.filter(
        user=user, channel=Channel.INBOX, opened_at__isnull=True
    ).count()


def message_link(message: OutboxMessage) -> str:
    """The page the message is about (``data["url"]``), only when it is a path of this site."""
    url = (message.data or {}).get("url", "")
    if isinstance(url, str) and url.startswith("/") and not url.startswith("//"):
        return url
    return ""


def preference_get(*, user: User) -> Preference:
    return Preference.objects.filter(user=user).first() or Preference(user=user)


def wechat_bound(*, user: User) -> bool:
    return WechatBinding.objects.filter(user=user).exists()


def unsubscriptions_for(*, user: User) -> QuerySet[Unsubscription]:
    return Unsubscription.objects.filter(user=user).order_by("channel", "category")


def delivery_figures(*, campaign_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per campaign, in one aggregate query over the outbox: queued (incl. sending and awaiting
    a person's decision), sent, failed, cancelled, opened; and for the campaign's status:
    pending (queued or sending: the worker still has them), untouched (queued, never tried)
    and unknown (handed over, outcome unknown: 待人工确认, counted as undelivered)."""
    S = OutboxMessage.State
    rows = (
        OutboxMessage.objects.filter(campaign_id__in=campaign_ids)
        .values("campaign_id")
        .annotate(
            total=Count("id"),
            queued=Count("id", filter=Q(state__in=[S.QUEUED, S.SENDING, S.UNKNOWN])),
            sent=Count("id", filter=Q(state=S.SENT)),
            failed=Count("id", filter=Q(state=S.FAILED)),
            cancelled=Count("id", filter=Q(state=S.CANCELLED)),
            opened=Count("id", filter=Q(opened_at__isnull=False)),
            pending=Count("id", filter=Q(state__in=[S.QUEUED, S.SENDING])),
            untouched=Count("id", filter=Q(state=S.QUEUED, attempts=0)),
            unknown=Count("id", filter=Q(state=S.UNKNOWN)),
        )
    )
    figures: dict[int, dict[str, int]] = {
        row["campaign_id"]: {
            "total": row["total"],
            "queued": row["queued"],
            "sent": row["sent"],
            "failed": row["failed"],
            "cancelled": row["cancelled"],
            "opened": row["opened"],
            "pending": row["pending"],
            "untouched": row["untouched"],
            "unknown": row["unknown"],
        }
        for row in rows
    }
    for campaign_id in campaign_ids:
        figures.setdefault(
            campaign_id,
            dict.fromkeys(
                (
                    "total",
                    "queued",
                    "sent",
                    "failed",
                    "cancelled",
                    "opened",
                    "pending",
                    "untouched",
                    "unknown",
                ),
                0,
            ),
        )
    return figures


def undelivered_list() -> QuerySet[OutboxMessage]:
    """Messages whose hand-over outcome nobody knows (system administrators only, by policy),
    each with its attempts from the delivery ledger."""
    return (
        OutboxMessage.objects.filter(state=OutboxMessage.State.UNKNOWN)
        .select_related("user")
        .prefetch_related(
            Prefetch("delivery_attempts", queryset=DeliveryAttempt.objects.order_by("id"))
        )
        .order_by("created_at", "id")
    )
