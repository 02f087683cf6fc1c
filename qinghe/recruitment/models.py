"""The recruitment pipeline (measure 4): stages, applications and their timeline, interview
slots, interviews and their events. The tables were created by the jobs app and keep their
``jobs_*`` names (``Meta.db_table``); migration 0001 of this app only moved them in Django's
state (SeparateDatabaseAndState)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qinghe.core.fields import SealedJSONField
from qinghe.core.models import TimeStampedModel


class PipelineStage(models.Model):
    """A stage of the applicant pipeline. Rows without an enterprise are the platform defaults
    (migration 0002: 已投递 → 筛选 → 面试 → 录用 → 入职, plus 未通过 and 撤回); an enterprise
    may add its own stages, ordered among the defaults by ``position``."""

    class Kind(models.TextChoices):
        APPLIED = "applied", _("已投递")
        SCREENING = "screening", _("筛选")
        INTERVIEW = "interview", _("面试")
        OFFER = "offer", _("录用")
        ONBOARDED = "onboarded", _("入职")
        REJECTED = "rejected", _("未通过")
        WITHDRAWN = "withdrawn", _("撤回")
        CUSTOM = "custom", _("自定义")

    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("企业"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="pipeline_stages",
    )
    code = models.SlugField(_("代码"), max_length=32)
    name = models.CharField(_("名称"), max_length=32)
    kind = models.CharField(_("类别"), max_length=16, choices=Kind.choices)
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)
    is_terminal = models.BooleanField(_("终止阶段"), default=False)
    # Entering a stage with this flag is a hire: part B writes a talents.Destination.
    counts_as_hire = models.BooleanField(_("计为录用"), default=False)
    notify_student = models.BooleanField(_("进入时通知学生"), default=False)
    message_template = models.TextField(_("通知内容"), blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        db_table = "jobs_pipelinestage"
        verbose_name = _("招聘阶段")
        verbose_name_plural = _("招聘阶段")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "code"], name="jobs_stage_unique_code_per_enterprise"
            ),
            models.UniqueConstraint(
                fields=["code"],
                condition=Q(enterprise__isnull=True),
                name="jobs_stage_unique_default_code",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Application(TimeStampedModel):
    """A student's application to a posting. ``consent`` is the share-with-this-enterprise
    consent given at the moment of applying; ``shared_snapshot`` is what was shared."""

    posting = models.ForeignKey(
        "jobs.Posting",
        verbose_name=_("岗位"),
        on_delete=models.PROTECT,
        related_name="applications",
    )
    # Denormalised from the posting: every enterprise-side read scopes on it.
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("企业"),
        on_delete=models.PROTECT,
        related_name="applications",
    )
    talent = models.ForeignKey(
        "talents.Talent",
        verbose_name=_("人才"),
        on_delete=models.PROTECT,
        related_name="applications",
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("投递账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="applications",
    )
    stage = models.ForeignKey(
        PipelineStage, verbose_name=_("阶段"), on_delete=models.PROTECT, related_name="+"
    )
    consent = models.ForeignKey(
        "talents.Consent",
        verbose_name=_("授权记录"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Encrypted at rest: it holds the phone number the student agreed to share.
    shared_snapshot = SealedJSONField(_("已向企业提供的信息"), default=dict, blank=True)
    cover_letter = models.TextField(_("求职说明"), blank=True)
    applied_at = models.DateTimeField(_("投递时间"), default=timezone.now, db_index=True)
    stage_changed_at = models.DateTimeField(_("阶段变更时间"), default=timezone.now)
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    hired_at = models.DateTimeField(_("录用时间"), null=True, blank=True, db_index=True)
    destination = models.OneToOneField(
        "talents.Destination",
        verbose_name=_("写入的毕业去向"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="hire_application",
    )

    class Meta:
        db_table = "jobs_application"
        verbose_name = _("求职申请")
        verbose_name_plural = _("求职申请")
        ordering = ["-applied_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["posting", "talent"], name="jobs_application_unique"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.posting_id}"


class ApplicationEvent(models.Model):
    """The timeline of an application: every stage change, with who, why and whether the
    student was messaged. A ``message`` event changes no stage (from = to = the current one):
    it is an in-app message to the student (an interview invitation, a reminder)."""

    class Action(models.TextChoices):
        APPLY = "apply", _("投递")
        MOVE = "move", _("阶段变更")
        WITHDRAW = "withdraw", _("学生撤回")
        MESSAGE = "message", _("消息")

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="events", verbose_name=_("投递")
    )
    action = models.CharField(_("操作"), max_length=16, choices=Action.choices, default=Action.MOVE)
    from_stage = models.ForeignKey(
        PipelineStage,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("原阶段"),
    )
    to_stage = models.ForeignKey(
        PipelineStage, on_delete=models.PROTECT, related_name="+", verbose_name=_("新阶段")
    )
    note = models.CharField(_("说明"), max_length=500, blank=True)
    # The text the student was sent (shown on their timeline; e-mailed when they have an address).
    message = models.TextField(_("给学生的消息"), blank=True)
    message_sent = models.BooleanField(_("已通知学生"), default=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("操作人"),
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        db_table = "jobs_applicationevent"
        verbose_name = _("申请记录")
        verbose_name_plural = _("申请记录")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.from_stage_id}→{self.to_stage_id}"


class Mode(models.TextChoices):
    ONSITE = "onsite", _("现场")
    ONLINE = "online", _("线上视频")
    # Held on the platform's own video rooms (qinghe.video); the invitation carries the link.
    VIDEO = "video", _("视频面试（平台内）")


class InterviewSlot(models.Model):
    """A time an enterprise offers for interviews on a posting."""

    posting = models.ForeignKey(
        "jobs.Posting",
        on_delete=models.CASCADE,
        related_name="interview_slots",
        verbose_name=_("岗位"),
    )
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    mode = models.CharField(_("方式"), max_length=8, choices=Mode.choices, default=Mode.ONSITE)
    location = models.CharField(_("地点"), max_length=200, blank=True)
    meeting_url = models.URLField(_("视频会议链接"), blank=True)
    capacity = models.PositiveSmallIntegerField(_("可约人数"), default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("创建人"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        db_table = "jobs_interviewslot"
        verbose_name = _("面试时段")
        verbose_name_plural = _("面试时段")
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="jobs_slot_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.posting_id} {self.starts_at:%Y-%m-%d %H:%M}"


class Interview(TimeStampedModel):
    class State(models.TextChoices):
        PROPOSED = "proposed", _("待确认")
        CONFIRMED = "confirmed", _("已确认")
        RESCHEDULE_REQUESTED = "reschedule", _("申请改期")
        CANCELLED = "cancelled", _("已取消")
        DONE = "done", _("已完成")

    class Result(models.TextChoices):
        PENDING = "", _("待定")
        PASSED = "passed", _("通过")
        FAILED = "failed", _("未通过")
        NO_SHOW = "no_show", _("缺席")

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="interviews", verbose_name=_("投递")
    )
    slot = models.ForeignKey(
        InterviewSlot,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="interviews",
        verbose_name=_("面试时段"),
    )
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    mode = models.CharField(_("方式"), max_length=8, choices=Mode.choices, default=Mode.ONSITE)
    location = models.CharField(_("地点"), max_length=200, blank=True)
    meeting_url = models.URLField(_("视频会议链接"), blank=True)
    state = models.CharField(
        _("状态"), max_length=16, choices=State.choices, default=State.PROPOSED, db_index=True
    )
    reminder_sent_at = models.DateTimeField(_("提醒发送时间"), null=True, blank=True)
    notes = models.TextField(_("面试记录（企业内部）"), blank=True)
    result = models.CharField(_("结果"), max_length=16, choices=Result.choices, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("创建人"),
    )

    class Meta:
        db_table = "jobs_interview"
        verbose_name = _("面试")
        verbose_name_plural = _("面试")
        ordering = ["starts_at", "id"]

    def __str__(self) -> str:
        return f"{self.application_id} {self.starts_at:%Y-%m-%d %H:%M}"


class InterviewEvent(models.Model):
    """Confirmations, reschedule requests (with the student's reason), reschedules, reminders
    and results of an interview; reasons are kept here for good."""

    interview = models.ForeignKey(
        Interview, on_delete=models.CASCADE, related_name="events", verbose_name=_("面试")
    )
    action = models.CharField(_("操作"), max_length=24)
    reason = models.CharField(_("原因"), max_length=500, blank=True)
    old_starts_at = models.DateTimeField(_("原时间"), null=True, blank=True)
    new_starts_at = models.DateTimeField(_("新时间"), null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("操作人"),
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        db_table = "jobs_interviewevent"
        verbose_name = _("面试记录")
        verbose_name_plural = _("面试记录")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.interview_id} {self.action}"
