"""The roles of the platform. Kept apart from the user model so that policies, navigation and
tests can import them without touching the ORM."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    STUDENT = "student", _("学子")
    ENTERPRISE_HR = "enterprise_hr", _("企业人事")
    HR_STAFF = "hr_staff", _("人社局工作人员")
    EDU_STAFF = "edu_staff", _("教育局工作人员")
    LIAISON = "liaison", _("服务专员")
    LEAGUE_STAFF = "league_staff", _("团市委/组织部工作人员")
    STATION_STAFF = "station_staff", _("人才驿站工作人员")
    AMBASSADOR = "ambassador", _("联盟分会大使")
    AUDITOR = "auditor", _("审计员")
    # A partner organisation of the 鹤才青年卡 (hospital, transport, venue): verifies cards and
    # logs the benefits it gives, nothing else.
    PARTNER = "partner", _("合作单位")
    SYSADMIN = "sysadmin", _("系统管理员")


ALL_ROLES: frozenset[str] = frozenset(Role.values)

# Government staff: two-factor authentication and a 30-minute idle session.
STAFF_ROLES: frozenset[str] = frozenset(
    {
        Role.HR_STAFF,
        Role.EDU_STAFF,
        Role.LIAISON,
        Role.LEAGUE_STAFF,
        Role.STATION_STAFF,
        Role.AUDITOR,
        Role.SYSADMIN,
    }
)

# Staff who may browse reference data.
REFERENCE_READERS: frozenset[str] = STAFF_ROLES - {Role.AUDITOR}
