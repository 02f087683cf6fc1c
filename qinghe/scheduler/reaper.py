"""Background tasks whose worker died: found, marked failed, run again once when safe.

django-tasks-db marks a task RUNNING when a worker claims it and has no lease: a worker killed
with SIGKILL (or a machine that lost power) leaves the task RUNNING for ever, and nobody runs
it again. Two halves repair that:

* **the heartbeat** — in the worker process, the ``task_started`` signal writes the worker's
  ``TaskWorker`` row before the task's body runs and starts a daemon thread that refreshes
  ``seen_at`` every ``QINGHE_TASK_HEARTBEAT_SECONDS`` for the life of the process (a thread,
  so a long import or recompute does not stop the beat);
* **the reaper** — the scheduled job ``reap_interrupted_tasks`` (qinghe/scheduler/schedule.py)
  takes every RUNNING task whose worker (the last of its ``worker_ids``) has not been seen for
  ``QINGHE_TASK_WORKER_STALE_SECONDS`` — or has no row at all, once the task started that long
  ago — and, in one transaction: marks it FAILED by a conditional UPDATE on ``status =
  RUNNING`` (two reapers at once, or the same one twice: one wins, the other changes nothing),
  records an ``InterruptedTask`` (shown on 系统 → 定时任务 and in the back office), and, when
  the task is in ``RERUNNABLE`` and is not itself a re-run, enqueues it again with the same
  arguments. A re-run that is interrupted again is only marked failed: once, not a loop.

A task is RERUNNABLE when running it again after an interruption at any point gives the same
end state as one uninterrupted run: the survey import resumes from its last committed chunk,
the recomputes rebuild from scratch, reminders, expiries and purges skip what is already done,
the campaign queue and the digest write their outbox rows in one transaction and check their
state first. The export is not: an interrupted export stays "running" in its own table, a
re-run steps aside (it claims only queued exports), and ``purge_exports`` fails it and tells its
owner; the reaper only marks its task failed."""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone

from .models import InterruptedTask, TaskWorker

logger = logging.getLogger(__name__)

# task path -> (Chinese name shown to the administrator, safe to run again after an interruption)
TASKS: dict[str, tuple[str, bool]] = {
    "qinghe.talents.tasks.run_import": ("导入调查数据（可断点续传）", True),
    "qinghe.matching.tasks.recompute_recommendations": ("全量重算为你推荐", True),
    "qinghe.matching.tasks.posting_published": ("岗位发布后更新推荐", True),
    "qinghe.matching.tasks.posting_closed": ("岗位关闭后更新推荐", True),
    "qinghe.matching.tasks.refresh_posting": ("更新岗位的推荐人才", True),
    "qinghe.matching.tasks.refresh_talent": ("更新学生的为你推荐", True),
    "qinghe.outreach.tasks.campaign_queue_task": ("推送活动写入发件箱", True),
    "qinghe.outreach.tasks.job_digest_task": ("岗位周报", True),
    "qinghe.recruitment.tasks.send_interview_reminders": ("面试提醒", True),
    "qinghe.events.tasks.send_event_reminders": ("活动提醒", True),
    "qinghe.jobs.tasks.expire_postings": ("岗位过期", True),
    "qinghe.cards.tasks.expire_cards": ("青年卡到期", True),
    "qinghe.cards.tasks.suspend_unreported_cards": ("暂停未报告变更的青年卡", True),
    "qinghe.core.tasks.purge_expired_audit": ("清理过期审计日志", True),
    "qinghe.exports.tasks.purge_exports": ("清理过期导出文件", True),
    "qinghe.exports.tasks.run_export": ("生成导出文件", False),
}

REQUEUED_REASON = "执行进程已停止（心跳中断），任务可安全重做，已重新排队一次"
RETRY_FAILED_REASON = "重新执行时执行进程再次停止，不再自动重试，请人工处理"
NOT_RERUNNABLE_REASON = "执行进程已停止（心跳中断），该任务不能自动重做，已标记失败"
EXCEPTION_PATH = "qinghe.scheduler.reaper.WorkerLost"
FORGET_WORKERS_AFTER = dt.timedelta(days=1)


class WorkerLost(Exception):
    """Recorded as the failed task's exception class (its path is what the back office shows)."""


def task_label(task_path: str) -> str:
    return TASKS.get(task_path, ("其他后台任务", False))[0]


def _stale_after() -> dt.timedelta:
    return dt.timedelta(seconds=float(getattr(settings, "QINGHE_TASK_WORKER_STALE_SECONDS", 90)))


# -- the heartbeat, in the worker process ------------------------------------------------------

_beating: dict[str, threading.Event] = {}
_lock = threading.Lock()


def heartbeat_write(worker_id: str, *, now: dt.datetime | None = None) -> None:
    now = now or timezone.now()
    updated = TaskWorker.objects.filter(worker_id=worker_id).update(seen_at=now)
    if not updated:
        TaskWorker.objects.update_or_create(
            worker_id=worker_id,
            defaults={
                "host": socket.gethostname()[:120],
                "pid": os.getpid(),
                "started_at": now,
                "seen_at": now,
            },
        )


def _beat(worker_id: str, stop: threading.Event, every: float) -> None:
    while not stop.wait(every):
        try:
            heartbeat_write(worker_id)
        except Exception:  # noqa: BLE001 - a database away for a while: beat again later
            logger.warning("task worker heartbeat failed; retrying", exc_info=True)
            close_old_connections()


def heartbeat_start(worker_id: str) -> None:
    """The worker's row now (before the task's body runs), then a beat every few seconds."""
    heartbeat_write(worker_id)
    every = float(getattr(settings, "QINGHE_TASK_HEARTBEAT_SECONDS", 15))
    with _lock:
        if worker_id in _beating or every <= 0:
            return
        stop = threading.Event()
        _beating[worker_id] = stop
    threading.Thread(
        target=_beat, args=(worker_id, stop, every), name="task-heartbeat", daemon=True
    ).start()


def on_task_started(sender: type, task_result: Any, **kwargs: Any) -> None:
    """``task_started`` receiver: only the database backend's worker has a process to watch
    (the immediate backend runs tasks inside the caller)."""
    from django_tasks_db.backend import DatabaseBackend

    worker_ids = getattr(task_result, "worker_ids", None)
    backend = sender if isinstance(sender, type) else type(sender)  # the worker sends an instance
    if not issubclass(backend, DatabaseBackend) or not worker_ids:
        return
    try:
        heartbeat_start(worker_ids[-1])
    except Exception:  # noqa: BLE001 - never keep a task from running for want of a heartbeat
        logger.warning("task worker heartbeat could not start", exc_info=True)


# -- the reaper, a scheduled job ---------------------------------------------------------------


@dataclass(frozen=True)
class ReapResult:
    requeued: int = 0
    failed: int = 0

    @property
    def interrupted(self) -> int:
        return self.requeued + self.failed


def interrupted_tasks_reap(*, now: dt.datetime | None = None) -> ReapResult:
    """Every RUNNING task whose worker is dead: failed, recorded, and enqueued again once when
    it is RERUNNABLE. Safe to run twice at once or one after the other."""
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    stale = now - _stale_after()
    # A live worker beats even when idle: a row unseen for a day is a process long gone.
    TaskWorker.objects.filter(seen_at__lt=now - FORGET_WORKERS_AFTER).delete()
    running = list(
        DBTaskResult.objects.running().values_list("id", "worker_ids", "started_at", "task_path")
    )
    if not running:
        return ReapResult()
    worker_ids = {ids[-1] for _, ids, _, _ in running if ids}
    seen = dict(
        TaskWorker.objects.filter(worker_id__in=worker_ids).values_list("worker_id", "seen_at")
    )
    requeued = failed = 0
    for task_id, ids, started_at, task_path in running:
        worker = ids[-1] if ids else ""
        last_seen = seen.get(worker)
        if last_seen is not None and last_seen >= stale:
            continue  # alive
        if last_seen is None and started_at is not None and started_at >= stale:
            continue  # just claimed: its worker writes its row before the task's body runs
        outcome = _reap_one(task_id, worker, started_at, last_seen, task_path, now)
        if outcome == InterruptedTask.Outcome.REQUEUED:
            requeued += 1
        elif outcome == InterruptedTask.Outcome.FAILED:
            failed += 1
    return ReapResult(requeued=requeued, failed=failed)


def _reap_one(
    task_id: Any,
    worker: str,
    started_at: dt.datetime | None,
    last_seen: dt.datetime | None,
    task_path: str,
    now: dt.datetime,
) -> str | None:
    from django_tasks_db.compat import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    rerunnable = TASKS.get(task_path, ("", False))[1]
    with transaction.atomic():
        is_retry = InterruptedTask.objects.filter(retry_id=task_id).exists()
        if is_retry:
            reason = RETRY_FAILED_REASON
        elif rerunnable:
            reason = REQUEUED_REASON
        else:
            reason = NOT_RERUNNABLE_REASON
        taken = DBTaskResult.objects.filter(id=task_id, status=TaskResultStatus.RUNNING).update(
            status=TaskResultStatus.FAILED,
            finished_at=now,
            exception_class_path=EXCEPTION_PATH,
            traceback=f"{reason}（执行进程 {worker or '未知'}）",
            return_value=None,
        )
        if not taken:  # finished meanwhile, or another reaper got there first
            return None
        retry_id = None
        if rerunnable and not is_retry:
            original = DBTaskResult.objects.get(id=task_id)
            retry = original.task.enqueue(
                *original.args_kwargs["args"], **original.args_kwargs["kwargs"]
            )
            retry_id = retry.id
        outcome = InterruptedTask.Outcome.REQUEUED if retry_id else InterruptedTask.Outcome.FAILED
        InterruptedTask.objects.create(
            task_id=task_id,
            task_path=task_path[:200],
            worker_id=worker,
            started_at=started_at,
            last_seen_at=last_seen,
            detected_at=now,
            outcome=outcome,
            reason=reason,
            retry_id=retry_id,
        )
    logger.warning(
        "background task %s (%s) interrupted: its worker %s was last seen %s; %s",
        task_id,
        task_path,
        worker or "?",
        last_seen or "never",
        outcome,
    )
    return str(outcome)
