"""Postings (jobs, internships, traineeships), their workflow and favourites. Applications
and interviews live in ``qinghe.recruitment``, the plan's yearly targets in ``qinghe.plan``.

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
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("创建人"),
    )
    # 优质岗位: certified by HR bureau staff against QUALITY_CRITERIA (qinghe.jobs.workflow).
    is_quality = models.BooleanField(_("优质岗位"), default=False, db_index=True)
    quality_criteria = models.JSONField(_("满足的优质岗位标准"), default=list, blank=True)
    quality_note = models.CharField(_("认定说明"), max_length=300, blank=True)
    quality_certified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("优质岗位认定人"),
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
            # the job search's order (newest first, ties by id): read in order, no sort
            models.Index(fields=["-published_at", "-id"], name="jobs_posting_published_order"),
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

    posting = models.ForeignKey(
        Posting, on_delete=models.CASCADE, related_name="events", verbose_name=_("岗位")
    )
    action = models.CharField(_("操作"), max_length=24)
    from_state = models.CharField(_("原状态"), max_length=16, blank=True)
    to_state = models.CharField(_("新状态"), max_length=16, blank=True)
    note = models.CharField(_("说明"), max_length=300, blank=True)
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
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="favourite_postings",
        verbose_name=_("用户"),
    )
    posting = models.ForeignKey(
        Posting, on_delete=models.CASCADE, related_name="favourites", verbose_name=_("岗位")
    )
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
