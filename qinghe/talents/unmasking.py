"""Who may see a student's full phone or ID number, and who did.

A role is not enough for the front-line roles. A liaison unmasks only a student they have a
relationship with (an active assignment, or a consultation routed to them that is not closed)
whose liaison consent is in force, and at most ``QINGHE_UNMASK_LIMIT_PER_DAY`` times a day
(50 by default), counted from the audit trail's "unmask" entries; station staff the same with
the consultations routed to their station. HR bureau staff and system administrators keep
their permission without these conditions (they own the database; every unmasking is still
audited). Enterprise users never reach this: what an enterprise sees of a student goes
through its own consents (applications, accepted invitations; see ``qinghe.matching``).

A refusal raises before anything is read or written: no value, no "unmask" entry."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from qinghe.core.models import AuditLog
from qinghe.core.roles import Role

# The one helper for the consent in force; switch to the shared selector when it lands.
from .consent import consent_decisions
from .models import Consent, Talent
from .selectors import can_unmask

if TYPE_CHECKING:
    from qinghe.accounts.models import User

UNMASK_LIMITED_ROLES = frozenset({Role.LIAISON, Role.STATION_STAFF})
DEFAULT_UNMASK_LIMIT_PER_DAY = 50

NO_PERMISSION = "无权查看完整信息"
NO_RELATIONSHIP = "只能查看分配给你的学生、或由你（你的驿站）办理中的咨询学生的完整信息"
NO_CONSENT = "该学生未同意（或已撤回）服务专员联络，不能查看完整信息"


def unmask_limit_per_day() -> int:
    return int(getattr(settings, "QINGHE_UNMASK_LIMIT_PER_DAY", DEFAULT_UNMASK_LIMIT_PER_DAY))


def _day_start(now: datetime) -> datetime:
    return timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)


def unmasks_today(*, viewer: User, now: datetime | None = None) -> int:
    start = _day_start(now or timezone.now())
    return AuditLog.objects.filter(
        actor=viewer, action=AuditLog.Action.UNMASK, created_at__gte=start
    ).count()


def _related(viewer: User, talent: Talent) -> bool:
    from qinghe.outreach.models import Consultation, LiaisonAssignment

    open_consultations = Consultation.objects.filter(talent=talent).exclude(
        state=Consultation.State.CLOSED
    )
    if viewer.role == Role.LIAISON:
        return (
            LiaisonAssignment.objects.filter(talent=talent, liaison=viewer, active=True).exists()
            or open_consultations.filter(liaison=viewer).exists()
        )
    if viewer.role == Role.STATION_STAFF:
        organisation_id = getattr(viewer, "organisation_id", None)
        return open_consultations.filter(
            Q(liaison=viewer) | Q(station_id=organisation_id)
            if organisation_id
            else Q(liaison=viewer)
        ).exists()
    return False


def _liaison_consent(talent: Talent) -> bool:
    consent = consent_decisions(talent=talent).get((Consent.Purpose.LIAISON, None))
    return bool(consent and consent.granted)


def unmask_refusal(
    *, viewer: User, talent: Talent, field: str, now: datetime | None = None
) -> str | None:
    """Why the viewer may not unmask ``field`` of this talent now; None when they may."""
    if not can_unmask(viewer, field):
        return NO_PERMISSION
    if getattr(viewer, "role", None) not in UNMASK_LIMITED_ROLES:
        return None
    if not _related(viewer, talent):
        return NO_RELATIONSHIP
    if not _liaison_consent(talent):
        return NO_CONSENT
    limit = unmask_limit_per_day()
    if unmasks_today(viewer=viewer, now=now) >= limit:
        return f"今天查看完整信息已达 {limit} 次上限，请明天再试；确有需要请联系人社局工作人员"
    return None


# --------------------------------------------------------------------------------------------
# The report


def unmask_report(*, days: int = 30, now: datetime | None = None) -> list[dict[str, Any]]:
    """Per user and local day: how many unmaskings and of which fields, newest day first."""
    start = _day_start(now or timezone.now()) - timedelta(days=days - 1)
    rows = (
        AuditLog.objects.filter(action=AuditLog.Action.UNMASK, created_at__gte=start)
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values("actor_id", "actor_label", "actor_role", "day")
        .annotate(
            total=Count("id"),
            phone=Count("id", filter=Q(data__field="phone")),
            id_number=Count("id", filter=Q(data__field="id_number")),
        )
        .order_by("-day", "-total", "actor_label")
    )
    return [
        {
            **row,
            "role_label": str(Role(row["actor_role"]).label)
            if row["actor_role"] in Role.values
            else row["actor_role"],
            "over_limit": row["actor_role"] in UNMASK_LIMITED_ROLES
            and row["total"] > unmask_limit_per_day(),
        }
        for row in rows
    ]


def unmask_entries(*, actor_id: int, day: str) -> QuerySet[AuditLog]:
    """The audit entries behind one line of the report."""
    try:
        date = datetime.strptime(day, "%Y-%m-%d").date()
    except ValueError:
        return AuditLog.objects.none()
    tz = timezone.get_current_timezone()
    start = datetime.combine(date, datetime.min.time(), tzinfo=tz)
    return AuditLog.objects.filter(
        action=AuditLog.Action.UNMASK,
        actor_id=actor_id,
        created_at__gte=start,
        created_at__lt=start + timedelta(days=1),
    ).order_by("created_at", "id")
