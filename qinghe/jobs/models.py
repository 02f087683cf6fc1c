"""Postings (jobs, internships, traineeships), their workflow, favourites, the plan's yearly
targets, and the recruitment pipeline (applications, stages, interviews).

The workflow of a posting is data: ``qinghe.jobs.workflow.POSTING_TRANSITIONS`` lists every
move, and ``services.posting_transition`` is the one function that makes one."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qinghe.core.models import TimeStampedModel

from .fields import SealedJSONField


class MinLevel(models.TextChoices):
    """The lowest education level a posting accepts, in rising order (see LEVEL_RANK)."""

    ANY = "", _("不限")
    SECONDARY = "secondary", _("中专/高中")
    JUNIOR = "junior", _("专科")
    BACHELOR = "bachelor", _("本科")
    MASTER = "master", _("硕士")
    DOCTOR = "doctor", _("博士")


LEVEL_RANK: dict[str, int] = {
    MinLevel.ANY: 0,
    MinLevel.SECONDARY: 1,
    MinLevel.JUNIOR: 2,
    MinLevel.BACHELOR: 3,
    MinLevel.MASTER: 4,
    MinLevel.DOCTOR: 5,
}

# The facts applicants ask about and postings tend to leave out: all required to submit.
FACT_FIELDS: tuple[str, ...] = (
    "working_hours",
    "housing",
    "meals",
    "social_insurance",
    "leave",
    "safety",
)


class Posting(TimeStampedModel):
    class Kind(models.TextChoices):
        JOB = "job", _("全职岗位")
        INTERNSHIP = "internship", _("实习")
        TRAINEESHIP = "traineeship", _("见习")

    class State(models.TextChoices):
        DRAFT = "draft", _("草稿")
        REVIEW = "review", _("待审核")
        PUBLISHED = "published", _("已发布")
        CLOSED = "closed", _("已关闭")
        EXPIRED = "expired", _("已过期")

    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("企业"),
        on_delete=models.PROTECT,
        related_name="postings",
    )
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, default=Kind.JOB)
    title = models.CharField(_("岗位名称"), max_length=120)
    description = models.TextField(_("岗位描述"))
    required_majors = models.ManyToManyField(
        "reference.Major", verbose_name=_("专业要求（专业）"), blank=True, related_name="+"
    )
    required_categories = models.ManyToManyField(
        "reference.MajorCategory",
        verbose_name=_("专业要求（专业类）"),
        blank=True,
        related_name="+",
    )
    # True when neither majors nor categories are required (不限); kept by the services so the
    # search does not need two anti-joins.
    majors_unrestricted = models.BooleanField(_("专业不限"), default=True, editable=False)
    min_level = models.CharField(
        _("最低学历"), max_length=16, choices=MinLevel.choices, blank=True, default=MinLevel.ANY
    )
    headcount = models.PositiveSmallIntegerField(_("招聘人数"), default=1)
    salary_min = models.PositiveIntegerField(_("月薪下限（元）"), null=True, blank=True)
    salary_max = models.PositiveIntegerField(_("月薪上限（元）"), null=True, blank=True)
    town = models.ForeignKey(
        "reference.Town", verbose_name=_("工作镇街"), on_delete=models.PROTECT, related_name="+"
    )
    start_date = models.DateField(_("到岗日期"), null=True, blank=True)
    closing_date = models.DateField(_("截止日期"), null=True, blank=True)
    working_hours = models.TextField(_("工作时间"), blank=True)
    housing = models.TextField(_("住宿"), blank=True)
    meals = models.TextField(_("餐食"), blank=True)
    social_insurance = models.TextField(_("社会保险"), blank=True)
    leave = models.TextField(_("休假"), blank=True)
    safety = models.TextField(_("劳动安全"), blank=True)
    natives_first = models.BooleanField(_("鹤山籍优先"), default=False)
    state = models.CharField(
        _("状态"), max_length=16, choices=State.choices, default=State.DRAFT, db_index=True
    )
    review_note = models.CharField(_("审核意见"), max_length=300, blank=True)
    submitted_at = models.DateTimeField(_("提交审核时间"), null=True, blank=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True, db_index=True)
    closed_at = models.DateTimeField(_("关闭/过期时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # 优质岗位: certified by HR bureau staff against QUALITY_CRITERIA (qinghe.jobs.workflow).
    is_quality = models.BooleanField(_("优质岗位"), default=False, db_index=True)
    quality_criteria = models.JSONField(_("满足的优质岗位标准"), default=list, blank=True)
    quality_note = models.CharField(_("认定说明"), max_length=300, blank=True)
    quality_certified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    quality_certified_at = models.DateTimeField(_("优质岗位认定时间"), null=True, blank=True)
    # Space-joined jieba tokens of title, description and enterprise name, with a space at
    # both ends so that " token " matches whole tokens (qinghe.jobs.search).
    search_tokens = models.TextField(_("检索词"), blank=True, default="", editable=False)

    class Meta:
        verbose_name = _("岗位")
        verbose_name_plural = _("岗位")
        ordering = ["-published_at", "-id"]
        indexes = [
            models.Index(fields=["state", "closing_date"], name="jobs_posting_state_closing"),
            models.Index(fields=["kind", "state"], name="jobs_posting_kind_state"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(salary_min__isnull=True)
                | Q(salary_max__isnull=True)
                | Q(salary_min__lte=models.F("salary_max")),
                name="jobs_posting_salary_range",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def is_expired_on(self, today: dt.date) -> bool:
        return self.closing_date is not None and self.closing_date < today

    def accepts_applications(self, *, today: dt.date | None = None) -> bool:
        """The read-time guard: published, not past its closing date (even before the
        expiry job has run), and its enterprise still verified."""
        today = today or timezone.localdate()
        return (
            self.state == self.State.PUBLISHED
            and not self.is_expired_on(today)
            and self.enterprise.state == "verified"
        )

    @property
    def salary_text(self) -> str:
        if self.salary_min and self.salary_max:
            return f"{self.salary_min}–{self.salary_max} 元/月"
        if self.salary_min:
            return f"{self.salary_min} 元/月起"
        if self.salary_max:
            return f"最高 {self.salary_max} 元/月"
        return "面议"


EVENT_LABELS: dict[str, str] = {
    "create": "新建草稿",
    "edit": "修改",
    "submit": "提交审核",
    "withdraw": "撤回审核",
    "approve": "审核通过并发布",
    "reject": "退回修改",
    "close": "关闭",
    "expire": "到期自动下线",
    "certify_quality": "认定优质岗位",
    "revoke_quality": "撤销优质岗位",
}


class PostingEvent(models.Model):
    """One row per move of a posting (and per quality certification or revocation)."""

    posting = models.ForeignKey(Posting, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("操作"), max_length=24)
    from_state = models.CharField(_("原状态"), max_length=16, blank=True)
    to_state = models.CharField(_("新状态"), max_length=16, blank=True)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("岗位记录")
        verbose_name_plural = _("岗位记录")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.from_state}→{self.to_state}"

    @property
    def action_label(self) -> str:
        return EVENT_LABELS.get(self.action, self.action)

    @property
    def from_label(self) -> str:
        return str(Posting.State(self.from_state).label) if self.from_state else ""

    @property
    def to_label(self) -> str:
        return str(Posting.State(self.to_state).label) if self.to_state else ""


class Favourite(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favourite_postings"
    )
    posting = models.ForeignKey(Posting, on_delete=models.CASCADE, related_name="favourites")
    created_at = models.DateTimeField(_("收藏时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("收藏")
        verbose_name_plural = _("收藏")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "posting"], name="jobs_favourite_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}→{self.posting_id}"


class YearTarget(models.Model):
    """The plan's goals for one year (measures 5 and 6), editable by HR bureau staff."""

    year = models.PositiveSmallIntegerField(_("年度"), unique=True)
    quality_jobs = models.PositiveIntegerField(_("优质岗位目标"), default=500)
    internship_bases = models.PositiveIntegerField(_("认定实习基地目标"), default=10)
    internship_posts = models.PositiveIntegerField(_("实习岗位目标"), default=500)
    native_hires = models.PositiveIntegerField(_("鹤山籍录用目标"), default=300)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("年度目标")
        verbose_name_plural = _("年度目标")
        ordering = ["-year"]

    def __str__(self) -> str:
        return f"{self.year} 年度目标"


# --- The recruitment pipeline (measure 4, part B builds the services and pages) -------------


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
        Posting, verbose_name=_("岗位"), on_delete=models.PROTECT, related_name="applications"
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

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("操作"), max_length=16, choices=Action.choices, default=Action.MOVE)
    from_stage = models.ForeignKey(
        PipelineStage, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_stage = models.ForeignKey(PipelineStage, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(_("说明"), max_length=500, blank=True)
    # The text the student was sent (shown on their timeline; e-mailed when they have an address).
    message = models.TextField(_("给学生的消息"), blank=True)
    message_sent = models.BooleanField(_("已通知学生"), default=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("申请记录")
        verbose_name_plural = _("申请记录")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.from_stage_id}→{self.to_stage_id}"


class Mode(models.TextChoices):
    ONSITE = "onsite", _("现场")
    ONLINE = "online", _("线上视频")


class InterviewSlot(models.Model):
    """A time an enterprise offers for interviews on a posting."""

    posting = models.ForeignKey(Posting, on_delete=models.CASCADE, related_name="interview_slots")
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    mode = models.CharField(_("方式"), max_length=8, choices=Mode.choices, default=Mode.ONSITE)
    location = models.CharField(_("地点"), max_length=200, blank=True)
    meeting_url = models.URLField(_("视频会议链接"), blank=True)
    capacity = models.PositiveSmallIntegerField(_("可约人数"), default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
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
        Application, on_delete=models.CASCADE, related_name="interviews"
    )
    slot = models.ForeignKey(
        InterviewSlot, null=True, blank=True, on_delete=models.SET_NULL, related_name="interviews"
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
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("面试")
        verbose_name_plural = _("面试")
        ordering = ["starts_at", "id"]

    def __str__(self) -> str:
        return f"{self.application_id} {self.starts_at:%Y-%m-%d %H:%M}"


class InterviewEvent(models.Model):
    """Confirmations, reschedule requests (with the student's reason), reschedules, reminders
    and results of an interview; reasons are kept here for good."""

    interview = models.ForeignKey(Interview, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("操作"), max_length=24)
    reason = models.CharField(_("原因"), max_length=500, blank=True)
    old_starts_at = models.DateTimeField(_("原时间"), null=True, blank=True)
    new_starts_at = models.DateTimeField(_("新时间"), null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("面试记录")
        verbose_name_plural = _("面试记录")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.interview_id} {self.action}"
