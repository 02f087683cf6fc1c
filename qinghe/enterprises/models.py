"""Enterprises that recruit through the platform, and their internship bases.

An enterprise is an ``accounts.Organisation`` of kind ``enterprise`` with a profile here; its
HR users are the organisation's members with the ``enterprise_hr`` role. Only a verified
enterprise publishes postings (``qinghe.jobs``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from qinghe.core.crypto import EncryptedTextField
from qinghe.core.masking import mask_phone
from qinghe.core.models import TimeStampedModel


class Enterprise(TimeStampedModel):
    class State(models.TextChoices):
        PENDING = "pending", _("待审核")
        VERIFIED = "verified", _("已认证")
        REJECTED = "rejected", _("未通过")

    class Park(models.TextChoices):
        ZHONGOU = "zhongou", _("中欧（江门）合作区")
        INDUSTRIAL_CITY = "industrial_city", _("鹤山工业城")
        FINE_CHEMICAL = "fine_chemical", _("精细化工产业园")
        OTHER = "other", _("其他")
        NONE = "", _("不在园区")

    class Size(models.TextChoices):
        MICRO = "micro", _("20 人以下")
        SMALL = "small", _("20–99 人")
        MEDIUM = "medium", _("100–299 人")
        LARGE = "large", _("300–999 人")
        XLARGE = "xlarge", _("1000 人及以上")

    organisation = models.OneToOneField(
        "accounts.Organisation",
        verbose_name=_("机构"),
        on_delete=models.PROTECT,
        related_name="enterprise",
    )
    # Stored in its compact form (18 characters, upper case), validated by stdnum.cn.uscc.
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    name = models.CharField(_("企业名称"), max_length=200, db_index=True)
    industry = models.ForeignKey(
        "reference.Industry",
        verbose_name=_("行业（GB/T 4754 大类）"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    town = models.ForeignKey(
        "reference.Town", verbose_name=_("所在镇街"), on_delete=models.PROTECT, related_name="+"
    )
    park = models.CharField(_("所在园区"), max_length=16, choices=Park.choices, blank=True)
    size = models.CharField(_("规模"), max_length=8, choices=Size.choices)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    description = models.TextField(_("企业简介"), blank=True)
    contact_name = models.CharField(_("联系人"), max_length=64)
    contact_phone = EncryptedTextField(_("联系电话"), blank=True, default="")
    state = models.CharField(
        _("认证状态"), max_length=16, choices=State.choices, default=State.PENDING, db_index=True
    )
    reject_reason = models.CharField(_("未通过原因"), max_length=300, blank=True)
    is_key = models.BooleanField(_("重点企业"), default=False, db_index=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    verified_at = models.DateTimeField(_("认证时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("企业")
        verbose_name_plural = _("企业")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def contact_phone_masked(self) -> str:
        return mask_phone(self.contact_phone)

    @property
    def is_verified(self) -> bool:
        return self.state == self.State.VERIFIED


class InternshipBase(TimeStampedModel):
    """An enterprise's application to be a certified internship base (实习基地), and, once
    certified, the period it holds for."""

    class State(models.TextChoices):
        APPLIED = "applied", _("待审核")
        CERTIFIED = "certified", _("已认定")
        REJECTED = "rejected", _("未通过")
        REVOKED = "revoked", _("已撤销")

    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name=_("企业"),
        on_delete=models.PROTECT,
        related_name="internship_bases",
    )
    description = models.TextField(_("基地简介（岗位、带教、食宿安排）"))
    capacity = models.PositiveSmallIntegerField(_("每年可接收实习生人数"))
    requested_from = models.DateField(_("申请期限自"))
    requested_to = models.DateField(_("申请期限至"))
    state = models.CharField(
        _("状态"), max_length=16, choices=State.choices, default=State.APPLIED, db_index=True
    )
    valid_from = models.DateField(_("认定有效期自"), null=True, blank=True)
    valid_to = models.DateField(_("认定有效期至"), null=True, blank=True)
    decision_note = models.CharField(_("审核意见"), max_length=300, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("申请人"),
    )
    certified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("认定人"),
    )
    certified_at = models.DateTimeField(_("认定时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("实习基地")
        verbose_name_plural = _("实习基地")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.enterprise.name} 实习基地"


EVENT_LABELS: dict[str, str] = {
    "register": "注册",
    "verify": "认证通过",
    "reject": "未通过/撤销认证",
    "resubmit": "重新提交审核",
    "base_apply": "申请实习基地",
    "base_certify": "认定实习基地",
    "base_reject": "实习基地不予认定",
    "base_revoke": "撤销实习基地认定",
}


class EnterpriseEvent(models.Model):
    """One row per state change of an enterprise or of one of its internship bases."""

    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.CASCADE, related_name="events", verbose_name=_("企业")
    )
    internship_base = models.ForeignKey(
        InternshipBase,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="events",
        verbose_name=_("实习基地"),
    )
    action = models.CharField(_("操作"), max_length=24)
    from_state = models.CharField(_("原状态"), max_length=16, blank=True)
    to_state = models.CharField(_("新状态"), max_length=16)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("操作人"),
    )
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("企业审核记录")
        verbose_name_plural = _("企业审核记录")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.from_state}→{self.to_state}"

    @property
    def action_label(self) -> str:
        return EVENT_LABELS.get(self.action, self.action)
