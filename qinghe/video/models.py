"""A one-to-one video interview room (视频面试): the enterprise's interviewer side and one
student, optionally for a scheduled recruitment Interview. Nothing of the call is stored: the
video and audio go browser to browser (WebRTC); the server relays only the signalling and the
text chat, and keeps the interviewer's notes and result. Only when both sides agreed may the
interviewer's browser record the call (``VideoRecording``, stored encrypted, deleted after the
retention period)."""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from qinghe.core.models import TimeStampedModel


class VideoRoom(TimeStampedModel):
    class State(models.TextChoices):
        OPEN = "open", _("待进行")
        ENDED = "ended", _("已结束")

    class Result(models.TextChoices):
        PENDING = "", _("待定")
        PASSED = "passed", _("通过")
        FAILED = "failed", _("未通过")
        NO_SHOW = "no_show", _("缺席")

    class Source(models.TextChoices):
        INTERVIEW = "interview", _("招聘面试")
        FAIR = "fair", _("线上招聘会")
        DIRECT = "direct", _("直接发起")

    uuid = models.UUIDField(_("房间号"), default=uuid.uuid4, unique=True, editable=False)
    interviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("面试官"),
    )
    # Every enterprise HR user of this organisation is on the interviewer side.
    organisation = models.ForeignKey(
        "accounts.Organisation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("企业"),
    )
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("学生"),
    )
    interview = models.OneToOneField(
        "recruitment.Interview",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="video_room",
        verbose_name=_("招聘面试"),
    )
    source = models.CharField(_("来源"), max_length=16, choices=Source.choices)
    starts_at = models.DateTimeField(_("开始时间"))
    minutes = models.PositiveSmallIntegerField(_("时长（分钟）"))
    state = models.CharField(
        _("状态"), max_length=8, choices=State.choices, default=State.OPEN, db_index=True
    )
    observers_allowed = models.BooleanField(_("学生同意工作人员旁听"), default=False)
    # Recording needs both sides: each time is when that side pressed 同意录制 (None: not
    # agreed, or agreement withdrawn).
    interviewer_recording_consent_at = models.DateTimeField(
        _("面试官同意录制时间"), null=True, blank=True
    )
    student_recording_consent_at = models.DateTimeField(
        _("学生同意录制时间"), null=True, blank=True
    )
    notes = models.TextField(_("面试记录（企业内部）"), blank=True)
    result = models.CharField(_("结果"), max_length=16, choices=Result.choices, blank=True)

    class Meta:
        verbose_name = _("视频面试间")
        verbose_name_plural = _("视频面试间")
        ordering = ["starts_at", "id"]

    def __str__(self) -> str:
        return f"{self.uuid} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def ends_at(self) -> dt.datetime:
        return self.starts_at + dt.timedelta(minutes=self.minutes)

    @property
    def group(self) -> str:
        return f"video.{self.pk}"

    @property
    def recording_agreed(self) -> bool:
        return (
            self.interviewer_recording_consent_at is not None
            and self.student_recording_consent_at is not None
        )


class VideoRecording(TimeStampedModel):
    """A recording of a call, made only when both sides agreed (``VideoRoom``'s two consent
    times). The interviewer's browser records the call (MediaRecorder) and uploads it in
    chunks; each chunk is stored encrypted at rest (qinghe.core.crypto.encrypt_file through
    ``qinghe.talents.importing.storage.save_private``) and the whole recording is deleted after
    ``QINGHE_VIDEO_RECORDING_RETENTION_DAYS`` by the ``purge_video_recordings`` job."""

    class State(models.TextChoices):
        RECORDING = "recording", _("录制中")
        COMPLETE = "complete", _("已完成")
        PURGED = "purged", _("已删除")

    uuid = models.UUIDField(_("编号"), default=uuid.uuid4, unique=True, editable=False)
    room = models.ForeignKey(
        VideoRoom, on_delete=models.CASCADE, related_name="recordings", verbose_name=_("面试间")
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("录制人"),
    )
    state = models.CharField(
        _("状态"), max_length=10, choices=State.choices, default=State.RECORDING, db_index=True
    )
    chunks = models.PositiveIntegerField(_("片段数"), default=0)
    size = models.PositiveBigIntegerField(_("大小（字节）"), default=0)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    expires_at = models.DateTimeField(_("保留至"), db_index=True)
    purged_at = models.DateTimeField(_("删除时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("面试录像")
        verbose_name_plural = _("面试录像")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.room_id}/{self.uuid}"


class VideoRecordingChunk(models.Model):
    """One uploaded piece of a recording (a WebM segment from MediaRecorder), stored encrypted
    under ``storage_name``; the pieces in ``seq`` order make the recording."""

    recording = models.ForeignKey(
        VideoRecording, on_delete=models.CASCADE, related_name="pieces", verbose_name=_("录像")
    )
    seq = models.PositiveIntegerField(_("序号"))
    storage_name = models.CharField(_("存储名"), max_length=200)
    size = models.PositiveIntegerField(_("大小（字节）"))

    class Meta:
        verbose_name = _("录像片段")
        verbose_name_plural = _("录像片段")
        ordering = ["recording", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["recording", "seq"], name="video_chunk_once"),
        ]

    def __str__(self) -> str:
        return f"{self.recording_id}#{self.seq}"
