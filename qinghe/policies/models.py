"""Policies (the library), subsidy programmes with their rules as data, applications, payments."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from qinghe.core.models import TimeStampedModel


class Policy(TimeStampedModel):
    class Level(models.TextChoices):
        NATIONAL = "national", _("国家")
        GUANGDONG = "guangdong", _("广东省")
        JIANGMEN = "jiangmen", _("江门市")
        HESHAN = "heshan", _("鹤山市")

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("已发布")

    title = models.CharField(_("标题"), max_length=200)
    level = models.CharField(_("层级"), max_length=16, choices=Level.choices)
    issuer = models.CharField(_("发文机关"), max_length=200)
    # Blank when the document number is not known for certain: never invented.
    doc_number = models.CharField(_("文号"), max_length=100, blank=True)
    effective_from = models.DateField(_("生效日期"), null=True, blank=True)
    effective_to = models.DateField(_("失效日期"), null=True, blank=True)
    summary = models.TextField(_("摘要"), blank=True)
    full_text = models.TextField(_("全文"), blank=True)
    # Tags: industry, talent type, life event (毕业、创业、购房、子女入学 ...).
    tags = models.JSONField(_("标签"), default=list, blank=True)
    # " tag1 tag2 ": the tags for an exact-tag filter that works alike on both databases.
    tag_index = models.TextField(editable=False, blank=True, default="")
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.PUBLISHED
    )
    replaced_by = models.ForeignKey(
        "self",
        verbose_name=_("被替代为"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replaces",
    )
    # jieba tokens of title, issuer, number, summary, text and tags (see qinghe.jobs.search).
    search_tokens = models.TextField(editable=False, blank=True, default="")

    class Meta:
        # Newest first; undated ones last on both databases (PostgreSQL puts NULLs first).
        ordering = [models.F("effective_from").desc(nulls_last=True), "-id"]
        verbose_name = _("政策")
        verbose_name_plural = _("政策")

    def __str__(self) -> str:
        return self.title


class PolicyAttachment(models.Model):
    """A file published with one version of a policy (the document's annexes, forms, tables):
    public like the policy. Type checked by content, stored under policies/attachments/."""

    policy = models.ForeignKey(
        Policy, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("政策")
    )
    title = models.CharField(_("附件名称"), max_length=200)
    filename = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField(_("大小"))
    storage_name = models.CharField(max_length=300)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("上传人"),
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("政策附件")
        verbose_name_plural = _("政策附件")

    def __str__(self) -> str:
        return self.title


class Programme(TimeStampedModel):
    class Schedule(models.TextChoices):
        ONCE = "once", _("一次性")
        MONTHLY = "monthly", _("按月，共 N 个月")
        YEARLY = "yearly", _("按年，最多 N 年")

    code = models.SlugField(_("代码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=120)
    policy = models.ForeignKey(
        Policy,
        verbose_name=_("政策依据"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="programmes",
    )
    description = models.TextField(_("说明"), blank=True)
    # An integer CEL expression over qinghe.policies.rules.FIELDS (a constant for a fixed amount).
    amount_expression = models.TextField(_("金额表达式（元）"))
    amount_text = models.CharField(_("金额说明"), max_length=200, blank=True)
    schedule = models.CharField(
        _("发放方式"), max_length=16, choices=Schedule.choices, default=Schedule.ONCE
    )
    periods = models.PositiveSmallIntegerField(_("期数"), default=1)
    materials = models.JSONField(_("申请材料"), default=list, blank=True)
    active = models.BooleanField(_("受理中"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("补贴项目")
        verbose_name_plural = _("补贴项目")

    def __str__(self) -> str:
        return self.name


class Rule(models.Model):
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="rules")
    code = models.SlugField(_("规则代码"), max_length=64)
    explanation = models.CharField(_("说明"), max_length=300)
    expression = models.TextField(_("条件表达式"))
    passes_from = models.TextField(_("满足日期表达式"), blank=True)
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)
    version = models.PositiveIntegerField(_("版本"), default=1)
    active = models.BooleanField(_("有效"), default=True)

    class Meta:
        ordering = ["programme", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "code"], name="policies_rule_code_unique")
        ]
        verbose_name = _("资格规则")
        verbose_name_plural = _("资格规则")

    def __str__(self) -> str:
        return self.code


class RuleVersion(models.Model):
    """Every saved state of a rule (created, edited, retired), with who and when."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    code = models.CharField(max_length=64)
    explanation = models.CharField(max_length=300)
    expression = models.TextField()
    passes_from = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["rule", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "version"], name="policies_ruleversion_unique")
        ]
        verbose_name = _("规则版本")
        verbose_name_plural = _("规则版本")

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"


class Application(TimeStampedModel):
    class State(models.TextChoices):
        SUBMITTED = "submitted", _("已提交，待初审")
        MORE_MATERIALS = "more_materials", _("待补充材料")
        REVIEWED = "reviewed", _("初审通过，待复审")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("未通过")
        WITHDRAWN = "withdrawn", _("已撤回")

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="applications")
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="subsidy_applications"
    )
    state = models.CharField(
        _("状态"), max_length=20, choices=State.choices, default=State.SUBMITTED, db_index=True
    )
    # What the applicant declared (fields of rules.FIELDS marked declared), as given.
    declared = models.JSONField(_("申报信息"), default=dict)
    # The last eligibility check: {"at", "as_of", "eligible", "amount", "results": [...]}.
    eligibility = models.JSONField(_("资格核查"), default=dict)
    amount = models.PositiveIntegerField(_("金额（元）"), default=0)
    double_first_class = models.BooleanField(_("双一流"), default=False)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("初审人"),
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("复审人"),
    )
    reason = models.CharField(_("原因"), max_length=300, blank=True)
    decided_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("补贴申请")
        verbose_name_plural = _("补贴申请")

    def __str__(self) -> str:
        return f"{self.programme} #{self.pk}"


class ApplicationEvent(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=32)
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=300, blank=True)
    eligible = models.BooleanField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("申请办理记录")
        verbose_name_plural = _("申请办理记录")

    def __str__(self) -> str:
        return f"{self.action} {self.from_state}->{self.to_state}"


class Material(models.Model):
    """An uploaded file, stored encrypted (qinghe.talents.importing.storage.save_private)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="files")
    kind = models.CharField(_("材料"), max_length=100)
    filename = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    storage_name = models.CharField(max_length=300)
    uploaded_at = models.DateTimeField(auto_now_add=True)
    # Set by the retention purge (services.materials_purge): the file is deleted and its name
    # cleared; the row stays so the application shows what was provided and when it went.
    purged_at = models.DateTimeField(_("删除时间"), null=True, blank=True)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("申请材料")
        verbose_name_plural = _("申请材料")

    def __str__(self) -> str:
        return self.filename


class Payment(models.Model):
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="payments")
    # "1" for a one-off payment; "2026-07" for a monthly one; "2026" for a yearly one.
    period = models.CharField(_("期次"), max_length=16)
    amount = models.PositiveIntegerField(_("金额（元）"))
    paid_on = models.DateField(_("发放日期"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["paid_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "period"], name="policies_payment_once_per_period"
            )
        ]
        verbose_name = _("发放记录")
        verbose_name_plural = _("发放记录")

    def __str__(self) -> str:
        return f"#{self.application_id} {self.period}"
