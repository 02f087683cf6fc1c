"""Reads for liaison work, scoped to who asks: a liaison sees only their own students."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Count, Exists, Max, Min, OuterRef, Q, QuerySet
from django.utils import timezone

from qinghe.core.audit import audit_record
from qinghe.core.errors import NotFound
from qinghe.core.roles import Role
from qinghe.talents.consent import consent_in_force
from qinghe.talents.models import Consent, PhoneNumber, Talent

from .models import Campaign, Consultation, ContactLog, LiaisonAssignment

if TYPE_CHECKING:
    from qinghe.accounts.models import User

CONSULTATION_STAFF = frozenset({Role.HR_STAFF, Role.SYSADMIN})


def my_students(*, liaison: User) -> QuerySet[Talent]:
    reached = ContactLog.objects.filter(talent=OuterRef("pk"), outcome=ContactLog.Outcome.REACHED)
    return (
        Talent.objects.filter(
            merged_into__isnull=True,
            liaison_assignments__liaison=liaison,
            liaison_assignments__active=True,
        )
        .annotate(
            last_reached=Max(
                "contact_logs__contacted_at",
                filter=Q(contact_logs__outcome=ContactLog.Outcome.REACHED),
            ),
            next_follow_up=Min(
                "contact_logs__next_follow_up", filter=Q(contact_logs__follow_up_done=False)
            ),
            wrong_number=Exists(
                PhoneNumber.objects.filter(talent=OuterRef("pk"), is_current=True, is_wrong=True)
            ),
            ever_reached=Exists(reached),
            # The liaison-contact consent in force (True, False, or None when never decided).
            liaison_consent=consent_in_force(Consent.Purpose.LIAISON),
        )
        .order_by("name", "id")
    )


def liaison_talent_get(*, liaison: User, talent_id: int) -> Talent:
    talent = Talent.objects.filter(
        pk=talent_id,
        merged_into__isnull=True,
        liaison_assignments__liaison=liaison,
        liaison_assignments__active=True,
    ).first()
    if talent is None:
        raise NotFound()
    return talent


def term_start(today: dt.date) -> dt.date:
    """The first day of the school term ``today`` falls in: the autumn term from 1 September
    (January and February still belong to it), the spring term from 1 March."""
    if today.month >= 9:
        return dt.date(today.year, 9, 1)
    if today.month >= 3:
        return dt.date(today.year, 3, 1)
    return dt.date(today.year - 1, 9, 1)


@dataclass
class Workspace:
    students: list[Any]
    due_today: list[Any]
    overdue: list[Any]
    lost: list[Any]
    # Not reached (contact log 联系上) since the term began.
    unreached_term: list[Any]
    term_start: dt.date

    @property
    def term_rate(self) -> float:
        """Share of the liaison's students reached this term, in percent (one decimal)."""
        if not self.students:
            return 0.0
        reached = len(self.students) - len(self.unreached_term)
        return round(100 * reached / len(self.students), 1)


# The workspace's quick filters (the workbench links to them): the list each one keeps.
WORKSPACE_SHOW_LABELS: dict[str, str] = {
    "due": "今日应跟进的学子",
    "overdue": "跟进已逾期的学子",
    "lost": "失联或号码错误的学子",
    "unreached": "本学期尚未联系上的学子",
}


def workspace(*, liaison: User, today: dt.date | None = None) -> Workspace:
    today = today or timezone.localdate()
    now = timezone.now()
    lost_after = dt.timedelta(days=settings.OUTREACH_LOST_CONTACT_DAYS)
    start = term_start(today)
    # Talent rows carrying my_students()'s annotations (last_reached, wrong_number,
    # next_follow_up) and the two set below, which the workspace template reads.
    students: list[Any] = list(my_students(liaison=liaison))
    tz = timezone.get_current_timezone()
    term_begins = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    for s in students:
        s.days_since = (now - s.last_reached).days if s.last_reached else None
        s.is_lost = s.wrong_number or s.last_reached is None or now - s.last_reached > lost_after
    _contact_details(liaison=liaison, students=students)
    return Workspace(
        students=students,
        due_today=[s for s in students if s.next_follow_up == today],
        overdue=[s for s in students if s.next_follow_up and s.next_follow_up < today],
        lost=[s for s in students if s.is_lost],
        unreached_term=[
            s for s in students if s.last_reached is None or s.last_reached < term_begins
        ],
        term_start=start,
    )


def _contact_details(*, liaison: User, students: list[Any]) -> None:
    """Sets ``display_name`` and ``phone`` on each row: the full name and current number of a
    student who consented to liaison contact (consent in force), the masked name and no
    number for the others. One query for all the numbers; one audit row with the count when
    any number is shown (as the alliance's ambassador member list does)."""
    consented = [s for s in students if s.liaison_consent]
    numbers: dict[int, str] = {}
    if consented:
        rows = PhoneNumber.objects.filter(
            talent_id__in=[s.pk for s in consented], is_current=True, is_wrong=False
        ).order_by("talent_id", "first_seen", "id")
        for phone in rows:
            numbers[phone.talent_id] = phone.number  # the newest current number wins
    for s in students:
        s.display_name = s.name if s.liaison_consent else s.name_masked
        s.phone = numbers.get(s.pk, "") if s.liaison_consent else ""
    shown = sum(1 for s in students if s.phone)
    if shown:
        audit_record(
            action="outreach.workspace_phones_view",
            actor=liaison,
            summary=f"服务专员查看所联络学子（显示同意联络者的姓名和手机号 {shown} 个）",
            count=shown,
        )


def workspace_rows(ws: Workspace, show: str) -> list[Any]:
    return {
        "due": ws.due_today,
        "overdue": ws.overdue,
        "lost": ws.lost,
        "unreached": ws.unreached_term,
    }.get(show, ws.students)


def contact_rate(*, start: dt.date, end: dt.date) -> dict[str, Any]:
    """Share of assigned students reached at least once in [start, end], per liaison and
    overall, with overdue follow-ups. Two grouped queries whatever the number of liaisons."""
    today = timezone.localdate()
    # Bounds as time stamps of the local days (not ``contacted_at__date``, which converts every
    # row's time stamp and keeps PostgreSQL off the index on (talent, outcome, contacted_at)).
    zone = timezone.get_current_timezone()
    since = dt.datetime.combine(start, dt.time.min, tzinfo=zone)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    reached_talents = ContactLog.objects.filter(
        outcome=ContactLog.Outcome.REACHED, contacted_at__gte=since, contacted_at__lt=until
    ).values("talent_id")
    # Assigned and reached in one pass over the active assignments: the reached talents are
    # one hashed set (``talent IN (…)`` in the count's filter). Two queries (the assignments
    # counted, then joined to the contacts) cost 47 ms of database CPU at 75,000
    # assignments on the board bench; this one 24 ms.
    assigned: dict[int, int] = {}
    reached: dict[int, int] = {}
    for pk, n, hit in (
        LiaisonAssignment.objects.filter(active=True)
        .values("liaison")
        .annotate(n=Count("id"), hit=Count("id", filter=Q(talent__in=reached_talents)))
        .values_list("liaison", "n", "hit")
    ):
        assigned[pk] = n
        reached[pk] = hit
    overdue = dict(
        ContactLog.objects.filter(follow_up_done=False, next_follow_up__lt=today)
        .values("liaison")
        .annotate(n=Count("talent", distinct=True))
        .values_list("liaison", "n")
    )
    from qinghe.accounts.models import User

    names = {u.pk: str(u) for u in User.objects.filter(pk__in=set(assigned) | set(overdue))}
    rows = [
        {
            "liaison": names.get(pk, pk),
            "assigned": assigned.get(pk, 0),
            "reached": reached.get(pk, 0),
            "rate": round(100 * reached.get(pk, 0) / assigned[pk], 1) if assigned.get(pk) else 0.0,
            "overdue": overdue.get(pk, 0),
        }
        for pk in sorted(names, key=lambda k: names[k])
    ]
    total_assigned = sum(assigned.values())
    total_reached = sum(reached.values())
    return {
        "rows": rows,
        "assigned": total_assigned,
        "reached": total_reached,
        "rate": round(100 * total_reached / total_assigned, 1) if total_assigned else 0.0,
        "overdue": sum(overdue.values()),
        "chart": {
            "tooltip": {"trigger": "axis"},
            "grid": {"left": 90, "right": 30, "top": 10, "bottom": 20},
            "xAxis": {"type": "value", "max": 100},
            "yAxis": {
                "type": "category",
                "data": [str(r["liaison"]) for r in rows],
                "inverse": True,
            },
            "series": [
                {
                    "type": "bar",
                    "data": [r["rate"] for r in rows],
                    "itemStyle": {"color": "#0f6b5c"},
                    "label": {"show": True, "position": "right", "formatter": "{c}%"},
                }
            ],
        },
    }


# Quick filters of the staff's consultation list that the workbench links to.
CONSULTATION_SHOW_LABELS: dict[str, str] = {
    "open": "待答复的咨询",
    "overdue": "已超过答复时限、仍待答复的咨询",
}


def consultations_for_staff(*, viewer: User, show: str = "") -> QuerySet[Consultation]:
    qs = Consultation.objects.select_related("talent", "liaison", "station")
    if show in CONSULTATION_SHOW_LABELS:
        qs = qs.filter(state=Consultation.State.OPEN)
    if show == "overdue":
        qs = qs.filter(due_at__lt=timezone.now())
    role = getattr(viewer, "role", None)
    if role in CONSULTATION_STAFF:
        return qs
    if role == Role.LIAISON:
        return qs.filter(liaison=viewer)
    if role == Role.STATION_STAFF and viewer.organisation_id:
        return qs.filter(station_id=viewer.organisation_id)
    return qs.none()


def consultation_get_for_staff(*, viewer: User, consultation_id: int) -> Consultation:
    c = consultations_for_staff(viewer=viewer).filter(pk=consultation_id).first()
    if c is None:
        raise NotFound()
    return c


def consultation_get_for_student(*, student: User, consultation_id: int) -> Consultation:
    c = Consultation.objects.filter(pk=consultation_id, student=student).first()
    if c is None:
        raise NotFound()
    return c


CAMPAIGN_ROLES = frozenset({Role.HR_STAFF, Role.LEAGUE_STAFF, Role.SYSADMIN})


def campaign_list(*, viewer: User) -> QuerySet[Campaign]:
    if getattr(viewer, "role", None) not in CAMPAIGN_ROLES:
        return Campaign.objects.none()
    return Campaign.objects.select_related("segment")


def campaign_get_for_viewer(*, viewer: User, campaign_id: int) -> Campaign:
    c = campaign_list(viewer=viewer).filter(pk=campaign_id).first()
    if c is None:
        raise NotFound()
    return c


@dataclass(frozen=True)
class CampaignProgress:
    """A campaign's status as people read it. Once queued it is derived from its outbox rows
    (``delivery_figures``, one aggregate query), never stored: the outbox is the ledger the
    worker writes at most once per message, so the status cannot drift from what was
    delivered, whatever crashed in between."""

    code: str  # draft | scheduled | queued | sending | done
    label: str
    sent: int = 0
    failed: int = 0
    undelivered: int = 0  # handed over with an unknown outcome, or cancelled before sending
    pending: int = 0

    @property
    def finished(self) -> bool:
        return self.code == "done"


def campaign_progress(*, campaign: Campaign, figures: dict[str, int]) -> CampaignProgress:
    """已入队 until the worker has touched a message, 发送中 while any is queued or being
    sent, 已完成 when none is left to the worker (sent, failed, cancelled, or awaiting a
    person's decision: 需人工确认 counts as undelivered)."""
    if campaign.state != Campaign.State.QUEUED:
        return CampaignProgress(campaign.state, campaign.get_state_display())
    counts = {
        "sent": figures["sent"],
        "failed": figures["failed"],
        "undelivered": figures["unknown"] + figures["cancelled"],
        "pending": figures["pending"],
    }
    if figures["pending"] == 0:
        return CampaignProgress("done", "已完成", **counts)
    if figures["untouched"] == figures["total"]:
        return CampaignProgress("queued", str(Campaign.State.QUEUED.label), **counts)
    return CampaignProgress("sending", "发送中", **counts)
