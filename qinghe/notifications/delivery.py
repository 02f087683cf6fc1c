"""The delivery worker's work: claim due messages, hand each to its provider at most once,
record the outcome as soon as the provider answers.

Aliyun's SendSms does not de-duplicate on our key, so "send again with the same key" is not
safe; exactly-once rests on four rules:

1. Claiming sets ``state=sending``, a lease (``claimed_until``) and a fresh ``lease_token``
   that only this claim knows. A claim re-checks that the row is due in its UPDATE, so two
   workers never hold the same token-row pair. On PostgreSQL the claim is
   ``SELECT ... FOR UPDATE SKIP LOCKED``; on SQLite it runs in an IMMEDIATE transaction.
2. Before each provider call the worker extends the row's lease by a conditional UPDATE on
   its token, and in the same committed transaction writes a ``DeliveryAttempt`` row
   (``handing_over``). A worker whose lease was taken sends nothing.
3. The outcome is saved per message in its own short transaction the moment the provider
   answers: on the attempt always, on the message only while the lease token is still ours
   (otherwise the new holder settles the message from the ledger).
4. A message with an attempt but no outcome (the worker died between the call and the
   save, or is still in the call) is never sent blindly: once the attempt is older than
   NOTIFY_INFLIGHT_SECONDS (longer than any provider call can take) the provider is asked
   (``Adapter.query``); a channel that cannot be asked goes to ``unknown`` and a system
   administrator decides on /messages/undelivered/ (mark sent or resend, audited)."""

from __future__ import annotations

import datetime as dt
import http.client
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Field, Q
from django.utils import timezone

from qinghe.core.audit import audit_record
from qinghe.core.errors import ApplicationError
from qinghe.core.masking import scrub_text

from .channels import Adapter, PermanentError, StatusAnswer, TransientError, adapter_for
from .models import Channel, DeliveryAttempt, OutboxMessage
from .services import Audience, quiet_until

if TYPE_CHECKING:
    from qinghe.accounts.models import User

logger = logging.getLogger(__name__)

Outcome = DeliveryAttempt.Outcome
State = OutboxMessage.State


def backoff(attempts: int) -> dt.timedelta:
    base = int(getattr(settings, "NOTIFY_RETRY_BASE_SECONDS", 30))
    cap = int(getattr(settings, "NOTIFY_RETRY_CAP_SECONDS", 3600))
    return dt.timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), cap))


def inflight_horizon() -> dt.timedelta:
    """How long a provider call can possibly last (HTTP timeout, retries, margin): an
    attempt younger than this may still be under way in a live worker."""
    return dt.timedelta(seconds=float(getattr(settings, "NOTIFY_INFLIGHT_SECONDS", 120)))


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


@dataclass
class Claim:
    """Message ids held under one lease token."""

    ids: list[int]
    token: str
    lease_seconds: int
    worker: str = field(default_factory=worker_name)


def claim_batch(
    *, size: int, lease_seconds: int, now: dt.datetime | None = None, worker: str = ""
) -> Claim:
    now = now or timezone.now()
    token = secrets.token_hex(16)
    due = Q(state=State.QUEUED, next_attempt_at__lte=now) | Q(
        state=State.SENDING, claimed_until__lt=now
    )
    with transaction.atomic():
        qs = OutboxMessage.objects.filter(due).exclude(channel=Channel.INBOX)
        qs = qs.order_by("next_attempt_at", "id")
        if connection.vendor == "postgresql":
            qs = qs.select_for_update(skip_locked=True)
        ids = list(qs.values_list("id", flat=True)[:size])
        if ids:
            # ``due`` again: a row another worker claimed meanwhile is not taken over.
            OutboxMessage.objects.filter(due, pk__in=ids).update(
                state=State.SENDING,
                claimed_until=now + dt.timedelta(seconds=lease_seconds),
                lease_token=token,
                attempts=F("attempts") + 1,
            )
            mine = set(
                OutboxMessage.objects.filter(pk__in=ids, lease_token=token).values_list(
                    "id", flat=True
                )
            )
            ids = [pk for pk in ids if pk in mine]
    return Claim(ids=ids, token=token, lease_seconds=lease_seconds, worker=worker or worker_name())


@dataclass
class PassResult:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    deferred: int = 0
    unknown: int = 0  # left for a person to decide
    lost: int = 0  # the lease passed to another worker; it settles the message
    errors: list[str] = field(default_factory=list)

    def add(self, other: PassResult) -> None:
        for name in ("claimed", "sent", "retried", "failed", "cancelled", "deferred"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.unknown += other.unknown
        self.lost += other.lost


@dataclass
class _Batch:
    claim: Claim
    adapters: Mapping[str, Adapter | None]
    max_attempts: int
    lock: threading.Lock = field(default_factory=threading.Lock)
    last_heartbeat: float = field(default_factory=time.monotonic)

    def lease_end(self) -> dt.datetime:
        return timezone.now() + dt.timedelta(seconds=self.claim.lease_seconds)

    def mine(self, message: OutboxMessage) -> Any:
        return OutboxMessage.objects.filter(
            pk=message.pk, lease_token=self.claim.token, state=State.SENDING
        )

    def heartbeat(self) -> None:
        """Extends the lease of every row still held by this claim, a few times per lease,
        so a long batch does not lose the rows it has not reached yet."""
        with self.lock:
            if time.monotonic() - self.last_heartbeat < self.claim.lease_seconds / 3:
                return
            self.last_heartbeat = time.monotonic()
        OutboxMessage.objects.filter(lease_token=self.claim.token, state=State.SENDING).update(
            claimed_until=self.lease_end()
        )


def deliver_batch(claim: Claim, *, pool: ThreadPoolExecutor | None = None) -> PassResult:
    result = PassResult(claimed=len(claim.ids))
    if not claim.ids:
        return result
    messages = list(
        OutboxMessage.objects.filter(pk__in=claim.ids, lease_token=claim.token).select_related(
            "user", "user__wechat_binding"
        )
    )
    result.lost = len(claim.ids) - len(messages)  # taken by another worker meanwhile
    now = timezone.now()
    audience = Audience.load(sorted({m.user_id for m in messages}))
    sendable: list[OutboxMessage] = []
    changed: list[OutboxMessage] = []
    for message in messages:
        if (
            not audience.allows(message.user_id, message.channel, message.category)
            or not message.user.is_active
        ):
            message.state = State.CANCELLED
            message.last_error = "未获授权或已退订"
            result.cancelled += 1
            changed.append(message)
            continue
        wait = quiet_until(audience.prefs.get(message.user_id), now)
        if wait is not None:
            message.state = State.QUEUED
            message.next_attempt_at = wait
            message.attempts = max(message.attempts - 1, 0)
            result.deferred += 1
            changed.append(message)
            continue
        sendable.append(message)
    _save_unsent(changed, token=claim.token)
    adapters: dict[str, Adapter | None] = {}
    for channel in {m.channel for m in sendable}:
        try:
            adapters[channel] = adapter_for(channel)
        except PermanentError:
            adapters[channel] = None
    batch = _Batch(
        claim=claim,
        adapters=adapters,
        max_attempts=int(getattr(settings, "NOTIFY_MAX_ATTEMPTS", 8)),
    )
    runner = pool.map if pool is not None else map
    for outcome in runner(lambda m: _deliver_one(batch, m), sendable):
        setattr(result, outcome, getattr(result, outcome) + 1)
    if result.failed or result.retried or result.unknown or result.lost:
        logger.info(
            "outbox pass: %s sent, %s retry, %s failed, %s unknown, %s lease lost",
            result.sent,
            result.retried,
            result.failed,
            result.unknown,
            result.lost,
        )
    return result


UNSENT_FIELDS = ("state", "last_error", "next_attempt_at", "claimed_until", "attempts")


def _save_unsent(messages: list[OutboxMessage], *, token: str) -> None:
    """Cancelled and deferred rows, in one prepared UPDATE, each only while our lease holds
    (bulk_update's CASE chains cost ~2 ms a row to build)."""
    if not messages:
        return
    for message in messages:
        message.claimed_until = None
    meta = OutboxMessage._meta
    qn = connection.ops.quote_name
    fields = [cast("Field[Any, Any]", meta.get_field(name)) for name in UNSENT_FIELDS]
    columns = ", ".join(f"{qn(str(f.column))} = %s" for f in fields)
    token_column = qn("lease_token")
    table, pk_column = qn(meta.db_table), qn("id")
    sql = (
        f"UPDATE {table} SET {columns}, {token_column} = '' "  # noqa: S608
        f"WHERE {pk_column} = %s AND {token_column} = %s"
    )
    params = [
        [f.get_db_prep_save(getattr(m, f.attname), connection) for f in fields] + [m.pk, token]
        for m in messages
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _deliver_one(batch: _Batch, message: OutboxMessage) -> str:
    """One message: settle it from the ledger, or resolve an open attempt, or hand it over.
    Returns the PassResult counter to increase."""
    batch.heartbeat()
    adapter = batch.adapters.get(message.channel)
    for _ in range(2):  # an open attempt found "not received" is followed by one send
        step, attempt = _begin(batch, message)
        if step == "lost":
            return "lost"
        if step == "settled":
            return _settle_from_ledger(batch, message, attempt)
        if step == "resolve":
            verdict = _resolve(batch, message, attempt, adapter)
            if verdict != "send":
                return verdict
            continue
        return _hand_over(batch, message, attempt, adapter)
    return "lost"  # pragma: no cover - _resolve answers "send" at most once per attempt


def _begin(batch: _Batch, message: OutboxMessage) -> tuple[str, DeliveryAttempt]:
    """Commits, in one transaction: our lease extended (or "lost"), then either the ledger's
    verdict on earlier attempts or a new ``handing_over`` attempt."""
    with transaction.atomic():
        if not batch.mine(message).update(claimed_until=batch.lease_end()):
            return "lost", DeliveryAttempt()
        earlier = list(
            DeliveryAttempt.objects.filter(
                message_id=message.pk,
                outcome__in=[Outcome.SENT, Outcome.FAILED, Outcome.HANDING_OVER, Outcome.UNKNOWN],
            ).order_by("id")
        )
        for attempt in earlier:
            if attempt.outcome == Outcome.SENT:
                return "settled", attempt
        if earlier and earlier[-1].outcome in (Outcome.HANDING_OVER, Outcome.UNKNOWN):
            return "resolve", earlier[-1]
        if earlier and earlier[-1].outcome == Outcome.FAILED and earlier[-1].finished_at:
            # A permanent refusal whose save was lost: not sent again, it would be refused.
            return "settled", earlier[-1]
        attempt = DeliveryAttempt.objects.create(
            message=message,
            idempotency_key=message.idempotency_key,
            channel=message.channel,
            worker=batch.claim.worker,
            lease_token=batch.claim.token,
        )
    return "send", attempt


# Channels whose provider can be asked what became of a send (``Adapter.query``).
QUERYABLE_CHANNELS = frozenset({Channel.SMS})


def _no_answer(exc: TransientError) -> bool:
    """A network failure (timeout, reset) may come after the provider took the request."""
    return isinstance(exc.__cause__, (OSError, http.client.HTTPException))


def _hand_over(
    batch: _Batch, message: OutboxMessage, attempt: DeliveryAttempt, adapter: Adapter | None
) -> str:
    provider_id = ""
    try:
        if adapter is None:
            raise PermanentError(f"渠道 {message.channel} 无需投递")
        provider_id = adapter.send(message)
        outcome, detail = Outcome.SENT, ""
    except TransientError as exc:
        if message.channel in QUERYABLE_CHANNELS and _no_answer(exc):
            return _no_answer_received(batch, message, attempt, scrub_text(str(exc))[:500])
        outcome, detail = Outcome.RETRY, str(exc)
    except PermanentError as exc:
        outcome, detail = Outcome.FAILED, str(exc)
    except Exception as exc:  # noqa: BLE001 - a bug in one adapter must not stop the worker
        outcome, detail = Outcome.RETRY, exc.__class__.__name__
    detail = scrub_text(detail)[:500]
    now = timezone.now()
    if outcome == Outcome.SENT:
        fields: dict[str, Any] = {
            "state": State.SENT,
            "sent_at": now,
            "provider_id": provider_id[:100],
            "last_error": "",
        }
        label = "sent"
    elif outcome == Outcome.RETRY and message.attempts < batch.max_attempts:
        fields = {
            "state": State.QUEUED,
            "next_attempt_at": now + backoff(message.attempts),
            "last_error": detail,
        }
        label = "retried"
    else:
        fields = {"state": State.FAILED, "last_error": detail}
        label = "failed"
    with transaction.atomic():
        # The attempt is ours: its outcome is written even when the lease has passed on,
        # so whoever holds the message now settles it from the ledger instead of resending.
        DeliveryAttempt.objects.filter(pk=attempt.pk).update(
            outcome=outcome, finished_at=now, provider_id=provider_id[:100], detail=detail
        )
        saved = batch.mine(message).update(**fields, claimed_until=None, lease_token="")
    return label if saved else "lost"


def _no_answer_received(
    batch: _Batch, message: OutboxMessage, attempt: DeliveryAttempt, detail: str
) -> str:
    """The attempt stays open (handing over): once it is past the in-flight horizon the
    provider is asked, instead of sending the message again on a guess."""
    with transaction.atomic():
        DeliveryAttempt.objects.filter(pk=attempt.pk).update(detail=f"未收到应答：{detail}"[:500])
        saved = batch.mine(message).update(
            state=State.QUEUED,
            next_attempt_at=timezone.now() + max(backoff(message.attempts), inflight_horizon()),
            last_error=detail,
            claimed_until=None,
            lease_token="",
        )
    return "retried" if saved else "lost"


def _settle_from_ledger(batch: _Batch, message: OutboxMessage, attempt: DeliveryAttempt) -> str:
    if attempt.outcome == Outcome.SENT:
        fields: dict[str, Any] = {
            "state": State.SENT,
            "sent_at": attempt.finished_at or timezone.now(),
            "provider_id": attempt.provider_id,
            "last_error": "",
        }
        label = "sent"
    else:
        fields = {"state": State.FAILED, "last_error": attempt.detail}
        label = "failed"
    saved = batch.mine(message).update(**fields, claimed_until=None, lease_token="")
    return label if saved else "lost"


def _resolve(
    batch: _Batch, message: OutboxMessage, attempt: DeliveryAttempt, adapter: Adapter | None
) -> str:
    """An attempt without an outcome. Returns "send" when the provider never got it (the
    attempt is closed as not received), else the PassResult counter."""
    now = timezone.now()
    if attempt.outcome == Outcome.HANDING_OVER and now - attempt.started_at < inflight_horizon():
        # Perhaps still in another worker's call: look again when it cannot be any more.
        return _release(batch, message, until=attempt.started_at + inflight_horizon())
    try:
        answer = (
            adapter.query(message, since=attempt.started_at)
            if adapter is not None
            else StatusAnswer("not_received", detail="渠道无需投递")
        )
    except TransientError as exc:
        logger.info("outbox status query failed: %s", scrub_text(str(exc)))
        return _release(batch, message, until=now + backoff(1))
    with transaction.atomic():
        if answer.state == "not_received":
            DeliveryAttempt.objects.filter(pk=attempt.pk, outcome=attempt.outcome).update(
                outcome=Outcome.NOT_RECEIVED,
                finished_at=now,
                detail=("服务商状态查询：未收到 " + answer.detail).strip()[:500],
            )
            return "send"
        if answer.state == "delivered":
            outcome, detail, label = Outcome.SENT, "服务商状态查询：已送达", "sent"
            fields: dict[str, Any] = {
                "state": State.SENT,
                "sent_at": now,
                "provider_id": answer.provider_id[:100],
                "last_error": "",
            }
        elif answer.state == "failed":
            outcome, detail, label = Outcome.FAILED, f"服务商状态查询：{answer.detail}", "failed"
            fields = {"state": State.FAILED, "last_error": answer.detail[:500]}
        else:
            outcome, detail, label = Outcome.UNKNOWN, answer.detail, "unknown"
            fields = {"state": State.UNKNOWN, "last_error": "投递结果未知，需人工确认"}
        if not batch.mine(message).update(**fields, claimed_until=None, lease_token=""):
            return "lost"
        DeliveryAttempt.objects.filter(pk=attempt.pk, outcome=attempt.outcome).update(
            outcome=outcome,
            finished_at=now,
            provider_id=answer.provider_id[:100],
            detail=detail[:500],
        )
    return label


def _release(batch: _Batch, message: OutboxMessage, *, until: dt.datetime) -> str:
    batch.mine(message).update(
        state=State.QUEUED,
        next_attempt_at=until,
        claimed_until=None,
        lease_token="",
        attempts=F("attempts") - 1,
    )
    return "deferred"


def deliver_pending(
    *, batch_size: int = 200, lease_seconds: int = 60, threads: int = 1, max_batches: int = 0
) -> PassResult:
    """Delivers until nothing is due (or ``max_batches``). Tests call this directly."""
    total = PassResult()
    pool = ThreadPoolExecutor(threads) if threads > 1 else None
    try:
        batches = 0
        while True:
            claim = claim_batch(size=batch_size, lease_seconds=lease_seconds)
            if not claim.ids:
                break
            total.add(deliver_batch(claim, pool=pool))
            batches += 1
            if max_batches and batches >= max_batches:
                break
    finally:
        if pool is not None:
            pool.shutdown()
    return total


# --- a person decides what a provider could not tell us --------------------------------


def outbox_resolve_unknown(
    *,
    actor: User,
    message_id: int,
    decision: str,
    reason: str,
) -> OutboxMessage:
    """``decision`` is "sent" (the recipient got it: close it) or "resend" (they did not:
    queue it again; the open attempt is closed as not received). Audited with the reason."""
    if decision not in ("sent", "resend"):
        raise ApplicationError("未知的处理方式")
    reason = reason.strip()
    if not reason:
        raise ApplicationError("请填写处理依据")
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update()
            .filter(pk=message_id, state=State.UNKNOWN)
            .first()
        )
        if message is None:
            raise ApplicationError("该消息不在待人工确认状态")
        now = timezone.now()
        open_attempts = DeliveryAttempt.objects.filter(
            message=message, outcome__in=[Outcome.UNKNOWN, Outcome.HANDING_OVER]
        )
        label = getattr(actor, "username", "")
        if decision == "sent":
            open_attempts.update(
                outcome=Outcome.SENT, finished_at=now, detail=f"人工确认已送达（{label}）"
            )
            message.state = State.SENT
            message.sent_at = now
            message.last_error = ""
            summary = "人工确认消息已送达"
        else:
            open_attempts.update(
                outcome=Outcome.NOT_RECEIVED, finished_at=now, detail=f"人工确认未送达（{label}）"
            )
            message.state = State.QUEUED
            message.next_attempt_at = now
            message.last_error = ""
            summary = "人工确认消息未送达，重新发送"
        message.claimed_until = None
        message.lease_token = ""
        message.save(
            update_fields=[
                "state",
                "sent_at",
                "next_attempt_at",
                "last_error",
                "claimed_until",
                "lease_token",
            ]
        )
        audit_record(
            action="transition",
            actor=actor,
            target=message,
            summary=f"{summary}：{message.channel} {message.idempotency_key}",
            reason=reason,
            data={"decision": decision, "state": message.state},
        )
    return message
