"""Claiming and running the periods of the schedule.

A scheduler ``tick`` looks at each job's latest due period (the latest scheduled time at or
before now) and claims it by INSERTing the run row with ON CONFLICT DO NOTHING: the unique
(job, scheduled_for) constraint lets exactly one scheduler win, on SQLite and PostgreSQL alike,
and a period that has a row is never claimed again. Periods that passed while no scheduler ran
are not replayed: only the latest one is run (counted in ``missed``). The winner calls the job
in its own process (not through the task queue, so that the record holds the real outcome and
figures) while a heartbeat thread extends its lease; a row still running after its lease ran
out is taken over by a conditional UPDATE on the old token (the dead worker's late write, if it
was only slow, then changes nothing)."""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from django.db import OperationalError, close_old_connections, connection
from django.db.models import F
from django.utils import timezone

from qinghe.core.masking import scrub_text

from .jobs import Job
from .models import JobRun

logger = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
DEFAULT_LEASE = dt.timedelta(minutes=5)
ERROR_LIMIT = 2000
RETRIES = 6
T = TypeVar("T")
INTERRUPTED_TEXT = "执行中断：执行进程在租约到期前没有完成，也没有续约（可能已退出或被强行停止）"


def default_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def failure_text(exc: BaseException) -> str:
    """The run record's error: Chinese, one line, ID numbers and phones masked."""
    detail = str(exc).strip() or "（无说明）"
    return scrub_text(f"执行失败（{type(exc).__name__}）：{detail}")[:ERROR_LIMIT]


def _retrying(action: Callable[[], T]) -> T:
    """Runs a short database step again after an OperationalError (SQLite's "database is
    locked" under a concurrent writer, a dropped PostgreSQL connection): every step here is
    safe to repeat."""
    for attempt in range(RETRIES):
        try:
            return action()
        except OperationalError:
            if attempt == RETRIES - 1:
                raise
            if not connection.in_atomic_block:
                connection.close()
            time.sleep(0.05 * 2**attempt)
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Claim:
    run_id: int
    token: uuid.UUID
    job: Job
    scheduled_for: dt.datetime
    taken_over: bool


def job_claim(
    *, job: Job, now: dt.datetime, worker: str, lease: dt.timedelta = DEFAULT_LEASE
) -> Claim | None:
    """Claims ``job``'s latest due period for ``worker``, or returns None when another
    scheduler holds or has done it."""
    token = uuid.uuid4()
    return _retrying(lambda: _claim(job=job, now=now, worker=worker, lease=lease, token=token))


def _claim(
    *, job: Job, now: dt.datetime, worker: str, lease: dt.timedelta, token: uuid.UUID
) -> Claim | None:
    due = job.due(now)
    # Older periods left running by a dead worker are not redone (a newer period is due):
    # they are closed as interrupted so that the administrator sees them.
    JobRun.objects.filter(
        job=job.name,
        outcome=JobRun.Outcome.RUNNING,
        lease_expires_at__lt=now,
        scheduled_for__lt=due,
    ).update(outcome=JobRun.Outcome.INTERRUPTED, finished_at=now, error=INTERRUPTED_TEXT)

    existing = (
        JobRun.objects.filter(job=job.name, scheduled_for=due)
        .values("pk", "outcome", "lease_token", "lease_expires_at")
        .first()
    )
    if existing is None:
        previous = (
            JobRun.objects.filter(job=job.name, scheduled_for__lt=due)
            .order_by("-scheduled_for")
            .values_list("scheduled_for", flat=True)
            .first()
        )
        missed = job.periods_between(previous, due) if previous is not None else 0
        JobRun.objects.bulk_create(
            [
                JobRun(
                    job=job.name,
                    scheduled_for=due,
                    started_at=now,
                    worker=worker,
                    missed=missed,
                    lease_token=token,
                    lease_expires_at=now + lease,
                )
            ],
            ignore_conflicts=True,
        )
        won = (
            JobRun.objects.filter(job=job.name, scheduled_for=due, lease_token=token)
            .values_list("pk", flat=True)
            .first()
        )
        if won is None:
            return None
        return Claim(won, token, job, due, taken_over=False)

    if existing["lease_token"] == token:
        # Our own INSERT, committed before a retried step: the claim is ours.
        return Claim(existing["pk"], token, job, due, taken_over=False)
    if existing["outcome"] == JobRun.Outcome.RUNNING and existing["lease_expires_at"] < now:
        taken = JobRun.objects.filter(
            pk=existing["pk"],
            outcome=JobRun.Outcome.RUNNING,
            lease_token=existing["lease_token"],
        ).update(
            lease_token=token,
            worker=worker,
            started_at=now,
            lease_expires_at=now + lease,
            attempts=F("attempts") + 1,
        )
        if taken == 1:
            logger.warning("定时任务 %s（%s）的上一次执行租约已过期，接手重新执行", job.name, due)
            return Claim(existing["pk"], token, job, due, taken_over=True)
    return None


def _heartbeat(claim: Claim, stop: threading.Event, clock: Clock, lease: dt.timedelta) -> None:
    try:
        while not stop.wait(lease.total_seconds() / 3):
            kept = JobRun.objects.filter(pk=claim.run_id, lease_token=claim.token).update(
                lease_expires_at=clock() + lease
            )
            if not kept:
                logger.warning("定时任务 %s 的租约已被其他进程接手", claim.job.name)
                return
    except Exception:  # noqa: BLE001 - a lost heartbeat must not kill the job
        logger.exception("定时任务 %s 续约失败", claim.job.name)
    finally:
        connection.close()


def job_run(*, claim: Claim, clock: Clock, lease: dt.timedelta = DEFAULT_LEASE) -> JobRun.Outcome:
    """Runs a claimed job and records its outcome (only while the claim is still ours).
    A failure is recorded, logged (scrubbed) and not raised: the other jobs go on."""
    stop = threading.Event()
    beat = threading.Thread(
        target=_heartbeat, args=(claim, stop, clock, lease), name=f"lease-{claim.job.name}"
    )
    beat.daemon = True
    beat.start()
    summary, count, error = "", None, ""
    try:
        result = claim.job.callable()
        summary, count = claim.job.describe(result)
        outcome = JobRun.Outcome.SUCCEEDED
    except Exception as exc:  # noqa: BLE001 - recorded for the administrator
        logger.exception("定时任务 %s 执行失败", claim.job.name)
        outcome = JobRun.Outcome.FAILED
        error = failure_text(exc)
    finally:
        stop.set()
        beat.join()
    finished = clock()
    recorded = _retrying(
        lambda: JobRun.objects.filter(pk=claim.run_id, lease_token=claim.token).update(
            outcome=outcome, finished_at=finished, summary=summary[:500], count=count, error=error
        )
    )
    if not recorded:
        logger.warning("定时任务 %s 完成时租约已被接手，结果未记录", claim.job.name)
    return outcome


class Scheduler:
    """Runs the due periods of ``schedule``; several schedulers may share one database."""

    def __init__(
        self,
        schedule: Iterable[Job],
        *,
        clock: Clock = timezone.now,
        worker: str | None = None,
        lease: dt.timedelta = DEFAULT_LEASE,
    ) -> None:
        self.schedule = tuple(schedule)
        self.clock = clock
        self.worker = worker or default_worker_name()
        self.lease = lease

    def tick(self) -> list[tuple[str, JobRun.Outcome]]:
        """Claims and runs every job whose latest due period nobody has claimed; returns
        what this scheduler ran."""
        ran: list[tuple[str, JobRun.Outcome]] = []
        for job in self.schedule:
            try:
                claim = job_claim(job=job, now=self.clock(), worker=self.worker, lease=self.lease)
                if claim is not None:
                    ran.append((job.name, job_run(claim=claim, clock=self.clock, lease=self.lease)))
            except Exception:  # noqa: BLE001 - a database hiccup skips this job, not the rest
                logger.exception("定时任务 %s 无法认领或记录", job.name)
                close_old_connections()
        return ran

    def seconds_to_next(self, *, cap: float) -> float:
        now = self.clock()
        upcoming = min((job.next_after(now) for job in self.schedule), default=None)
        if upcoming is None:
            return cap
        return max(0.5, min(cap, (upcoming - now).total_seconds() + 0.5))

    def run_forever(self, *, stop: threading.Event, interval: float = 60.0) -> None:
        """Ticks until ``stop`` is set, sleeping until the next scheduled time (at most
        ``interval`` seconds, so a clock change or a takeover is noticed)."""
        while not stop.is_set():
            close_old_connections()
            self.tick()
            stop.wait(self.seconds_to_next(cap=interval))
