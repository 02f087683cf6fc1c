from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qinghe.core.crypto import EncryptedTextField
from qinghe.core.masking import mask_phone
from qinghe.core.models import TimeStampedModel
from qinghe.core.roles import STAFF_ROLES, Role


class Organisation(TimeStampedModel):
    """A body users belong to: a bureau, an enterprise, an alliance chapter or a talent station."""

    class Kind(models.TextChoices):
        BUREAU = "bureau", _("政府部门")
        ENTERPRISE = "enterprise", _("企业")
        CHAPTER = "chapter", _("青鹤联盟分会")
        STATION = "station", _("人才驿站")
        PARTNER = "partner", _("青年卡合作单位")

    class Bureau(models.TextChoices):
        HRSS = "hrss", _("人社局")
        EDUCATION = "education", _("教育局")
        LEAGUE = "league", _("团市委")
        ORGANISATION = "organisation", _("组织部")

    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    bureau = models.CharField(_("部门"), max_length=16, choices=Bureau.choices, blank=True)
    name = models.CharField(_("名称"), max_length=200)
    code = models.CharField(_("统一社会信用代码/编码"), max_length=32, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("机构")
        verbose_name_plural = _("机构")
        constraints = [
            models.UniqueConstraint(fields=["kind", "name"], name="organisation_unique_kind_name"),
        ]

    def __str__(self) -> str:
        return self.name


class QingheUserManager(UserManager["User"]):
    def create_superuser(
        self, username: str, email: str | None = None, password: str | None = None, **extra: object
    ) -> User:
        extra.setdefault("role", Role.SYSADMIN)
        return super().create_superuser(username, email, password, **extra)


class User(AbstractUser):
    """Signs in with a username or a mobile phone. The phone is stored encrypted; its blind
    index ``phone_index`` serves the look-up at sign-in and uniqueness."""

    role = models.CharField(_("角色"), max_length=32, choices=Role.choices, default=Role.STUDENT)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("所属机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    display_name = models.CharField(_("姓名"), max_length=64, blank=True)
    phone = EncryptedTextField(_("手机号"), blank=True, default="")
    phone_index = models.CharField(
        max_length=64, null=True, blank=True, unique=True, editable=False
    )

    objects: ClassVar[QingheUserManager] = QingheUserManager()  # type: ignore[assignment]  # django-stubs declares AbstractUser.objects as UserManager[Self]; ours is its subclass

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    @property
    def is_staff_role(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    def __str__(self) -> str:
        return self.display_name or self.username


class PhoneVerification(models.Model):
    """A one-time SMS code sent to a phone. Neither the phone nor the code is stored in the
    clear: the phone as its blind index, the code as a keyed hash bound to that index."""

    class Purpose(models.TextChoices):
        REGISTER = "register", _("注册")
        CLAIM = "claim", _("认领档案")

    phone_index = models.CharField(max_length=64, db_index=True, editable=False)
    code_hash = models.CharField(max_length=64, editable=False)
    purpose = models.CharField(_("用途"), max_length=16, choices=Purpose.choices)
    expires_at = models.DateTimeField(_("过期时间"))
    attempts = models.PositiveSmallIntegerField(_("错误次数"), default=0)
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)
    # Set by the service (not auto_now_add) so that rate limits can be tested at a given time.
    created_at = models.DateTimeField(_("发送时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("短信验证码")
        verbose_name_plural = _("短信验证码")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["phone_index", "purpose", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()}验证码 #{self.pk}"
