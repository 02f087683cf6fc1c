"""Matching: occupation tags of postings, majors' occupations, students' matching preferences,
persisted recommendations both ways, and enterprises' invitations to apply."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TagSource(models.TextChoices):
    AUTO = "auto", _("自动推导")
    CURATED = "curated", _("人工校正（随平台发布）")
    STAFF = "staff", _("工作人员校正")


class PostingOccupation(models.Model):
    """One of a posting's most likely occupations. Automatic rows are replaced whenever the
    posting is classified again; staff rows are kept, and while a posting has any, matching
    uses them instead of the automatic ones."""

    posting = models.ForeignKey(
        "jobs.Posting",
        on_delete=models.CASCADE,
        related_name="occupation_tags",
        verbose_name=_("岗位"),
    )
    occupation = models.ForeignKey(
        "reference.Occupation", verbose_name=_("职业"), on_delete=models.PROTECT, related_name="+"
    )
    # Auto: the occupation's share of the top scores (the shares of a posting add up to 1).
    score = models.FloatField(_("得分"), default=0.0)
    rank = models.PositiveSmallIntegerField(_("排名"))
    source = models.CharField(
        _("来源"), max_length=16, choices=TagSource.choices, default=TagSource.AUTO
    )
    # Auto rows of a posting the classifier was not sure of (classify.rank_with_doubt): they
    # are candidates for a person, not used for matching.
    not_sure = models.BooleanField(_("把握不足"), default=False)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("修正人"),
    )
    corrected_at = models.DateTimeField(_("校正时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("岗位职业标注")
        verbose_name_plural = _("岗位职业标注")
        ordering = ["posting", "-source", "rank", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["posting", "occupation", "source"], name="matching_posting_occ_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.posting_id} → {self.occupation_id} ({self.source})"


class MajorOccupation(models.Model):
    """A major category's ranked occupations. Automatic rows come from the catalogs' texts
    (``build_major_occupations``); a person's edit makes a row ``staff`` (kept through
    rebuilds, at its rank); a removal is kept as ``removed`` so a rebuild does not bring the
    occupation back."""

    category = models.ForeignKey(
        "reference.MajorCategory",
        verbose_name=_("专业类"),
        on_delete=models.CASCADE,
        related_name="occupation_links",
    )
    occupation = models.ForeignKey(
        "reference.Occupation", verbose_name=_("职业"), on_delete=models.PROTECT, related_name="+"
    )
    score = models.FloatField(_("文本相关度"), default=0.0)
    rank = models.PositiveSmallIntegerField(_("排名"))
    source = models.CharField(
        _("来源"), max_length=16, choices=TagSource.choices, default=TagSource.AUTO
    )
    removed = models.BooleanField(_("已移除"), default=False)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("修正人"),
    )
    corrected_at = models.DateTimeField(_("校正时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("专业类对应职业")
        verbose_name_plural = _("专业类对应职业")
        ordering = ["category", "removed", "rank", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["category", "occupation"], name="matching_major_occ_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category_id} → {self.occupation_id} #{self.rank}"


class MatchingProfile(models.Model):
    """What a student tells the matching about themselves beyond the talent record."""

    talent = models.OneToOneField(
        "talents.Talent",
        on_delete=models.CASCADE,
        related_name="matching_profile",
        verbose_name=_("人才"),
    )
    preferred_towns = models.ManyToManyField(
        "reference.Town", verbose_name=_("意向镇街"), blank=True, related_name="+"
    )
    preferred_industries = models.ManyToManyField(
        "reference.Industry", verbose_name=_("意向行业"), blank=True, related_name="+"
    )
    expected_salary = models.PositiveIntegerField(_("期望月薪（元）"), null=True, blank=True)
    skills = models.CharField(
        _("技能与关键词"), max_length=300, blank=True, help_text=_("用逗号或顿号分隔")
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    # When this talent's recommendations were last computed (None: never).
    recommended_at = models.DateTimeField(_("推荐计算时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("匹配偏好")
        verbose_name_plural = _("匹配偏好")

    def __str__(self) -> str:
        return f"{self.talent_id}"


class Recommendation(models.Model):
    """A posting recommended to a talent ("为你推荐"): the talent's top 20, with reasons."""

    talent = models.ForeignKey(
        "talents.Talent",
        on_delete=models.CASCADE,
        related_name="recommendations",
        verbose_name=_("人才"),
    )
    posting = models.ForeignKey(
        "jobs.Posting",
        on_delete=models.CASCADE,
        related_name="recommendations",
        verbose_name=_("岗位"),
    )
    score = models.FloatField(_("匹配分"))
    reasons = models.JSONField(_("推荐理由"), default=list)
    computed_at = models.DateTimeField(_("计算时间"))

    class Meta:
        verbose_name = _("岗位推荐")
        verbose_name_plural = _("岗位推荐")
        ordering = ["talent", "-score", "posting"]
        constraints = [
            models.UniqueConstraint(fields=["talent", "posting"], name="matching_rec_unique"),
        ]
        indexes = [models.Index(fields=["talent", "-score"], name="matching_rec_talent_score")]

    def __str__(self) -> str:
        return f"{self.talent_id} → {self.posting_id} {self.score:.1f}"


class Candidate(models.Model):
    """A talent recommended for a posting ("推荐人才"): the posting's top 50 among talents who
    consented to matching. Consent is checked again whenever the list is read."""

    posting = models.ForeignKey(
        "jobs.Posting", on_delete=models.CASCADE, related_name="candidates", verbose_name=_("岗位")
    )
    talent = models.ForeignKey(
        "talents.Talent",
        on_delete=models.CASCADE,
        related_name="candidacies",
        verbose_name=_("人才"),
    )
    score = models.FloatField(_("匹配分"))
    reasons = models.JSONField(_("推荐理由"), default=list)
    computed_at = models.DateTimeField(_("计算时间"))

    class Meta:
        verbose_name = _("推荐人才")
        verbose_name_plural = _("推荐人才")
        ordering = ["posting", "-score", "talent"]
        constraints = [
            models.UniqueConstraint(fields=["posting", "talent"], name="matching_candidate_unique"),
        ]
        indexes = [models.Index(fields=["posting", "-score"], name="matching_cand_posting_score")]

    def __str__(self) -> str:
        return f"{self.posting_id} ← {self.talent_id} {self.score:.1f}"


class Invitation(models.Model):
    """An enterprise invites a recommended talent to apply. Accepting shares the talent's
    information with that enterprise (a share-with-enterprise consent, PIPL Art. 23)."""

    class State(models.TextChoices):
        PENDING = "pending", _("待回复")
        ACCEPTED = "accepted", _("已接受")
        DECLINED = "declined", _("已婉拒")

    posting = models.ForeignKey(
        "jobs.Posting", on_delete=models.CASCADE, related_name="invitations", verbose_name=_("岗位")
    )
    talent = models.ForeignKey(
        "talents.Talent",
        on_delete=models.CASCADE,
        related_name="invitations",
        verbose_name=_("人才"),
    )
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        on_delete=models.CASCADE,
        related_name="invitations",
        verbose_name=_("企业"),
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("邀请人"),
    )
    message = models.CharField(_("邀请留言"), max_length=300, blank=True)
    state = models.CharField(
        _("状态"), max_length=16, choices=State.choices, default=State.PENDING, db_index=True
    )
    consent = models.ForeignKey(
        "talents.Consent",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("同意记录"),
    )
    created_at = models.DateTimeField(_("邀请时间"), auto_now_add=True)
    decided_at = models.DateTimeField(_("回复时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("投递邀请")
        verbose_name_plural = _("投递邀请")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["posting", "talent"], name="matching_invitation_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.posting_id} → {self.talent_id} {self.state}"


class PostingFairness(models.Model):
    """For the fairness report: who the posting's top recommendations are, against everyone
    who qualifies for it (passes the hard filters among talents consenting to matching),
    with and without the native boost. Written with the candidates."""

    posting = models.OneToOneField(
        "jobs.Posting", on_delete=models.CASCADE, related_name="fairness", verbose_name=_("岗位")
    )
    pool = models.PositiveIntegerField(_("符合条件人数"), default=0)
    pool_natives = models.PositiveIntegerField(_("其中鹤山籍"), default=0)
    pool_double_first_class = models.PositiveIntegerField(_("其中双一流"), default=0)
    top = models.PositiveSmallIntegerField(_("前列推荐人数"), default=0)
    top_natives = models.PositiveSmallIntegerField(_("前列中鹤山籍"), default=0)
    top_double_first_class = models.PositiveSmallIntegerField(_("前列中双一流"), default=0)
    top_natives_without_boost = models.PositiveSmallIntegerField(
        _("不加分时前列中鹤山籍"), default=0
    )
    top_double_first_class_without_boost = models.PositiveSmallIntegerField(
        _("不加分时前列中双一流"), default=0
    )
    # False when the stored candidates were too few to know the no-boost list for certain.
    exact = models.BooleanField(_("精确"), default=True)
    # Per group (native, dfc, woman, junior): pool and top-20 counts as recommended, without
    # the boost and without the home-town points, and the score components that separated
    # the group (see qinghe.matching.fairness).
    groups = models.JSONField(_("分组统计"), default=dict)
    computed_at = models.DateTimeField(_("计算时间"))

    class Meta:
        verbose_name = _("推荐公平性")
        verbose_name_plural = _("推荐公平性")

    def __str__(self) -> str:
        return f"{self.posting_id}"
