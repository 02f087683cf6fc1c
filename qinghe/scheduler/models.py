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
