"""青鹤联盟 (measure 3): chapters where Heshan students gather, and their members.

A chapter stands on an ``accounts.Organisation`` of kind ``chapter`` (so events it organises,
ambassadors' accounts and the talent record's ``chapter`` keep pointing at one body). A student
belongs to at most one chapter per *slot*: their university's, their city's (a city chapter,
an overseas liaison station or a partner chapter such as 粤港联分部) and their former school's
(a high school or a vocational school). The database enforces it with partial unique
constraints, so two concurrent applications cannot both succeed."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from qinghe.core.models import TimeStampedModel


class Slot(models.TextChoices):
    UNIVERSITY = "university", _("高校")
    PLACE = "place", _("城市")
    SCHOOL = "school", _("母校")


class Chapter(TimeStampedModel):
    class Kind(models.TextChoices):
        UNIVERSITY = "university", _("高校分会")
        CITY = "city", _("城市分会")
        HIGH_SCHOOL = "high_school", _("高中分会")
        VOCATIONAL = "vocational", _("职业院校分会")
        OVERSEAS = "overseas", _("驻外鹤才联络站")
        PARTNER = "partner", _("合作分会")

    class State(models.TextChoices):
        ACTIVE = "active", _("活跃")
        MERGED = "merged", _("已合并")
        RETIRED = "retired", _("已撤销")

    organisation = models.OneToOneField(
        "accounts.Organisation",
        verbose_name=_("机构"),
        on_delete=models.PROTECT,
        related_name="chapter_profile",
    )
    name = models.CharField(_("分会名称"), max_length=120)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, db_index=True)
    city = models.CharField(_("所在城市"), max_length=32, blank=True, db_index=True)
    university = models.ForeignKey(
        "reference.University",
        verbose_name=_("高校"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="chapters",
    )
    school_name = models.CharField(_("学校名称"), max_length=100, blank=True)
    description = models.TextField(_("简介"), blank=True)
    state = models.CharField(
        _("状态"), max_length=16, choices=State.choices, default=State.ACTIVE, db_index=True
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("并入"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_from",
    )
    closed_at = models.DateTimeField(_("合并/撤销时间"), null=True, blank=True)
    close_reason = models.CharField(_("合并/撤销说明"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("联盟分会")
        verbose_name_plural = _("联盟分会")
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def slot(self) -> str:
        return SLOT_OF_KIND[self.kind]

    @property
    def is_active(self) -> bool:
        return self.state == self.State.ACTIVE


SLOT_OF_KIND: dict[str, str] = {
    Chapter.Kind.UNIVERSITY: Slot.UNIVERSITY,
    Chapter.Kind.CITY: Slot.PLACE,
    Chapter.Kind.OVERSEAS: Slot.PLACE,
    Chapter.Kind.PARTNER: Slot.PLACE,
    Chapter.Kind.HIGH_SCHOOL: Slot.SCHOOL,
    Chapter.Kind.VOCATIONAL: Slot.SCHOOL,
}


class Membership(TimeStampedModel):
    class Status(models.TextChoices):
        PENDING = "pending", _("待审核")
        INVITED = "invited", _("已邀请")
        ACTIVE = "active", _("在会")
        REJECTED = "rejected", _("未通过")
        DECLINED = "declined", _("已谢绝邀请")
        LEFT = "left", _("已退出")
        ENDED = "ended", _("分会已合并或撤销")

    class Role(models.TextChoices):
        MEMBER = "member", _("会员")
        LEADER = "leader", _("负责人")

    chapter = models.ForeignKey(
        Chapter, verbose_name=_("分会"), on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("学子"),
        on_delete=models.CASCADE,
        related_name="chapter_memberships",
    )
    # The chapter kind's slot, copied here so the database can hold one per slot.
    slot = models.CharField(_("归属"), max_length=16, choices=Slot.choices)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, db_index=True)
    role = models.CharField(_("身份"), max_length=16, choices=Role.choices, default=Role.MEMBER)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("邀请人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    joined_at = models.DateTimeField(_("入会时间"), null=True, blank=True)
    ended_at = models.DateTimeField(_("退出时间"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("分会会员")
        verbose_name_plural = _("分会会员")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One application or membership per slot (an invitation holds no place yet).
            models.UniqueConstraint(
                fields=["user", "slot"],
                condition=Q(status__in=["pending", "active"]),
                name="membership_one_per_slot",
            ),
            # One open application, invitation or membership per chapter.
            models.UniqueConstraint(
                fields=["user", "chapter"],
                condition=Q(status__in=["pending", "invited", "active"]),
                name="membership_one_open_per_chapter",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.chapter} · {self.user}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


OPEN_STATUSES = (Membership.Status.PENDING, Membership.Status.INVITED, Membership.Status.ACTIVE)
HOLDING_STATUSES = (Membership.Status.PENDING, Membership.Status.ACTIVE)


# ---- ambassadors (高校引才大使) ------------------------------------------------------------------


class AmbassadorRound(TimeStampedModel):
    """One year's nomination round. Staff open it, shortlist nominations, and either appoint
    the year's ambassadors or let each chapter's members vote among the shortlisted."""

    class State(models.TextChoices):
        NOMINATING = "nominating", _("提名中")
        VOTING = "voting", _("投票中")
        CLOSED = "closed", _("已结束")

    class Mode(models.TextChoices):
        APPOINT = "appoint", _("工作人员任命")
        VOTE = "vote", _("分会会员投票")

    year = models.PositiveSmallIntegerField(_("年度"), unique=True)
    mode = models.CharField(_("产生方式"), max_length=16, choices=Mode.choices)
    state = models.CharField(
        _("状态"), max_length=16, choices=State.choices, default=State.NOMINATING
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("大使评选")
        verbose_name_plural = _("大使评选")
        ordering = ["-year"]

    def __str__(self) -> str:
        return f"{self.year} 年度高校引才大使评选"


class Nomination(TimeStampedModel):
    class State(models.TextChoices):
        NOMINATED = "nominated", _("已提名")
        SHORTLISTED = "shortlisted", _("入围")
        NOT_SHORTLISTED = "not_shortlisted", _("未入围")
        APPOINTED = "appointed", _("当选")
        NOT_APPOINTED = "not_appointed", _("未当选")
        ENDED = "ended", _("任期届满")

    round = models.ForeignKey(
        AmbassadorRound,
        verbose_name=_("评选"),
        on_delete=models.CASCADE,
        related_name="nominations",
    )
    chapter = models.ForeignKey(
        Chapter, verbose_name=_("分会"), on_delete=models.PROTECT, related_name="nominations"
    )
    nominee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("被提名人"),
        on_delete=models.CASCADE,
        related_name="ambassador_nominations",
    )
    nominated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提名人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    statement = models.CharField(_("推荐理由"), max_length=500, blank=True)
    state = models.CharField(
        _("状态"), max_length=16, choices=State.choices, default=State.NOMINATED, db_index=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    term_ends_on = models.DateField(_("任期至"), null=True, blank=True)

    class Meta:
        verbose_name = _("大使提名")
        verbose_name_plural = _("大使提名")
        ordering = ["chapter_id", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "chapter", "nominee"], name="nomination_once_per_chapter"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.round.year} {self.chapter} · {self.nominee}"


class Vote(models.Model):
    """One vote per member per chapter per round; the voter is kept so results are auditable."""

    round = models.ForeignKey(AmbassadorRound, on_delete=models.CASCADE, related_name="votes")
    chapter = models.ForeignKey(Chapter, on_delete=models.PROTECT, related_name="+")
    voter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("投票人"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    nomination = models.ForeignKey(
        Nomination, verbose_name=_("所投候选人"), on_delete=models.CASCADE, related_name="votes"
    )
    cast_at = models.DateTimeField(_("投票时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("投票")
        verbose_name_plural = _("投票")
        constraints = [
            models.UniqueConstraint(
                fields=["round", "chapter", "voter"], name="vote_once_per_member"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.round.year} {self.chapter} 投票"


class ActivityReport(TimeStampedModel):
    """What an ambassador reports: a gathering, a campus talk, a visit, with attendance."""

    ambassador = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("大使"),
        on_delete=models.CASCADE,
        related_name="activity_reports",
    )
    chapter = models.ForeignKey(
        Chapter, verbose_name=_("分会"), on_delete=models.PROTECT, related_name="reports"
    )
    held_on = models.DateField(_("活动日期"))
    title = models.CharField(_("活动名称"), max_length=120)
    attendance = models.PositiveIntegerField(_("参加人数"))
    description = models.TextField(_("活动简述"), blank=True)

    class Meta:
        verbose_name = _("大使活动报告")
        verbose_name_plural = _("大使活动报告")
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return f"{self.held_on} {self.title}"


# ---- role models and hometown stories (榜样故事) --------------------------------------------------


class Story(TimeStampedModel):
    """A Heshan graduate who came back, told with their consent (recorded: when and how).
    Tagged by industry, school and town so it appears beside related postings and events."""

    class State(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("已发布")
        WITHDRAWN = "withdrawn", _("已撤下")

    title = models.CharField(_("标题"), max_length=80)
    person_name = models.CharField(_("主人公"), max_length=32)
    person_role = models.CharField(_("现任职务"), max_length=80, blank=True)
    summary = models.CharField(_("摘要"), max_length=200)
    body = models.TextField(_("正文"))
    consent_on = models.DateField(_("本人同意日期"))
    consent_note = models.CharField(_("同意方式"), max_length=120)
    industry = models.ForeignKey(
        "reference.Industry",
        verbose_name=_("行业"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    university = models.ForeignKey(
        "reference.University",
        verbose_name=_("毕业院校"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    town = models.ForeignKey(
        "reference.Town",
        verbose_name=_("家乡镇街"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    state = models.CharField(
        _("状态"), max_length=16, choices=State.choices, default=State.DRAFT, db_index=True
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("编辑"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("榜样故事")
        verbose_name_plural = _("榜样故事")
        ordering = ["-published_at", "-id"]

    def __str__(self) -> str:
        return self.title
