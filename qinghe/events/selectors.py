"""Reads of events and registrations, scoped by who asks. Missing and forbidden objects alike
raise NotFound: a student never learns of a draft, an enterprise never of another's proposal."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import Avg, Count, Q, QuerySet
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.core.errors import NotFound
from qinghe.core.masking import mask_name
from qinghe.core.roles import Role
from qinghe.talents.models import Level

from .models import (
    ACTIVE_STATUSES,
    EDITABLE_STATES,
    HOLDING_STATUSES,
    Event,
    EventChange,
    Photo,
    Registration,
    TourGroup,
)

LOCAL_TZ = ZoneInfo("Asia/Shanghai")

# Staff who create, publish, review and run events (and check people in at the door).
EVENT_STAFF = frozenset({Role.HR_STAFF, Role.LEAGUE_STAFF, Role.SYSADMIN})
# Who registers for events: students, and ambassadors (student volunteers).
PARTICIPANTS = frozenset({Role.STUDENT, Role.AMBASSADOR})
# States a participant may see.
VISIBLE_STATES = (Event.State.PUBLISHED, Event.State.FINISHED, Event.State.CANCELLED)


def is_event_staff(user: User) -> bool:
    return getattr(user, "role", None) in EVENT_STAFF


def is_participant(user: User) -> bool:
    return getattr(user, "role", None) in PARTICIPANTS


def organiser_orgs(user: User) -> list[int]:
    """The organisations whose events a non-staff user proposes and manages: an enterprise's
    HR its enterprise; a serving ambassador (高校引才大使) the chapters of their current terms."""
    role = getattr(user, "role", None)
    if role == Role.ENTERPRISE_HR:
        org = getattr(user, "organisation_id", None)
        return [org] if org else []
    if role == Role.AMBASSADOR:
        from qinghe.alliance.models import Nomination

        return list(
            Nomination.objects.filter(
                nominee=user,
                state=Nomination.State.APPOINTED,
                term_ends_on__gte=timezone.localdate(),
            )
            .order_by("chapter__organisation_id")
            .values_list("chapter__organisation_id", flat=True)
            .distinct()
        )
    return []


def month_bounds(month: str) -> tuple[dt.datetime, dt.datetime] | None:
    """'2026-05' -> the first instants of that month and the next, in Asia/Shanghai."""
    try:
        year, mon = (int(p) for p in (month or "").split("-", 1))
        start = dt.datetime(year, mon, 1, tzinfo=LOCAL_TZ)
    except ValueError:
        return None
    end = dt.datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=LOCAL_TZ)
    return start, end


def event_list_published(*, viewer: User, type: str = "", month: str = "") -> QuerySet[Event]:
    """Published events for anyone signed in; with a month, that month's (past ones too),
    otherwise those not yet over, soonest first."""
    qs = Event.objects.filter(state=Event.State.PUBLISHED).select_related(
        "organiser", "audience_chapter"
    )
    if type in Event.Type.values:
        qs = qs.filter(type=type)
    bounds = month_bounds(month)
    if bounds is not None:
        qs = qs.filter(starts_at__gte=bounds[0], starts_at__lt=bounds[1])
    else:
        qs = qs.filter(ends_at__gte=timezone.now())
    return qs.order_by("starts_at", "id")


def event_get_for_viewer(*, viewer: User, event_id: int) -> Event:
    """An event's public page: staff see any; an enterprise or an ambassador their own
    proposals too; everyone else a published, finished or cancelled event."""
    qs = Event.objects.select_related("organiser", "audience_chapter")
    if is_event_staff(viewer):
        event = qs.filter(pk=event_id).first()
    else:
        visible = Q(state__in=VISIBLE_STATES)
        orgs = organiser_orgs(viewer)
        if orgs:
            visible |= Q(organiser_id__in=orgs)
        event = qs.filter(visible, pk=event_id).first()
    if event is None:
        raise NotFound("未找到该活动")
    return event


def event_manage_list(*, viewer: User, state: str = "", type: str = "") -> QuerySet[Event]:
    """The events a viewer manages: staff all, an enterprise's HR those of its enterprise, a
    serving ambassador those of their chapter."""
    qs = Event.objects.select_related("organiser", "audience_chapter")
    if not is_event_staff(viewer):
        orgs = organiser_orgs(viewer)
        if not orgs:
            return Event.objects.none()
        qs = qs.filter(organiser_id__in=orgs)
    if state in Event.State.values:
        qs = qs.filter(state=state)
    if type in Event.Type.values:
        qs = qs.filter(type=type)
    return qs.order_by("-starts_at", "-id")


def event_get_for_manager(*, viewer: User, event_id: int) -> Event:
    event = event_manage_list(viewer=viewer).filter(pk=event_id).first()
    if event is None:
        raise NotFound("未找到该活动")
    return event


def is_manager(*, viewer: User, event: Event) -> bool:
    """Whether the viewer manages this event (staff any, an enterprise or a chapter's
    ambassador their own)."""
    return is_event_staff(viewer) or event.organiser_id in organiser_orgs(viewer)


def event_get_for_staff(*, viewer: User, event_id: int) -> Event:
    """Registrations and check-in: event staff only."""
    if not is_event_staff(viewer):
        raise NotFound("未找到该活动")
    return event_get_for_manager(viewer=viewer, event_id=event_id)


def can_edit(*, viewer: User, event: Event) -> bool:
    """Staff edit until the event is cancelled or over; an enterprise only its own draft."""
    if event.state not in EDITABLE_STATES:
        return False
    return is_event_staff(viewer) or event.state == Event.State.DRAFT


def event_changes(*, event: Event) -> QuerySet[EventChange]:
    return event.changes.select_related("actor")


def registration_active(*, user: User, event: Event) -> Registration | None:
    if not getattr(user, "pk", None):
        return None
    return Registration.objects.filter(
        event=event,
        user=user,
        status__in=ACTIVE_STATUSES,
    ).first()


def registration_latest(*, user: User, event: Event) -> Registration | None:
    """The user's current registration, or their last cancelled one."""
    if not getattr(user, "pk", None):
        return None
    return registration_active(user=user, event=event) or (
        Registration.objects.filter(event=event, user=user)
        .order_by("-registered_at", "-id")
        .first()
    )


def waitlist_queue(*, event: Event) -> QuerySet[Registration]:
    """The waiting list in order: first registered, first promoted."""
    return Registration.objects.filter(event=event, status=Registration.Status.WAITLISTED).order_by(
        "registered_at", "id"
    )


def waitlist_position(*, registration: Registration) -> int | None:
    """1 for the first in line; None when the registration is not waiting."""
    if registration.status != Registration.Status.WAITLISTED:
        return None
    ahead = (
        waitlist_queue(event=registration.event)
        .filter(
            Q(registered_at__lt=registration.registered_at)
            | Q(registered_at=registration.registered_at, id__lt=registration.pk)
        )
        .count()
    )
    return ahead + 1


def confirmed_count(*, event: Event) -> int:
    """Registrations holding a place (confirmed, or waiting for a guardian's consent)."""
    return Registration.objects.filter(event=event, status__in=HOLDING_STATUSES).count()


@dataclass(frozen=True)
class Counts:
    registered: int  # confirmed + guardian + waitlisted
    confirmed: int
    waitlisted: int
    cancelled: int
    attended: int
    guardian: int = 0  # holding a place, waiting for a guardian's consent


def registration_counts(*, event: Event) -> Counts:
    row = Registration.objects.filter(event=event).aggregate(
        confirmed=Count("id", filter=Q(status=Registration.Status.CONFIRMED)),
        guardian=Count("id", filter=Q(status=Registration.Status.GUARDIAN)),
        waitlisted=Count("id", filter=Q(status=Registration.Status.WAITLISTED)),
        cancelled=Count("id", filter=Q(status=Registration.Status.CANCELLED)),
        attended=Count("id", filter=Q(attended_at__isnull=False)),
    )
    return Counts(
        registered=row["confirmed"] + row["guardian"] + row["waitlisted"],
        confirmed=row["confirmed"],
        waitlisted=row["waitlisted"],
        cancelled=row["cancelled"],
        attended=row["attended"],
        guardian=row["guardian"],
    )


def places_left(*, event: Event) -> int | None:
    """Free places, or None when the event has no limit."""
    if event.capacity is None:
        return None
    return max(0, event.capacity - confirmed_count(event=event))


def event_registrations(*, viewer: User, event: Event, status: str = "") -> QuerySet[Registration]:
    if not is_event_staff(viewer):
        return Registration.objects.none()
    qs = Registration.objects.filter(event=event).select_related("user", "checked_in_by")
    if status in Registration.Status.values:
        qs = qs.filter(status=status)
    return qs.order_by("registered_at", "id")


@dataclass(frozen=True)
class MyRegistration:
    registration: Registration
    position: int | None


def upcoming_registrations(*, user: User, now: dt.datetime | None = None) -> QuerySet[Registration]:
    """The user's places in published events not yet over: confirmed, awaiting a guardian's
    consent or on the waiting list."""
    return Registration.objects.filter(
        user=user,
        status__in=(
            Registration.Status.CONFIRMED,
            Registration.Status.GUARDIAN,
            Registration.Status.WAITLISTED,
        ),
        event__state=Event.State.PUBLISHED,
        event__ends_at__gt=now or timezone.now(),
    )


def my_registrations(*, user: User, upcoming: bool = False) -> list[MyRegistration]:
    """The user's registrations, upcoming first, each with its waiting-list position. Positions
    come from one grouped pass over the waiting lists of the user's events. ``upcoming``: only
    those of ``upcoming_registrations``."""
    base = upcoming_registrations(user=user) if upcoming else Registration.objects.filter(user=user)
    regs = list(
        base.select_related("event", "event__organiser").order_by("-event__starts_at", "-id")
    )
    waiting = [r for r in regs if r.status == Registration.Status.WAITLISTED]
    positions: dict[int, int] = {}
    if waiting:
        queue = (
            Registration.objects.filter(
                event_id__in={r.event_id for r in waiting}, status=Registration.Status.WAITLISTED
            )
            .order_by("event_id", "registered_at", "id")
            .values_list("event_id", "id")
        )
        current, n = None, 0
        for event_id, reg_id in queue:
            n = n + 1 if event_id == current else 1
            current = event_id
            positions[reg_id] = n
    return [MyRegistration(registration=r, position=positions.get(r.pk)) for r in regs]


def registration_get_for_user(*, user: User, registration_id: int) -> Registration:
    reg = (
        Registration.objects.select_related("event")
        .filter(pk=registration_id, user_id=getattr(user, "pk", 0) or 0)
        .first()
    )
    if reg is None:
        raise NotFound("未找到该报名")
    return reg


def audience_refusal(*, event: Event, user: User) -> str:
    """Why this user is outside the event's audience, in Chinese; '' when inside."""
    if event.audience == Event.Audience.OPEN:
        return ""
    if event.audience == Event.Audience.CHAPTER:
        from qinghe.alliance.models import Membership

        chapter = event.audience_chapter
        if (
            chapter is None
            or not Membership.objects.filter(
                user_id=getattr(user, "pk", 0) or 0,
                chapter=chapter,
                status=Membership.Status.ACTIVE,
            ).exists()
        ):
            name = chapter.name if chapter is not None else "指定分会"
            return f"该活动仅限{name}会员报名；可在“青鹤联盟”申请加入该分会"
        return ""
    from qinghe.talents.selectors import talent_for_student

    talent = talent_for_student(user=user)
    if event.audience == Event.Audience.LEVEL:
        label = dict(Level.choices).get(event.audience_level, event.audience_level)
        if talent is None or not talent.educations.filter(level=event.audience_level).exists():
            return f"该活动仅限{label}学历的学子报名；如你的学历信息有误，请先在“我的档案”中更正"
        return ""
    year = event.audience_year
    if talent is None or not (
        talent.graduation_year == year or talent.educations.filter(graduation_year=year).exists()
    ):
        return f"该活动仅限 {year} 届毕业生报名；如你的毕业年份有误，请先在“我的档案”中更正"
    return ""


def registration_refusal(*, event: Event, user: User, now: dt.datetime) -> str:
    """Why this user cannot register now, in Chinese; '' when they can."""
    if not is_participant(user):
        return "只有学子可以报名活动"
    if event.state == Event.State.CANCELLED:
        return "活动已取消，不能报名"
    if event.state == Event.State.FINISHED or now >= event.ends_at:
        return "活动已结束"
    if event.state != Event.State.PUBLISHED:
        return "活动尚未发布，不能报名"
    if now < event.registration_opens_at:
        opens = timezone.localtime(event.registration_opens_at).strftime("%Y-%m-%d %H:%M")
        return f"报名尚未开始，将于 {opens} 开始"
    if now >= event.registration_closes_at:
        return "报名已截止"
    if registration_active(user=user, event=event) is not None:
        return "你已报名该活动"
    return audience_refusal(event=event, user=user)


# ---- study tours ------------------------------------------------------------------------------


def needs_guardian(*, user: User, event: Event, group: str) -> bool:
    """A high-school student on a study tour needs a guardian's consent unless the platform
    knows they are 18 or older on the day the tour starts."""
    if event.type != Event.Type.STUDY_TOUR or group != TourGroup.HIGH_SCHOOL:
        return False
    from qinghe.talents.selectors import talent_for_student

    talent = talent_for_student(user=user)
    birth = talent.birth_date if talent else None
    if birth is None:
        return True
    day = timezone.localtime(event.starts_at).date()
    age = day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
    return age < 18


def is_participant_of(*, user: User, event: Event) -> bool:
    """Holds (or held and attended) a place at the event."""
    return Registration.objects.filter(
        Q(status__in=HOLDING_STATUSES) | Q(attended_at__isnull=False), event=event, user=user
    ).exists()


def photos_for_viewer(*, viewer: User, event: Event) -> list[Photo]:
    """An event's photos for its participants and event staff; nobody else."""
    if is_event_staff(viewer) or is_participant_of(user=viewer, event=event):
        return list(event.photos.all())
    return []


def photo_get_for_viewer(*, viewer: User, photo_id: int) -> Photo:
    photo = Photo.objects.filter(pk=photo_id).select_related("event").first()
    if photo is None or not (
        is_event_staff(viewer) or is_participant_of(user=viewer, event=photo.event)
    ):
        raise NotFound("未找到该照片")
    return photo


# ---- the event report -----------------------------------------------------------------------

APPLICATION_WINDOW = dt.timedelta(days=30)


@dataclass(frozen=True)
class EventReport:
    registered: int
    attended: int
    feedback: int
    rating: float | None
    comments: list[str]
    applications: int  # by attendees to participating enterprises within 30 days
    hires: int  # of those applications, hired so far


def event_report(*, event: Event) -> EventReport:
    """What an event achieved: registrations, attendance, feedback, and the applications its
    attendees made to its participating enterprises within 30 days after it (and the hires
    among them)."""
    from qinghe.recruitment.models import Application

    from .models import Feedback

    counts = registration_counts(event=event)
    fb = Feedback.objects.filter(registration__event=event)
    agg = fb.aggregate(n=Count("id"), avg=Avg("rating"))
    attendees = Registration.objects.filter(event=event, attended_at__isnull=False).values(
        "user_id"
    )
    apps = Application.objects.filter(
        talent__user_id__in=attendees,
        enterprise__in=event.enterprises.all(),
        applied_at__gte=event.starts_at,
        applied_at__lt=event.ends_at + APPLICATION_WINDOW,
    ).aggregate(n=Count("id"), hired=Count("id", filter=Q(hired_at__isnull=False)))
    return EventReport(
        registered=counts.registered + counts.cancelled,
        attended=counts.attended,
        feedback=agg["n"],
        rating=round(agg["avg"], 1) if agg["avg"] is not None else None,
        comments=list(
            fb.exclude(comment="").order_by("-created_at").values_list("comment", flat=True)[:20]
        ),
        applications=apps["n"],
        hires=apps["hired"],
    )


@dataclass(frozen=True)
class OfflineEntry:
    registration_id: int
    masked_name: str
    attended_at: dt.datetime | None


def checkin_offline_list(*, viewer: User, event: Event) -> list[OfflineEntry]:
    """What a door phone keeps to check people in without network: every confirmed
    registration of the event with the masked name and whether it has checked in already.
    No phone, ID number, school or user id: a lost phone gives away masked names only."""
    if not is_event_staff(viewer):
        return []
    rows = (
        Registration.objects.filter(event=event, status=Registration.Status.CONFIRMED)
        .order_by("id")
        .values_list("id", "user__display_name", "user__username", "attended_at")
    )
    return [
        OfflineEntry(registration_id=pk, masked_name=mask_name(name or username), attended_at=at)
        for pk, name, username, at in rows
    ]
