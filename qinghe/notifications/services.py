"""Writing messages to the outbox and the user's choices about them.

``notify`` and ``notify_bulk`` only INSERT rows, inside whatever transaction the caller is in:
if the caller's change rolls back, the messages vanish with it and nothing is ever sent."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.core import signing
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from qinghe.core.bulk import insert_prepared, prepared_datetime
from qinghe.core.errors import ApplicationError

from .models import (
    CONSENT_LIAISON_CATEGORIES,
    Channel,
    OutboxMessage,
    Preference,
    Unsubscription,
    WechatBinding,
)

if TYPE_CHECKING:
    from qinghe.accounts.models import User

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
UNSUBSCRIBE_SALT = "qinghe.notifications.unsubscribe"


def make_key(*parts: Any) -> str:
    """A stable idempotency key from what makes the message unique (event, user, channel)."""
    raw = "|".join(str(p) for p in parts)
    return hashlib.sha256(raw.encode()).hexdigest()[:40]


def quiet_until(pref: Preference | None, now: dt.datetime) -> dt.datetime | None:
    """The end of the user's quiet hours if ``now`` falls inside them, else None."""
    if (
        pref is None
        or pref.quiet_start is None
        or pref.quiet_end is None
        or pref.quiet_start == pref.quiet_end
    ):
        return None
    local = now.astimezone(LOCAL_TZ)
    t = local.time()
    start, end = pref.quiet_start, pref.quiet_end
    inside = (start <= t < end) if start < end else (t >= start or t < end)
    if not inside:
        return None
    end_day = local.date() if t < end else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(end_day, end, tzinfo=LOCAL_TZ)


@dataclass
class Audience:
    """What decides who gets what, loaded for many users in a handful of queries."""

    prefs: dict[int, Preference]
    unsubscribed: set[tuple[int, str, str]]
    no_liaison_consent: set[int]
    # Users with a WeChat binding: the only ones the WeChat channel reaches.
    wechat_bound: set[int]

    @classmethod
    def load(cls, user_ids: Sequence[int]) -> Audience:
        from qinghe.talents.consent import consent_granted_by_talent
        from qinghe.talents.models import Consent, Talent

        prefs: dict[int, Preference] = {}
        unsub: set[tuple[int, str, str]] = set()
        talent_of: dict[int, int] = {}
        bound: set[int] = set()
        for chunk_start in range(0, len(user_ids), 5000):
            chunk = list(user_ids[chunk_start : chunk_start + 5000])
            prefs.update({p.user_id: p for p in Preference.objects.filter(user_id__in=chunk)})
            unsub.update(
                Unsubscription.objects.filter(user_id__in=chunk).values_list(
                    "user_id", "channel", "category"
                )
            )
            pairs = Talent.objects.filter(user_id__in=chunk, merged_into__isnull=True).values_list(
                "pk", "user_id"
            )
            talent_of.update({talent_id: user_id for talent_id, user_id in pairs})
            bound.update(
                WechatBinding.objects.filter(user_id__in=chunk).values_list("user_id", flat=True)
            )
        granted = consent_granted_by_talent(talent_of, Consent.Purpose.LIAISON)
        # Users without a talent record (staff) are not students: consent does not apply.
        return cls(
            prefs=prefs,
            unsubscribed=unsub,
            no_liaison_consent={
                user_id
                for talent_id, user_id in talent_of.items()
                if not granted.get(talent_id, False)
            },
            wechat_bound=bound,
        )

    def allows(self, user_id: int, channel: str, category: str) -> bool:
        if channel == Channel.WECHAT and user_id not in self.wechat_bound:
            return False
        if category in CONSENT_LIAISON_CATEGORIES and user_id in self.no_liaison_consent:
            return False
        pref = self.prefs.get(user_id)
        if (
            channel != Channel.INBOX
            and pref is not None
            and channel in (pref.disabled_channels or [])
        ):
            return False
        if (user_id, channel, "") in self.unsubscribed or (
            user_id,
            channel,
            category,
        ) in self.unsubscribed:
            return False
        return True


def notify(
    *,
    user: User,
    channels: Iterable[str],
    category: str,
    subject: str,
    body: str,
    key: str,
    template: str = "",
    data: dict[str, Any] | None = None,
    campaign: Any = None,
) -> list[OutboxMessage]:
    """Queues one message per allowed channel, in the caller's transaction. Returns the rows
    written (none when consent or the user's preferences forbid every channel)."""
    return notify_bulk(
        user_ids=[user.pk],
        channels=channels,
        category=category,
        subject=subject,
        body=body,
        key=key,
        template=template,
        data=data,
        campaign=campaign,
    )


def notify_bulk(
    *,
    user_ids: Sequence[int],
    channels: Iterable[str],
    category: str,
    subject: str,
    body: str,
    key: str,
    template: str = "",
    data: dict[str, Any] | None = None,
    campaign: Any = None,
    batch_size: int = 5000,
) -> list[OutboxMessage]:
    """The same message to many users; ``key`` + user + channel is each row's idempotency key,
    so queueing the same event twice adds nothing (a conflicting key is skipped).

    Returns the rows (unsaved instances) for small audiences; for large ones (campaigns)
    use ``notify_bulk_count``, which writes the same rows without building model instances."""
    rows = _plan(user_ids=user_ids, channels=channels, category=category, key=key)
    messages = [
        OutboxMessage(
            idempotency_key=k,
            user_id=u,
            channel=ch,
            category=category,
            template=template,
            subject=subject[:200],
            body=body,
            data=data or {},
            state=state,
            sent_at=sent_at,
            next_attempt_at=due,
            created_at=created,
            campaign=campaign,
        )
        for (k, u, ch, state, sent_at, due, created) in rows
    ]
    for start in range(0, len(messages), batch_size):
        OutboxMessage.objects.bulk_create(
            messages[start : start + batch_size], ignore_conflicts=True
        )
    inboxes = {m.user_id for m in messages if m.channel == Channel.INBOX}
    _inbox_changed(inboxes)
    _push_inbox_changed(inboxes)
    return messages


def _inbox_changed(user_ids: set[int]) -> None:
    """New versions of these users' unread badges (core/fragments.py); for a large audience
    one version of every badge instead of one per recipient."""
    from qinghe.core import fragments

    if len(user_ids) > LIVE_PUSH_LIMIT:
        fragments.bump(fragments.INBOX)
    elif user_ids:
        fragments.bump(*(fragments.inbox_of(u) for u in sorted(user_ids)))


# Live badge pushes are for the messages of a person's day; a campaign to thousands
# (``notify_bulk_count``) does not fan out one push per recipient: their pages update on load.
LIVE_PUSH_LIMIT = 200


def _push_inbox_changed(user_ids: set[int]) -> None:
    """Tells the recipients' open pages, once the caller's transaction commits, that their
    unread count changed (``qinghe.notifications.consumers.InboxConsumer``)."""
    if not user_ids or len(user_ids) > LIVE_PUSH_LIMIT:
        return
    from qinghe.realtime.publish import publish_on_commit, user_group

    publish_on_commit([user_group(u) for u in sorted(user_ids)], {"type": "inbox.changed"})


def _plan(
    *, user_ids: Sequence[int], channels: Iterable[str], category: str, key: str
) -> list[tuple[Any, ...]]:
    channels = list(channels)
    audience = Audience.load(user_ids)
    now = timezone.now()
    rows: list[tuple[Any, ...]] = []
    for user_id in user_ids:
        due = quiet_until(audience.prefs.get(user_id), now) or now
        for channel in channels:
            if not audience.allows(user_id, channel, category):
                continue
            if channel == Channel.INBOX:
                # The inbox is the outbox row itself: delivered the moment it commits.
                rows.append(
                    (
                        f"{key}:{user_id}:{channel}",
                        user_id,
                        channel,
                        OutboxMessage.State.SENT.value,
                        now,
                        now,
                        now,
                    )
                )
            else:
                rows.append(
                    (
                        f"{key}:{user_id}:{channel}",
                        user_id,
                        channel,
                        OutboxMessage.State.QUEUED.value,
                        None,
                        due,
                        now,
                    )
                )
    return rows


def notify_bulk_count(
    *,
    user_ids: Sequence[int],
    channels: Iterable[str],
    category: str,
    subject: str,
    body: str,
    key: str,
    template: str = "",
    data: dict[str, Any] | None = None,
    campaign_id: int | None = None,
    batch_size: int = 5000,
) -> tuple[int, int]:
    """``notify_bulk`` for campaigns: one prepared INSERT ... ON CONFLICT DO NOTHING run for
    every row (no model instances; ``qinghe.core.bulk.insert_prepared``). Returns (rows
    planned, distinct recipients)."""
    from django.db import connection

    rows = _plan(user_ids=user_ids, channels=channels, category=category, key=key)

    def f(name: str) -> models.Field[Any, Any]:
        found = OutboxMessage._meta.get_field(name)
        assert isinstance(found, models.Field)
        return found

    fixed_names = (
        "category",
        "template",
        "subject",
        "body",
        "data",
        "attempts",
        "last_error",
        "provider_id",
        "campaign",
    )
    fixed = [
        f(name).get_db_prep_save(value, connection)
        for name, value in zip(
            fixed_names,
            (category, template, subject[:200], body, data or {}, 0, "", "", campaign_id),
            strict=True,
        )
    ]
    varying = (
        "idempotency_key",
        "user",
        "channel",
        "state",
        "sent_at",
        "next_attempt_at",
        "created_at",
    )
    stamp = prepared_datetime(f("created_at"))
    insert_prepared(
        OutboxMessage,
        [f(name) for name in varying + fixed_names],
        [
            [k, u, ch, state, stamp(sent), stamp(due), stamp(created), *fixed]
            for (k, u, ch, state, sent, due, created) in rows
        ],
        ignore_conflicts_on=[str(f("idempotency_key").column)],
        batch_size=batch_size,
    )
    _inbox_changed({r[1] for r in rows if r[2] == Channel.INBOX})
    return len(rows), len({r[1] for r in rows})


# ---- preferences and unsubscribing -------------------------------------------------------


@transaction.atomic
def preference_set(
    *,
    user: User,
    disabled_channels: Iterable[str],
    quiet_start: dt.time | None,
    quiet_end: dt.time | None,
) -> Preference:
    disabled = sorted({c for c in disabled_channels if c in Channel.values and c != Channel.INBOX})
    pref, _ = Preference.objects.select_for_update().get_or_create(user=user)
    pref.disabled_channels = disabled
    pref.quiet_start = quiet_start
    pref.quiet_end = quiet_end
    pref.save()
    return pref


def unsubscribe_token(*, user_id: int, channel: str, category: str = "") -> str:
    return signing.dumps(
        {"u": user_id, "c": channel, "k": category}, salt=UNSUBSCRIBE_SALT, compress=True
    )


def unsubscribe_by_token(*, token: str) -> Unsubscription:
    """One step, no sign-in: the signed token says who and what. Also cancels what is queued."""
    try:
        payload = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature as exc:
        raise ApplicationError("退订链接无效") from exc
    return unsubscribe(
        user_id=int(payload["u"]), channel=str(payload["c"]), category=str(payload.get("k", ""))
    )


@transaction.atomic
def unsubscribe(*, user_id: int, channel: str, category: str = "") -> Unsubscription:
    if channel not in Channel.values:
        raise ApplicationError("未知渠道")
    try:
        with transaction.atomic():
            row, _ = Unsubscription.objects.get_or_create(
                user_id=user_id, channel=channel, category=category
            )
    except IntegrityError:
        row = Unsubscription.objects.get(user_id=user_id, channel=channel, category=category)
    pending = OutboxMessage.objects.filter(
        user_id=user_id, channel=channel, state=OutboxMessage.State.QUEUED
    )
    if category:
        pending = pending.filter(category=category)
    pending.update(state=OutboxMessage.State.CANCELLED, last_error="用户已退订")
    return row


def resubscribe(*, user: User, channel: str) -> None:
    Unsubscription.objects.filter(user=user, channel=channel).delete()


def inbox_mark_opened(*, user: User, ids: Sequence[int]) -> int:
    """Marks the user's own unread inbox messages among ``ids`` read. Returns how many."""
    count = OutboxMessage.objects.filter(
        user=user, channel=Channel.INBOX, pk__in=list(ids), opened_at__isnull=True
    ).update(opened_at=timezone.now())
    if count:
        _inbox_changed({user.pk})
        _push_inbox_changed({user.pk})
    return count


def inbox_mark_all_read(*, user: Any) -> int:
    """全部标为已读: every unread inbox message of the user. Returns how many."""
    count = OutboxMessage.objects.filter(
        user=user, channel=Channel.INBOX, opened_at__isnull=True
    ).update(opened_at=timezone.now())
    if count:
        _inbox_changed({user.pk})
        _push_inbox_changed({user.pk})
    return count
