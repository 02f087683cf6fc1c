"""Reads of the schedule and its run records (system administrators only)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.core.errors import PermissionDenied
from qinghe.core.roles import Role

from .jobs import Job
from .models import InterruptedTask, JobRun
from .reaper import task_label
from .schedule import SCHEDULE


@dataclass(frozen=True)
class JobStatus:
    job: Job
    next_run: dt.datetime
    last: JobRun | None
    last_success: JobRun | None


def _require_sysadmin(viewer: User) -> None:
    if getattr(viewer, "role", None) != Role.SYSADMIN:
        raise PermissionDenied("只有系统管理员可以查看定时任务")


def _latest(runs: QuerySet[JobRun]) -> dict[str, JobRun]:
    """The latest run of each job in ``runs``: one query for the times, one for the rows."""
    names = [job.name for job in SCHEDULE]
    latest = runs.filter(job__in=names).values("job").annotate(at=Max("scheduled_for"))
    wanted = Q(pk__in=[])
    for row in latest:
        wanted |= Q(job=row["job"], scheduled_for=row["at"])
    return {run.job: run for run in JobRun.objects.filter(wanted)}


def job_status_list(*, viewer: User, now: dt.datetime | None = None) -> list[JobStatus]:
    """Each job of the schedule with its next time, its latest run and latest success
    (four queries whatever the number of jobs)."""
    _require_sysadmin(viewer)
    now = now or timezone.now()
    last = _latest(JobRun.objects.all())
    last_success = _latest(JobRun.objects.filter(outcome=JobRun.Outcome.SUCCEEDED))
    return [
        JobStatus(job, job.next_after(now), last.get(job.name), last_success.get(job.name))
        for job in SCHEDULE
    ]


def job_run_list(*, viewer: User, job: str = "", outcome: str = "") -> QuerySet[JobRun]:
    _require_sysadmin(viewer)
    runs = JobRun.objects.all()
    if job:
        runs = runs.filter(job=job)
    if outcome:
        runs = runs.filter(outcome=outcome)
    return runs.order_by("-scheduled_for", "job")


def interrupted_task_list(*, viewer: User, limit: int = 20) -> list[InterruptedTask]:
    """The latest background tasks found running after their worker died (the reaper's
    records), each with its Chinese name as ``label``."""
    _require_sysadmin(viewer)
    found = list(InterruptedTask.objects.order_by("-detected_at")[:limit])
    for record in found:
        record.label = task_label(record.task_path)  # type: ignore[attr-defined]
    return found
