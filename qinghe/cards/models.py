"""The 鹤才青年卡 (measure 9): one row per card from application to expiry, its materials
(stored encrypted), its events, and the benefits partners give on it.

A card's life is one status table (qinghe/cards/workflow.py) on the workflow engine: submitted
-> reviewed (station staff) -> active (HR staff, not the reviewer) -> suspended / lost / expired;
a reissue gives the lost card a new number and makes it active again. ``status_serial`` goes up
whenever the card's standing changes, so every e-card token signed before is stale at once."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from qinghe.core.crypto import EncryptedTextField
from qinghe.core.masking import mask_id_number
from qinghe.core.models import TimeStampedModel


class Card(TimeStampedModel):
    class State(models.TextChoices):
        SUBMITTED = "submitted", _("待驿站初审")
        REVIEWED = "reviewed", _("待人社局审批")
        REJECTED = "rejected", _("未通过")
        ACTIVE = "active", _("有效")
        SUSPENDED = "suspended", _("已暂停")
        LOST = "lost", _("已挂失作废")
        EXPIRED = "expired", _("已过期")

    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cards"
    )
    talent = models.ForeignKey("talents.Talent", on_delete=models.PROTECT, related_name="cards")
    station = models.ForeignKey(
        "stations.Station", null=True, blank=True, on_delete=models.PROTECT, related_name="cards"
    )
    state = models.CharField(
        _("状态"), max_length=10, choices=State.choices, default=State.SUBMITTED, db_index=True
    )
    # What the holder applied with (pre-filled from the platform's record).
    name = models.CharField(_("姓名"), max_length=64)
    employer = models.CharField(_("工作单位"), max_length=200)
    employer_uscc = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    employer_since = models.DateField(_("入职日期"))
    contract_end = models.DateField(_("劳动合同截止日期"))
    has_qualification = models.BooleanField(_("持有职业资格（技能等级）证书"), default=False)
    requested_tier = models.CharField(_("申请类别"), max_length=8)
    # Decided by staff.
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("初审时间"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    reason = models.CharField(_("说明"), max_length=300, blank=True)
    # The issued card.
    number = models.CharField(_("卡号"), max_length=20, null=True, blank=True, unique=True)
    tier = models.CharField(_("类别"), max_length=8, blank=True)
    valid_from = models.DateField(_("有效期起"), null=True, blank=True)
    valid_until = models.DateField(_("有效期至"), null=True, blank=True, db_index=True)
    status_serial = models.PositiveIntegerField(_("状态序号"), default=0)
    renewals = models.PositiveSmallIntegerField(_("续期次数"), default=0)
    reissues = models.PositiveSmallIntegerField(_("补卡次数"), default=0)
    printed_at = models.DateTimeField(_("实体卡制卡时间"), null=True, blank=True)
    handed_over_at = models.DateTimeField(_("实体卡领取时间"), null=True, blank=True)
    suspended_at = models.DateTimeField(_("暂停时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("鹤才青年卡")
        verbose_name_plural = _("鹤才青年卡")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One card in progress or in force per person; rejected and expired ones stay as
            # history.
            models.UniqueConstraint(
                fields=["holder"],
                condition=models.Q(
                    state__in=["submitted", "reviewed", "active", "suspended", "lost"]
                ),
                name="card_one_current_per_holder",
            )
        ]

    def __str__(self) -> str:
        return self.number or f"申请 #{self.pk}"


class CardMaterial(models.Model):
    class Kind(models.TextChoices):
        CONTRACT = "contract", _("劳动合同")
        EMPLOYER_FORM = "employer_form", _("用人单位盖章申请表")
        DEGREE = "degree", _("学历学位证书")
        QUALIFICATION = "qualification", _("职业资格（技能等级）证书")

    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="materials")
    kind = models.CharField(_("材料"), max_length=16, choices=Kind.choices)
    file_name = models.CharField(_("文件名"), max_length=120)
    content_type = models.CharField(_("文件类型"), max_length=32)
    size = models.PositiveIntegerField(_("大小"))
    sha256 = models.CharField(max_length=64)
    stored_name = models.CharField(_("存储位置"), max_length=300)
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    # Set when the file was deleted after the retention period (qinghe/cards/purge.py); the
    # row stays as the record that the material was received (kind, size, digest).
    purged_at = models.DateTimeField(_("删除时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("申请材料")
        verbose_name_plural = _("申请材料")
        ordering = ["kind", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class CardEvent(models.Model):
    """One move of a card (the workflow's event row)."""

    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("操作"), max_length=24)
    from_state = models.CharField(_("原状态"), max_length=10, blank=True)
    to_state = models.CharField(_("新状态"), max_length=10)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(_("说明"), max_length=300, blank=True)
    data = models.JSONField(_("详情"), default=dict, blank=True)
    at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("卡片记录")
        verbose_name_plural = _("卡片记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.action} #{self.card_id}"


class CardNumberCounter(models.Model):
    """The last number given in a year, taken under a row lock."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("卡号序列")
        verbose_name_plural = _("卡号序列")

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class BenefitUse(models.Model):
    """A benefit a partner gave on a card: no personal data beyond the masked name."""

    card = models.ForeignKey(Card, on_delete=models.PROTECT, related_name="benefit_uses")
    partner = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="benefit_uses"
    )
    benefit = models.CharField(_("权益"), max_length=32)
    card_number = models.CharField(_("卡号"), max_length=20)
    masked_name = models.CharField(_("持卡人"), max_length=64)
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Set when the card shown was a dependant's card of ``card``.
    dependant = models.ForeignKey(
        "DependantCard",
        verbose_name=_("家属卡"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="benefit_uses",
    )
    used_at = models.DateTimeField(_("使用时间"), db_index=True)

    class Meta:
        verbose_name = _("权益使用")
        verbose_name_plural = _("权益使用")
        ordering = ["-used_at", "-id"]

    def __str__(self) -> str:
        return f"{self.benefit} #{self.card_id}"


class DependantCard(TimeStampedModel):
    """A dependant's card (spouse or child) of a holder whose tier allows them (tiers.json:
    ``dependants``). Reviewed like the main card (station, then HR ≠ reviewer); its validity is
    the main card's: it is suspended, voided and expired with it (qinghe/cards/dependants.py).
    It has its own number and e-card; the token marks it as a dependant's."""

    class Relation(models.TextChoices):
        SPOUSE = "spouse", _("配偶")
        CHILD = "child", _("子女")

    class State(models.TextChoices):
        SUBMITTED = "submitted", _("待驿站初审")
        REVIEWED = "reviewed", _("待人社局审批")
        REJECTED = "rejected", _("未通过")
        ACTIVE = "active", _("有效")
        SUSPENDED = "suspended", _("随主卡暂停")
        VOIDED = "voided", _("已作废")
        EXPIRED = "expired", _("已过期")

    card = models.ForeignKey(
        Card, verbose_name=_("主卡"), on_delete=models.PROTECT, related_name="dependants"
    )
    relation = models.CharField(_("关系"), max_length=8, choices=Relation.choices)
    name = models.CharField(_("家属姓名"), max_length=64)
    id_number = EncryptedTextField(_("家属身份证号"))
    id_index = models.CharField(max_length=64, editable=False)
    state = models.CharField(
        _("状态"), max_length=10, choices=State.choices, default=State.SUBMITTED, db_index=True
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("初审时间"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    reason = models.CharField(_("说明"), max_length=300, blank=True)
    number = models.CharField(_("卡号"), max_length=20, null=True, blank=True, unique=True)
    valid_from = models.DateField(_("有效期起"), null=True, blank=True)
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)
    status_serial = models.PositiveIntegerField(_("状态序号"), default=0)

    class Meta:
        verbose_name = _("家属卡")
        verbose_name_plural = _("家属卡")
        ordering = ["created_at", "id"]
        constraints = [
            # The same person once per main card while in progress or in force.
            models.UniqueConstraint(
                fields=["card", "id_index"],
                condition=models.Q(state__in=["submitted", "reviewed", "active", "suspended"]),
                name="dependant_one_current_per_person",
            )
        ]

    def __str__(self) -> str:
        return self.number or f"家属卡申请 #{self.pk}"

    @property
    def id_masked(self) -> str:
        return mask_id_number(self.id_number)


class DependantMaterial(models.Model):
    class Kind(models.TextChoices):
        RELATION = "relation_proof", _("关系证明（结婚证、出生医学证明或户口簿）")
        ID_DOC = "id_doc", _("家属身份证明（身份证或户口簿本人页）")

    dependant = models.ForeignKey(DependantCard, on_delete=models.CASCADE, related_name="materials")
    kind = models.CharField(_("材料"), max_length=16, choices=Kind.choices)
    file_name = models.CharField(_("文件名"), max_length=120)
    content_type = models.CharField(_("文件类型"), max_length=32)
    size = models.PositiveIntegerField(_("大小"))
    sha256 = models.CharField(max_length=64)
    stored_name = models.CharField(_("存储位置"), max_length=300)
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    # Set when the file was deleted after the retention period (qinghe/cards/purge.py); the
    # row stays as the record that the material was received (kind, size, digest).
    purged_at = models.DateTimeField(_("删除时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("家属卡申请材料")
        verbose_name_plural = _("家属卡申请材料")
        ordering = ["kind", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class DependantEvent(models.Model):
    """One move of a dependant's card (its workflow's event row)."""

    dependant = models.ForeignKey(DependantCard, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("操作"), max_length=24)
    from_state = models.CharField(_("原状态"), max_length=10, blank=True)
    to_state = models.CharField(_("新状态"), max_length=10)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(_("说明"), max_length=300, blank=True)
    at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("家属卡记录")
        verbose_name_plural = _("家属卡记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.action} #{self.dependant_id}"
