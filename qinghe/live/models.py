"""直播带岗 (measure 4): a stream staff schedule with a host, participating enterprises and the
postings it features; the live questions asked under it; the applications made from it."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from qinghe.core.models import TimeStampedModel


class Stream(TimeStampedModel):
    class State(models.TextChoices):
        SCHEDULED = "scheduled", "未开始"
        LIVE = "live", "直播中"
        ENDED = "ended", "已结束"

    title = models.CharField("直播标题", max_length=120)
    host = models.CharField("主持人", max_length=60)
    enterprises = models.ManyToManyField(
        "enterprises.Enterprise", related_name="live_streams", verbose_name="参与企业"
    )
    postings = models.ManyToManyField(
        "jobs.Posting", related_name="live_streams", verbose_name="推介岗位", blank=True
    )
    starts_at = models.DateTimeField("计划开始")
    ends_at = models.DateTimeField("计划结束")
    hls_url = models.CharField("直播地址（HLS）", max_length=500)
    replay_url = models.CharField("回放地址", max_length=500, blank=True)
    state = models.CharField(
        "状态", max_length=12, choices=State.choices, default=State.SCHEDULED, db_index=True
    )
    started_at = models.DateTimeField("实际开始", null=True, blank=True)
    ended_at = models.DateTimeField("实际结束", null=True, blank=True)
    peak_viewers = models.PositiveIntegerField("最高同时在线", default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="创建人"
    )

    class Meta:
        ordering = ["-starts_at", "-pk"]
        verbose_name = "直播带岗"
        verbose_name_plural = "直播带岗"

    def __str__(self) -> str:
        return self.title


class Question(models.Model):
    class State(models.TextChoices):
        VISIBLE = "visible", "已公开"
        HELD = "held", "待审核"
        HIDDEN = "hidden", "已隐藏"

    stream = models.ForeignKey(Stream, on_delete=models.CASCADE, related_name="questions")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.CharField("提问", max_length=200)
    state = models.CharField(max_length=8, choices=State.choices, default=State.VISIBLE)
    pinned = models.BooleanField("置顶", default=False)
    answer = models.CharField("回答", max_length=500, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["stream", "author", "created_at"])]
        verbose_name = "直播提问"
        verbose_name_plural = "直播提问"

    def __str__(self) -> str:
        return self.text[:30]


class StreamApplication(models.Model):
    """An application made from a stream's one-click button (the application itself lives in
    recruitment; this row says which stream brought it)."""

    stream = models.ForeignKey(Stream, on_delete=models.CASCADE, related_name="applications")
    application = models.OneToOneField(
        "recruitment.Application", on_delete=models.CASCADE, related_name="live_stream"
    )
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "直播投递"
        verbose_name_plural = "直播投递"

    def __str__(self) -> str:
        return f"{self.stream_id}:{self.application_id}"
