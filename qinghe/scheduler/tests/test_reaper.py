"""The task reaper: a task left RUNNING by a dead worker is failed and run again once; a live
worker's task is not touched; the reaper run twice enqueues nothing twice; a re-run that is
interrupted again is only failed; a task that is not safe to repeat is only failed; the
administrator sees each of them. Tasks go through the real database backend and run in the
real ``db_worker`` (``--batch``), whose ``task_started`` signal writes the heartbeat."""

from __future__ import annotations

import datetime as dt
from typing import Any
from unittest import mock

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from qinghe.core.tasks import purge_expired_audit
from qinghe.exports.tasks import run_export
from qinghe.scheduler.models import InterruptedTask, TaskWorker
from qinghe.scheduler.reaper import (
    EXCEPTION_PATH,
    NOT_RERUNNABLE_REASON,
    REQUEUED_REASON,
    RETRY_FAILED_REASON,
    ReapResult,
    interrupted_tasks_reap,
)
from qinghe.scheduler.schedule import job_by_name

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("database_tasks"),
]

STALE = 90


@pytest.fixture
def database_tasks() -> Any:
    with override_settings(
        TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}},
        QINGHE_TASK_WORKER_STALE_SECONDS=STALE,
        QINGHE_TASK_HEARTBEAT_SECONDS=0,  # no beating thread in a test (the row is written)
    ):
        yield


def claimed_by(worker: str, task: Any = purge_expired_audit, *args: Any, **kwargs: Any) -> str:
    """A task enqueued and claimed by ``worker`` — the state a worker killed mid-task leaves."""
    result = task.enqueue(*args, **kwargs)
    row = DBTaskResult.objects.get(id=result.id)
    row.claim(worker)
    return str(row.id)


def worker_seen(worker: str, seconds_ago: float) -> None:
    seen = timezone.now() - dt.timedelta(seconds=seconds_ago)
    TaskWorker.objects.create(worker_id=worker, host="w1", pid=4242, started_at=seen, seen_at=seen)


def state(task_id: str) -> tuple[str, str]:
    row = DBTaskResult.objects.get(id=task_id)
    return row.status, row.exception_class_path


def run_worker(worker_id: str) -> None:
    # The worker's close_old_connections() drops a connection whose autocommit is off, which
    # inside the test's transaction on PostgreSQL closes the test's own connection (SQLite's
    # in-memory test database ignores a close). Connection hygiene is not what is tested here.
    with mock.patch(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    ):
        call_command(
            "db_worker", "--batch", "--no-startup-delay", "--no-reload", "--worker-id", worker_id,
            verbosity=0,
        )  # fmt: skip


def test_a_dead_workers_task_is_failed_and_run_again_once_and_a_live_ones_is_not_touched() -> None:
    worker_seen("dead", seconds_ago=STALE + 30)
    worker_seen("live", seconds_ago=5)
    dead_task = claimed_by("dead")
    live_task = claimed_by("live")

    assert interrupted_tasks_reap() == ReapResult(requeued=1, failed=0)

    assert state(dead_task) == ("FAILED", EXCEPTION_PATH)
    assert state(live_task) == ("RUNNING", "")
    record = InterruptedTask.objects.get()
    assert (str(record.task_id), record.worker_id, record.outcome, record.reason) == (
        dead_task,
        "dead",
        "requeued",
        REQUEUED_REASON,
    )
    retry = DBTaskResult.objects.get(id=str(record.retry_id))
    assert (retry.status, retry.task_path, retry.args_kwargs) == (
        "READY",
        "qinghe.core.tasks.purge_expired_audit",
        {"args": [], "kwargs": {}},
    )
    assert DBTaskResult.objects.count() == 3

    # The reaper again (the next period, or a second scheduler at once): nothing new.
    assert interrupted_tasks_reap() == ReapResult()
    assert DBTaskResult.objects.count() == 3
    assert InterruptedTask.objects.count() == 1
    assert state(live_task) == ("RUNNING", "")

    # A real worker runs the re-run: it succeeds, and that worker's heartbeat row was written.
    run_worker("fresh")
    retry.refresh_from_db()
    assert (retry.status, retry.worker_ids, retry.return_value) == ("SUCCESSFUL", ["fresh"], 0)
    assert TaskWorker.objects.filter(worker_id="fresh").count() == 1
    assert state(live_task) == ("RUNNING", "")
    assert interrupted_tasks_reap() == ReapResult()
    assert DBTaskResult.objects.count() == 3


def test_a_rerun_interrupted_again_is_only_failed() -> None:
    worker_seen("dead", seconds_ago=STALE + 30)
    first = claimed_by("dead")
    assert interrupted_tasks_reap() == ReapResult(requeued=1, failed=0)
    retry_id = str(InterruptedTask.objects.get(task_id=first).retry_id)
    DBTaskResult.objects.get(id=retry_id).claim("dead-again")
    worker_seen("dead-again", seconds_ago=STALE + 1)

    assert interrupted_tasks_reap() == ReapResult(requeued=0, failed=1)

    assert state(retry_id) == ("FAILED", EXCEPTION_PATH)
    again = InterruptedTask.objects.get(task_id=retry_id)
    assert (again.outcome, again.reason, again.retry_id) == ("failed", RETRY_FAILED_REASON, None)
    assert DBTaskResult.objects.count() == 2
    assert DBTaskResult.objects.filter(status="READY").count() == 0


def test_a_task_not_safe_to_repeat_is_only_failed() -> None:
    worker_seen("dead", seconds_ago=STALE + 30)
    export_task = claimed_by("dead", run_export, export_id=12345)

    assert interrupted_tasks_reap() == ReapResult(requeued=0, failed=1)

    assert state(export_task) == ("FAILED", EXCEPTION_PATH)
    record = InterruptedTask.objects.get()
    assert (record.outcome, record.reason, record.retry_id) == (
        "failed",
        NOT_RERUNNABLE_REASON,
        None,
    )
    assert DBTaskResult.objects.count() == 1


def test_a_worker_without_a_heartbeat_row_counts_as_dead_only_after_the_stale_time_and_old_rows_go() -> (
    None
):
    just_claimed = claimed_by("no-row-yet")
    worker_seen("gone-yesterday", seconds_ago=86400 + 60)
    assert interrupted_tasks_reap() == ReapResult()
    assert state(just_claimed) == ("RUNNING", "")
    assert list(TaskWorker.objects.values_list("worker_id", flat=True)) == []  # forgotten

    later = timezone.now() + dt.timedelta(seconds=STALE + 1)
    assert interrupted_tasks_reap(now=later) == ReapResult(requeued=1, failed=0)
    assert state(just_claimed) == ("FAILED", EXCEPTION_PATH)


def test_the_reaper_is_in_the_schedule_and_the_administrator_sees_what_it_did(
    client_as: Any,
) -> None:
    job = job_by_name("reap_interrupted_tasks")
    assert job is not None and job.cron == "*/2 * * * *"
    worker_seen("dead", seconds_ago=STALE + 30)
    claimed_by("dead")
    claimed_by("dead", run_export, export_id=7)
    result = job.callable()
    assert job.describe(result)[0] == "中断的后台任务 2 个：重新排队 1 个，标记失败 1 个"

    page = client_as("sysadmin").get("/system/schedule/").content.decode()
    assert page.count('data-task="') == 2
    assert "清理过期审计日志" in page and "已重新排队" in page
    assert "生成导出文件" in page and NOT_RERUNNABLE_REASON in page
