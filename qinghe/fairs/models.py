"""Online job fairs (云招聘 / 空中双选会, issue 15 item 2): a fair is an ``events.Event`` of type
``cloud_fair``; enterprises apply for a booth, event staff approve; each approved booth has a
live queue of students (``QueueEntry``), and the hall's visitors are counted (``HallVisit``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Booth(models.Model):
    class State(models.TextChoices):
        APPLIED = "applied", _("待审核")
        APPROVED = "approved", _("已通过")
        REJECTED = "rejected", _("未通过")

    fair = models.ForeignKey(
        "events.Event", on_delete=models.CASCADE, related_name="booths", verbose_name=_("招聘会")
    )
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        on_delete=models.PROTECT,
        related_name="fair_booths",
        verbose_name=_("企业"),
    )
    state = models.CharField(
        _("状态"), max_length=16, choices=State.choices, default=State.APPLIED, db_index=True
    )
    postings = models.ManyToManyField(
        "jobs.Posting", verbose_name=_("参会岗位"), blank=True, related_name="fair_booths"
    )
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("申请人"),
    )
    applied_at = models.DateTimeField(_("申请时间"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("审核人"),
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    note = models.CharField(_("审核意见"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("展位")
        verbose_name_plural = _("展位")
        ordering = ["applied_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["fair", "enterprise"], name="one_booth_per_fair")
        ]

    def __str__(self) -> str:
        return f"{self.fair_id}/{self.enterprise_id}"


class QueueEntry(models.Model):
    """A student's place in a booth's queue. ``waiting`` entries are served in ``(rank, id)``
    order; an invited student gets a rank before everyone waiting. ``called`` is the student
    the enterprise is talking to; ``done``/``no_show``/``left`` close the entry."""

    class State(models.TextChoices):
        WAITING = "waiting", _("排队中")
        CALLED = "called", _("已叫号")
        DONE = "done", _("已面谈")
        NO_SHOW = "no_show", _("未到场")
        LEFT = "left", _("已离开")

    booth = models.ForeignKey(
        Booth, on_delete=models.CASCADE, related_name="entries", verbose_name=_("展位")
    )
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="fair_queue_entries",
        verbose_name=_("学子"),
    )
    state = models.CharField(_("状态"), max_length=16, choices=State.choices, db_index=True)
    rank = models.BigIntegerField(_("排序"))
    invited = models.BooleanField(_("企业邀请"), default=False)
    joined_at = models.DateTimeField(_("加入时间"))
    called_at = models.DateTimeField(_("叫号时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    # The video interview the enterprise opened when it called the student (qinghe.video).
    room = models.ForeignKey(
        "video.VideoRoom",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("视频面试间"),
    )

    class Meta:
        verbose_name = _("排队记录")
        verbose_name_plural = _("排队记录")
        ordering = ["rank", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["booth", "student"],
                condition=models.Q(state__in=["waiting", "called"]),
                name="one_active_queue_entry_per_booth_student",
            )
        ]
        indexes = [models.Index(fields=["booth", "state", "rank", "id"], name="fair_queue")]

    def __str__(self) -> str:
        return f"{self.booth_id}/{self.student_id} {self.state}"


ACTIVE_STATES = (QueueEntry.State.WAITING, QueueEntry.State.CALLED)


class HallVisit(models.Model):
    """A signed-in student who opened the fair's hall (once per fair): the visitor count."""

    fair = models.ForeignKey("events.Event", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    first_at = models.DateTimeField(_("首次进入"))

    class Meta:
        verbose_name = _("展厅访问")
        verbose_name_plural = _("展厅访问")
        constraints = [
            models.UniqueConstraint(fields=["fair", "user"], name="one_hall_visit_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.fair_id}/{self.user_id}"
