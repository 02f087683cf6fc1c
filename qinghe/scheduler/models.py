from __future__ import annotations

import uuid

from django.db import models


class JobRun(models.Model):
    """One run of a scheduled job for one period.

    The unique (job, scheduled_for) pair is the claim: a scheduler that wants to run a period
    INSERTs this row (ON CONFLICT DO NOTHING) with its own ``lease_token`` and runs the job only
    if the stored token is its own. While running it extends ``lease_expires_at``; a row still
    running after its lease ran out belonged to a worker that died and may be taken over."""

    class Outcome(models.TextChoices):
        RUNNING = "running", "执行中"
        SUCCEEDED = "succeeded", "成功"
        FAILED = "failed", "失败"
        INTERRUPTED = "interrupted", "中断"

    job = models.CharField("任务", max_length=64)
    scheduled_for = models.DateTimeField("计划时间")
    started_at = models.DateTimeField("开始时间")
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    outcome = models.CharField(
        "结果", max_length=16, choices=Outcome.choices, default=Outcome.RUNNING
    )
    count = models.IntegerField("数量", null=True, blank=True)
    summary = models.CharField("摘要", max_length=500, blank=True)
    error = models.TextField("错误", blank=True)
    missed = models.PositiveIntegerField("错过的周期", default=0)
    attempts = models.PositiveSmallIntegerField("尝试次数", default=1)
    worker = models.CharField("执行进程", max_length=120)
    lease_token = models.UUIDField(default=uuid.uuid4)
    lease_expires_at = models.DateTimeField()

    class Meta:
        verbose_name = "定时任务执行记录"
        verbose_name_plural = verbose_name
        ordering = ["-scheduled_for", "job"]
        constraints = [
            models.UniqueConstraint(
                fields=["job", "scheduled_for"], name="scheduler_jobrun_once_per_period"
            )
        ]
        indexes = [
            models.Index(fields=["outcome", "lease_expires_at"], name="scheduler_running_idx")
        ]

    def __str__(self) -> str:
        return f"{self.job} @ {self.scheduled_for:%Y-%m-%d %H:%M}"

    @property
    def seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class TaskWorker(models.Model):
    """A task worker process (``manage.py db_worker``) as its heartbeat shows it.

    django-tasks-db claims a task by setting it RUNNING with the worker's id and has no lease:
    a worker killed mid-task leaves the task RUNNING for ever. The worker writes this row when
    it starts a task and a thread of its own refreshes ``seen_at`` every few seconds for the
    life of the process, so a RUNNING task whose worker has not been seen for
    ``QINGHE_TASK_WORKER_STALE_SECONDS`` belongs to a dead worker (qinghe.scheduler.reaper)."""

    worker_id = models.CharField("执行进程编号", max_length=64, primary_key=True)
    host = models.CharField("主机", max_length=120)
    pid = models.PositiveIntegerField("进程号")
    started_at = models.DateTimeField("启动时间")
    seen_at = models.DateTimeField("最近心跳")

    class Meta:
        verbose_name = "后台任务执行进程"
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}"


class InterruptedTask(models.Model):
    """A background task found RUNNING after its worker died, and what the reaper did with it:
    marked failed, and run again once when the task is safe to repeat (``retry_id``)."""

    class Outcome(models.TextChoices):
        REQUEUED = "requeued", "已重新排队"
        FAILED = "failed", "已标记失败"

    task_id = models.UUIDField("任务编号", unique=True)
    task_path = models.CharField("任务", max_length=200)
    worker_id = models.CharField("执行进程编号", max_length=64, blank=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    last_seen_at = models.DateTimeField("执行进程最近心跳", null=True, blank=True)
    detected_at = models.DateTimeField("发现时间")
    outcome = models.CharField("处理", max_length=16, choices=Outcome.choices)
    reason = models.CharField("说明", max_length=300)
    retry_id = models.UUIDField("重新执行的任务编号", null=True, blank=True, unique=True)

    class Meta:
        verbose_name = "中断的后台任务"
        verbose_name_plural = verbose_name
        ordering = ["-detected_at"]

    def __str__(self) -> str:
        return f"{self.task_path} {self.task_id}"
