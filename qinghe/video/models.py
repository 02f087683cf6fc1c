"""A one-to-one video interview room (视频面试): the enterprise's interviewer side and one
student, optionally for a scheduled recruitment Interview. Nothing of the call is stored: the
video and audio go browser to browser (WebRTC); the server relays only the signalling and the
text chat, and keeps the interviewer's notes and result."""

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
