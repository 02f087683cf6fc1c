"""Reads of applications, stages and interviews, scoped by who asks.

- An enterprise's HR sees the applications to its own postings whose sharing consent is still
  in force: when the student withdraws it (at /me/), the applicant disappears from every list
  and the detail answers 404, exactly as for another enterprise's applicant.
- A student sees their own applications.
- HR bureau staff see every application (without what was shared with the enterprise).

Missing and forbidden objects alike raise NotFound."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.http import QueryDict
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.core.errors import NotFound
from qinghe.core.roles import Role
from qinghe.enterprises.models import Enterprise
from qinghe.jobs.models import Posting
from qinghe.talents.consent import consent_in_force
from qinghe.talents.models import Consent, Talent

from .models import (
    Application,
    ApplicationEvent,
    Interview,
    InterviewEvent,
    InterviewSlot,
    PipelineStage,
)

SELF_ROLES = frozenset({Role.STUDENT, Role.AMBASSADOR})
# HR bureau staff follow every application (read-only): the plan's hires are theirs to count.
APPLICATION_STAFF = frozenset({Role.HR_STAFF, Role.SYSADMIN})
OPEN_INTERVIEW_STATES = (
    Interview.State.PROPOSED,
    Interview.State.CONFIRMED,
    Interview.State.RESCHEDULE_REQUESTED,
)


def _org_id(viewer: User) -> int | None:
    if getattr(viewer, "role", None) != Role.ENTERPRISE_HR:
        return None
    return getattr(viewer, "organisation_id", None) or None


def share_consent_in_force() -> Subquery:
    """For an Application queryset: the applicant's share-with-this-enterprise decision in
    force (True, False, or NULL when there is none)."""
    return consent_in_force(
        Consent.Purpose.SHARE_ENTERPRISE,
        talent_ref="talent_id",
        enterprise=OuterRef("enterprise__organisation_id"),
    )


def with_open_interview(qs: QuerySet[Application]) -> QuerySet[Application]:
    return qs.annotate(
        open_interview=Exists(
            Interview.objects.filter(application=OuterRef("pk"), state__in=OPEN_INTERVIEW_STATES)
        ),
        reschedule_asked=Exists(
            Interview.objects.filter(
                application=OuterRef("pk"), state=Interview.State.RESCHEDULE_REQUESTED
            )
        ),
    )


# --- an enterprise's applicants ----------------------------------------------------------------


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Midnight to midnight of a local day."""
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    return start, start + dt.timedelta(days=1)


def interviews_between(start: dt.datetime, end: dt.datetime | None = None) -> Exists:
    """For an Application queryset: an open interview starting in [start, end)."""
    interviews = Interview.objects.filter(
        application=OuterRef("pk"), state__in=OPEN_INTERVIEW_STATES, starts_at__gte=start
    )
    if end is not None:
        interviews = interviews.filter(starts_at__lt=end)
    return Exists(interviews)


# Quick filters of the enterprise's applicant list that the workbench links to.
APPLICANT_SHOW_LABELS: dict[str, str] = {
    "new": "新投递、尚未处理的应聘者",
    "today": "今天有面试的应聘者",
}


@dataclass
class ApplicantFilter:
    posting: int | None = None
    stage: int | None = None
    q: str = ""
    # "new": still in the 已投递 stage nobody moved it from; "today": an open interview today.
    show: str = ""

    @classmethod
    def from_query(cls, data: QueryDict | dict[str, Any]) -> ApplicantFilter:
        def number(name: str) -> int | None:
            raw = str(data.get(name) or "").strip()
            return int(raw) if raw.isdigit() and len(raw) < 10 else None

        show = str(data.get("show") or "")
        return cls(
            posting=number("posting"),
            stage=number("stage"),
            q=str(data.get("q") or "")[:50],
            show=show if show in APPLICANT_SHOW_LABELS else "",
        )


def enterprise_applications(
    *, viewer: User, filters: ApplicantFilter | None = None
) -> QuerySet[Application]:
    org_id = _org_id(viewer)
    if org_id is None:
        return Application.objects.none()
    qs = (
        Application.objects.filter(enterprise__organisation_id=org_id)
        .annotate(share_granted=share_consent_in_force())
        .filter(share_granted=True)
    )
    filters = filters or ApplicantFilter()
    if filters.posting:
        qs = qs.filter(posting_id=filters.posting)
    if filters.stage:
        qs = qs.filter(stage_id=filters.stage)
    if filters.q:
        qs = qs.filter(Q(talent__name__contains=filters.q) | Q(posting__title__contains=filters.q))
    if filters.show == "new":
        qs = qs.filter(stage__kind=PipelineStage.Kind.APPLIED)
    elif filters.show == "today":
        qs = qs.filter(interviews_between(*day_bounds(timezone.localdate())))
    return (
        with_open_interview(qs)
        .select_related("posting", "stage", "talent")
        .order_by("-applied_at", "-id")
    )


def enterprise_application_get(*, viewer: User, application_id: int) -> Application:
    application = (
        enterprise_applications(viewer=viewer)
        .select_related("enterprise", "enterprise__organisation", "posting__town")
        .filter(pk=application_id)
        .first()
    )
    if application is None:
        raise NotFound()
    return application


def enterprise_interview_get(*, viewer: User, interview_id: int) -> Interview:
    """An interview of one of the enterprise's visible applicants."""
    visible = enterprise_applications(viewer=viewer).values("pk")
    interview = (
        Interview.objects.select_related("application", "slot")
        .filter(pk=interview_id, application_id__in=visible)
        .first()
    )
    if interview is None:
        raise NotFound()
    return interview


def posting_applicant_counts(*, viewer: User) -> dict[int, int]:
    """Visible applicants per posting of the viewer's enterprise."""
    return {
        row["posting_id"]: row["n"]
        for row in enterprise_applications(viewer=viewer)
        .order_by()
        .values("posting_id")
        .annotate(n=Count("id"))
    }


# --- stages ---------------------------------------------------------------------------------------


def stages_for(
    *, enterprise: Enterprise | None, active_only: bool = True
) -> QuerySet[PipelineStage]:
    """The platform's default stages and the enterprise's own, in pipeline order. Reads only:
    the defaults come from migration jobs/0002 (services.stages.default_stages_ensure puts
    them back on a write path)."""
    qs = PipelineStage.objects.filter(Q(enterprise__isnull=True) | Q(enterprise=enterprise))
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.order_by("position", "id")


def own_stages(*, viewer: User) -> QuerySet[PipelineStage]:
    org_id = _org_id(viewer)
    if org_id is None:
        return PipelineStage.objects.none()
    return PipelineStage.objects.filter(enterprise__organisation_id=org_id).order_by(
        "position", "id"
    )


def own_stage_get(*, viewer: User, stage_id: int) -> PipelineStage:
    """One of the enterprise's own stages (the platform's defaults are not editable)."""
    stage = own_stages(viewer=viewer).filter(pk=stage_id).first()
    if stage is None:
        raise NotFound()
    return stage


# --- interview slots -------------------------------------------------------------------------------


def posting_slots(*, posting: Posting, upcoming_only: bool = False) -> QuerySet[InterviewSlot]:
    qs = posting.interview_slots.annotate(
        booked=Count("interviews", filter=Q(interviews__state__in=OPEN_INTERVIEW_STATES))
    )
    if upcoming_only:
        qs = qs.filter(starts_at__gt=timezone.now())
    return qs.order_by("starts_at", "id")


def free_slots(*, posting: Posting) -> list[InterviewSlot]:
    return [
        s
        for s in posting_slots(posting=posting, upcoming_only=True)
        if getattr(s, "booked", 0) < s.capacity
    ]


# --- the student's own applications --------------------------------------------------------------


# Quick filters of the student's own applications that the workbench links to.
MY_APPLICATIONS_SHOW_LABELS: dict[str, str] = {
    "active": "进行中的投递",
    "interview": "即将进行的面试",
}


def student_applications(*, viewer: User, show: str = "") -> QuerySet[Application]:
    """The student's own applications; ``show`` "active" keeps those not in a final stage,
    "interview" those with an open interview still to come."""
    if getattr(viewer, "role", None) not in SELF_ROLES or not getattr(viewer, "pk", None):
        return Application.objects.none()
    qs = Application.objects.filter(applicant=viewer)
    if show == "active":
        qs = qs.filter(stage__is_terminal=False)
    elif show == "interview":
        qs = qs.filter(interviews_between(timezone.now()))
    return with_open_interview(
        qs.select_related("posting", "posting__enterprise", "stage")
    ).order_by("-applied_at", "-id")


def student_application_get(*, viewer: User, application_id: int) -> Application:
    application = (
        student_applications(viewer=viewer)
        .select_related("posting__town", "enterprise")
        .filter(pk=application_id)
        .first()
    )
    if application is None:
        raise NotFound()
    return application


def student_interview_get(*, viewer: User, interview_id: int) -> Interview:
    interview = (
        Interview.objects.select_related("application", "application__posting", "slot")
        .filter(
            pk=interview_id,
            application_id__in=student_applications(viewer=viewer).values("pk"),
        )
        .first()
    )
    if interview is None:
        raise NotFound()
    return interview


def application_stage_for_posting(*, viewer: User, posting_id: int) -> Application | None:
    """The student's application to this posting with only its id and its stage's name (the
    posting's page)."""
    if getattr(viewer, "role", None) not in SELF_ROLES or not getattr(viewer, "pk", None):
        return None
    return (
        Application.objects.filter(applicant=viewer, posting_id=posting_id)
        .select_related("stage")
        .only("id", "stage__name")
        .order_by("-applied_at", "-id")
        .first()
    )


def application_for_posting(*, viewer: User, posting: Posting) -> Application | None:
    return student_applications(viewer=viewer).filter(posting=posting).first()


# --- staff -----------------------------------------------------------------------------------------


@dataclass
class StaffApplicationFilter:
    q: str = ""
    stage: str = ""
    kind: str = ""
    year: int | None = None
    hired: str = ""

    @classmethod
    def from_query(cls, data: QueryDict | dict[str, Any]) -> StaffApplicationFilter:
        def get(name: str) -> str:
            value = data.get(name, "")
            return str(value).strip() if value is not None else ""

        year = get("year")
        return cls(
            q=get("q")[:50],
            stage=get("stage") if get("stage") in PipelineStage.Kind.values else "",
            kind=get("kind") if get("kind") in Posting.Kind.values else "",
            year=int(year) if year.isdigit() and 2000 <= int(year) <= 2100 else None,
            hired=get("hired") if get("hired") in {"1", "0"} else "",
        )


def _year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return dt.datetime(year, 1, 1, tzinfo=tz), dt.datetime(year + 1, 1, 1, tzinfo=tz)


def staff_applications(
    *, viewer: User, filters: StaffApplicationFilter | None = None
) -> QuerySet[Application]:
    if getattr(viewer, "role", None) not in APPLICATION_STAFF:
        return Application.objects.none()
    filters = filters or StaffApplicationFilter()
    qs = Application.objects.all()
    if filters.q:
        qs = qs.filter(
            Q(posting__title__contains=filters.q) | Q(enterprise__name__contains=filters.q)
        )
    if filters.stage:
        qs = qs.filter(stage__kind=filters.stage)
    if filters.kind:
        qs = qs.filter(posting__kind=filters.kind)
    if filters.year:
        start, end = _year_bounds(filters.year)
        qs = qs.filter(applied_at__gte=start, applied_at__lt=end)
    if filters.hired:
        qs = qs.filter(hired_at__isnull=filters.hired == "0")
    return (
        qs.annotate(share_granted=share_consent_in_force())
        .select_related("posting", "enterprise", "stage", "talent")
        .order_by("-applied_at", "-id")
    )


def staff_application_get(*, viewer: User, application_id: int) -> Application:
    application = staff_applications(viewer=viewer).filter(pk=application_id).first()
    if application is None:
        raise NotFound()
    return application


@dataclass(frozen=True)
class StaffCounts:
    total: int
    by_stage: list[tuple[str, str, int]]
    hired: int
    hired_native_jobs: int


def staff_counts(*, viewer: User, filters: StaffApplicationFilter) -> StaffCounts:
    """Counts over the filtered applications: by stage kind, and hires."""
    qs = staff_applications(viewer=viewer, filters=filters).order_by()
    per_kind = {
        row["stage__kind"]: row["n"] for row in qs.values("stage__kind").annotate(n=Count("id"))
    }
    hired = qs.filter(hired_at__isnull=False)
    return StaffCounts(
        total=sum(per_kind.values()),
        by_stage=[
            (kind, str(label), per_kind.get(kind, 0))
            for kind, label in PipelineStage.Kind.choices
            if per_kind.get(kind) or kind != PipelineStage.Kind.CUSTOM
        ],
        hired=hired.count(),
        hired_native_jobs=hired.filter(destination__isnull=False)
        .exclude(talent__native_evidence=Talent.Evidence.NONE)
        .count(),
    )


# --- timelines -------------------------------------------------------------------------------------

# Interview actions shown on the timelines (invitations, reschedules and reminders reach the
# student as messages, which the timeline shows already).
INTERVIEW_ACTION_LABELS: dict[str, str] = {
    "invite": "面试邀请",
    "confirm": "学生确认面试",
    "reschedule_request": "学生申请改期",
    "reschedule": "企业调整面试时间",
    "reminder": "面试提醒",
    "cancel": "面试取消",
    "result": "记录面试结果",
}
STUDENT_HIDDEN_INTERVIEW_ACTIONS = frozenset({"invite", "reschedule", "reminder", "result"})
ENTERPRISE_HIDDEN_INTERVIEW_ACTIONS = frozenset({"invite", "reschedule", "reminder"})


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    kind: str  # "event" | "message" | "interview"
    title: str
    text: str = ""
    reason: str = ""
    by: str = ""


def application_timeline(*, application: Application, audience: str) -> list[TimelineEntry]:
    """Everything that happened to an application, oldest first. ``audience`` is "student" or
    "enterprise" (or "staff"): enterprise-internal notes are never shown to the student."""
    entries: list[TimelineEntry] = []
    for event in ApplicationEvent.objects.filter(application=application).select_related(
        "from_stage", "to_stage", "actor"
    ):
        by_student = event.actor_id is not None and event.actor_id == application.applicant_id
        actor = "学生本人" if by_student else ("企业" if event.actor_id else "系统")
        if event.action == ApplicationEvent.Action.MESSAGE:
            title = "消息"
        elif event.action == ApplicationEvent.Action.APPLY:
            title = f"投递：{event.to_stage.name}"
        elif event.from_stage_id:
            title = f"{event.from_stage.name if event.from_stage else ''} → {event.to_stage.name}"
        else:
            title = event.to_stage.name
        show_note = audience != "student" or by_student
        entries.append(
            TimelineEntry(
                at=event.created_at,
                kind="message" if event.action == ApplicationEvent.Action.MESSAGE else "event",
                title=title,
                text=event.message,
                reason=event.note if show_note else "",
                by=actor,
            )
        )
    hidden = (
        STUDENT_HIDDEN_INTERVIEW_ACTIONS
        if audience == "student"
        else ENTERPRISE_HIDDEN_INTERVIEW_ACTIONS
    )
    for ievent in InterviewEvent.objects.filter(interview__application=application).select_related(
        "interview"
    ):
        if ievent.action in hidden:
            continue
        text = ""
        if ievent.new_starts_at:
            text = f"新时间 {timezone.localtime(ievent.new_starts_at):%Y-%m-%d %H:%M}"
        entries.append(
            TimelineEntry(
                at=ievent.created_at,
                kind="interview",
                title=INTERVIEW_ACTION_LABELS.get(ievent.action, ievent.action),
                text=text,
                reason=ievent.reason,
                by="学生本人"
                if ievent.actor_id and ievent.actor_id == application.applicant_id
                else ("企业" if ievent.actor_id else "系统"),
            )
        )
    entries.sort(key=lambda e: e.at)
    return entries


def application_interviews(*, application: Application) -> QuerySet[Interview]:
    return (
        application.interviews.select_related("slot")
        .prefetch_related("events")
        .order_by("-starts_at", "-id")
    )
