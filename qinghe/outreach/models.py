"""One-to-one liaison (measure 2): who follows whom, every contact, consultations ordered by
students, and campaigns pushed to saved segments."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class LiaisonAssignment(models.Model):
    """A talent's liaison. Reassigning ends the active row and adds one: history is kept."""

    talent = models.ForeignKey(
        "talents.Talent", on_delete=models.CASCADE, related_name="liaison_assignments"
    )
    liaison = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="liaison_assignments"
    )
    active = models.BooleanField(_("在任"), default=True)
    assigned_at = models.DateTimeField(_("分配时间"), default=timezone.now)
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    reason = models.CharField(_("原因"), max_length=200, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("专员分配")
        verbose_name_plural = _("专员分配")
        constraints = [
            models.UniqueConstraint(
                fields=["talent"],
                condition=models.Q(active=True),
                name="one_active_liaison_per_talent",
            )
        ]
        indexes = [models.Index(fields=["liaison", "active"], name="assignment_liaison_active")]

    def __str__(self) -> str:
        return f"#{self.talent_id} → {self.liaison_id}"


class AssignmentRule(models.Model):
    """Talents matching ``value`` (a university name, a town code, a city where they study or
    work, or an alliance chapter's name) go to these liaisons, the least loaded first."""

    class Kind(models.TextChoices):
        UNIVERSITY = "university", _("高校")
        TOWN = "town", _("镇街")
        CITY = "city", _("所在城市")
        CHAPTER = "chapter", _("联盟分会")

    kind = models.CharField(_("依据"), max_length=16, choices=Kind.choices)
    value = models.CharField(_("取值"), max_length=120)
    liaisons = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+")
    priority = models.PositiveSmallIntegerField(_("优先级"), default=100)

    class Meta:
        verbose_name = _("分配规则")
        verbose_name_plural = _("分配规则")
        ordering = ["priority", "id"]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class ContactLog(models.Model):
    class Channel(models.TextChoices):
        PHONE = "phone", _("电话")
        WECHAT = "wechat", _("微信")
        SMS = "sms", _("短信")
        VISIT = "visit", _("走访")
        EMAIL = "email", _("电子邮件")
        EVENT = "event", _("活动")

    class Outcome(models.TextChoices):
        REACHED = "reached", _("已联系上")
        NOT_REACHED = "not_reached", _("未联系上")
        WRONG_NUMBER = "wrong_number", _("号码错误")

    talent = models.ForeignKey(
        "talents.Talent", on_delete=models.CASCADE, related_name="contact_logs"
    )
    liaison = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="contact_logs"
    )
    channel = models.CharField(_("方式"), max_length=8, choices=Channel.choices)
    outcome = models.CharField(_("结果"), max_length=16, choices=Outcome.choices)
    notes = models.TextField(_("记录"), blank=True)
    next_follow_up = models.DateField(_("下次跟进"), null=True, blank=True)
    follow_up_done = models.BooleanField(_("已跟进"), default=False)
    contacted_at = models.DateTimeField(_("联络时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("联络记录")
        verbose_name_plural = _("联络记录")
        ordering = ["-contacted_at", "-id"]
        indexes = [
            models.Index(
                fields=["talent", "outcome", "-contacted_at"], name="contact_talent_outcome"
            ),
            # The contact rate (selectors.contact_rate): who was reached in a period, read from
            # the index alone; and the open follow-ups past their date.
            models.Index(
                fields=["contacted_at", "talent"],
                condition=models.Q(outcome="reached"),
                name="contact_reached_at",
            ),
            models.Index(
                fields=["next_follow_up", "liaison", "talent"],
                condition=models.Q(follow_up_done=False),
                name="contact_follow_up_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel}/{self.outcome} #{self.talent_id}"


class Consultation(models.Model):
    class Topic(models.TextChoices):
        POLICY = "policy", _("政策咨询")
        JOBS = "jobs", _("就业岗位")
        STARTUP = "startup", _("创业扶持")
        HOUSING = "housing", _("住房安居")
        SCHOOLING = "schooling", _("子女入学")
        HEALTH = "health", _("健康体检")
        OTHER = "other", _("其他")

    class State(models.TextChoices):
        OPEN = "open", _("待答复")
        ANSWERED = "answered", _("已答复")
        CLOSED = "closed", _("已办结")

    talent = models.ForeignKey(
        "talents.Talent", on_delete=models.CASCADE, related_name="consultations"
    )
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consultations"
    )
    topic = models.CharField(_("主题"), max_length=16, choices=Topic.choices)
    question = models.TextField(_("问题"))
    liaison = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="routed_consultations",
    )
    station = models.ForeignKey(
        "accounts.Organisation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="consultations",
    )
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.OPEN)
    due_at = models.DateTimeField(_("答复时限"))
    answer = models.TextField(_("答复"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    rating = models.PositiveSmallIntegerField(_("评分"), null=True, blank=True)
    rating_comment = models.CharField(_("评价"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("提交时间"), default=timezone.now)

    class Meta:
        verbose_name = _("点单咨询")
        verbose_name_plural = _("点单咨询")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.topic} #{self.pk}"

    @property
    def overdue(self) -> bool:
        return self.state == self.State.OPEN and self.due_at < timezone.now()


class Campaign(models.Model):
    class Kind(models.TextChoices):
        NEWS = "news", _("产业资讯")
        POLICY = "policy", _("政策推送")
        JOBS = "jobs", _("岗位推送")
        EVENT = "event", _("活动邀请")
        CONFIRM = "confirm", _("年度信息确认")

    class State(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SCHEDULED = "scheduled", _("已排期")
        QUEUED = "queued", _("已入队")

    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    title = models.CharField(_("标题"), max_length=120)
    body = models.TextField(_("内容"))
    segment = models.ForeignKey(
        "talents.Segment", on_delete=models.PROTECT, related_name="campaigns"
    )
    channels = models.JSONField(_("渠道"), default=list)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.DRAFT)
    scheduled_for = models.DateTimeField(_("计划发送"), null=True, blank=True)
    queued_at = models.DateTimeField(_("入队时间"), null=True, blank=True)
    recipients = models.PositiveIntegerField(_("收件人数"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("推送活动")
        verbose_name_plural = _("推送活动")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title
