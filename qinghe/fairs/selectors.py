"""Reads for online job fairs, each scoped by the viewer: the hall, a booth's queue as a
student sees it (own position only) and as its enterprise sees it, and the fair's figures."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, QuerySet
from django.urls import reverse
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.core.errors import NotFound
from qinghe.core.masking import mask_name
from qinghe.core.roles import Role
from qinghe.enterprises.models import Enterprise
from qinghe.events.models import HOLDING_STATUSES, Event, Registration
from qinghe.events.selectors import is_event_staff
from qinghe.jobs.models import Posting
from qinghe.recruitment.models import Application

from .models import ACTIVE_STATES, Booth, HallVisit, QueueEntry

DEFAULT_MINUTES = 10
VISIBLE_STATES = (Event.State.PUBLISHED, Event.State.FINISHED)


def booth_group(booth_id: int) -> str:
    """The channel-layer group of everyone watching a booth's queue."""
    return f"fairs.booth.{booth_id}"


def hall_group(fair_id: int) -> str:
    """The channel-layer group of everyone in a fair's hall (every booth's queue length)."""
    return f"fairs.hall.{fair_id}"


def own_enterprise(user: User) -> Enterprise | None:
    if getattr(user, "role", None) != Role.ENTERPRISE_HR or not user.organisation_id:
        return None
    return Enterprise.objects.filter(organisation_id=user.organisation_id).first()


def fair_list(*, viewer: User, show: str = "", now: dt.datetime | None = None) -> QuerySet[Event]:
    """The fairs the viewer may open; ``show="running"``: published and under way now."""
    qs = Event.objects.filter(type=Event.Type.CLOUD_FAIR)
    if not is_event_staff(viewer):
        qs = qs.filter(state__in=VISIBLE_STATES)
    if show == "running":
        now = now or timezone.now()
        qs = qs.filter(state=Event.State.PUBLISHED, starts_at__lte=now, ends_at__gte=now)
    return qs.order_by("-starts_at", "-id")


def own_booths(*, viewer: User, fair_ids: list[int]) -> dict[int, Booth]:
    """The viewer's enterprise's booth at each of these fairs (enterprise HR only)."""
    own = own_enterprise(viewer)
    if own is None:
        return {}
    return {b.fair_id: b for b in Booth.objects.filter(enterprise=own, fair_id__in=fair_ids)}


def waiting_at_own_booths(*, viewer: User) -> QuerySet[QueueEntry]:
    """Students waiting now in the queues of the viewer's enterprise's approved booths."""
    org = viewer.organisation_id if getattr(viewer, "role", None) == Role.ENTERPRISE_HR else None
    return QueueEntry.objects.filter(
        booth__enterprise__organisation_id=org or 0,
        booth__state=Booth.State.APPROVED,
        booth__fair__state=Event.State.PUBLISHED,
        state=QueueEntry.State.WAITING,
    )


def booths_to_review(*, viewer: User) -> QuerySet[Booth]:
    """Booth applications waiting for event staff (none for anyone else)."""
    if not is_event_staff(viewer):
        return Booth.objects.none()
    return Booth.objects.filter(
        state=Booth.State.APPLIED,
        fair__type=Event.Type.CLOUD_FAIR,
        fair__state=Event.State.PUBLISHED,
    )


def fair_get_for_viewer(*, viewer: User, fair_id: int) -> Event:
    fair = fair_list(viewer=viewer).filter(pk=fair_id).first()
    if fair is None:
        raise NotFound("招聘会不存在")
    return fair


def fair_get_for_staff(*, viewer: User, fair_id: int) -> Event:
    if not is_event_staff(viewer):
        raise NotFound("招聘会不存在")
    return fair_get_for_viewer(viewer=viewer, fair_id=fair_id)


def booth_get_for_viewer(*, viewer: User, booth_id: int) -> Booth:
    """Staff see every booth; an enterprise its own; everyone else approved booths of a
    published (or finished) fair."""
    booth = (
        Booth.objects.select_related("fair", "enterprise")
        .filter(pk=booth_id, fair__type=Event.Type.CLOUD_FAIR)
        .first()
    )
    if booth is None:
        raise NotFound("展位不存在")
    if is_event_staff(viewer):
        return booth
    own = own_enterprise(viewer)
    if own is not None and own.pk == booth.enterprise_id:
        return booth
    if booth.state == Booth.State.APPROVED and booth.fair.state in VISIBLE_STATES:
        return booth
    raise NotFound("展位不存在")


def booth_get_for_enterprise(*, viewer: User, booth_id: int) -> Booth:
    """The booth of the viewer's own enterprise (any other answers 404)."""
    own = own_enterprise(viewer)
    booth = (
        Booth.objects.select_related("fair", "enterprise")
        .filter(pk=booth_id, enterprise_id=own.pk if own else 0)
        .first()
    )
    if booth is None:
        raise NotFound("展位不存在")
    return booth


def entry_get_for_enterprise(*, viewer: User, entry_id: int) -> QueueEntry:
    own = own_enterprise(viewer)
    entry = (
        QueueEntry.objects.select_related("booth", "booth__fair", "student")
        .filter(pk=entry_id, booth__enterprise_id=own.pk if own else 0)
        .first()
    )
    if entry is None:
        raise NotFound("排队记录不存在")
    return entry


def is_registered(*, user: User, fair: Event) -> bool:
    return Registration.objects.filter(
        event=fair, user_id=getattr(user, "pk", 0) or 0, status__in=HOLDING_STATUSES
    ).exists()


def open_postings(*, enterprise: Enterprise) -> QuerySet[Posting]:
    """The postings an enterprise may bring to a fair: its published ones."""
    return Posting.objects.filter(enterprise=enterprise, state=Posting.State.PUBLISHED).order_by(
        "title", "id"
    )


def queue_open_refusal(*, booth: Booth, now: dt.datetime) -> str:
    """Why the booth's queue takes no one now ("" when it does)."""
    fair = booth.fair
    if booth.state != Booth.State.APPROVED:
        return "该展位未通过审核"
    if fair.state != Event.State.PUBLISHED:
        return "招聘会未在进行中"
    if now < fair.starts_at:
        return f"招聘会尚未开始（{timezone.localtime(fair.starts_at):%m月%d日 %H:%M} 开始）"
    if now > fair.ends_at:
        return "招聘会已结束"
    return ""


def waiting(*, booth: Booth) -> QuerySet[QueueEntry]:
    return QueueEntry.objects.filter(booth=booth, state=QueueEntry.State.WAITING).order_by(
        "rank", "id"
    )


def average_minutes(*, booth: Booth) -> int:
    """Average minutes per student taken so far at this booth (called to done); 10 before any."""
    return _averages([booth.pk]).get(booth.pk, DEFAULT_MINUTES)


def _averages(booth_ids: list[int]) -> dict[int, int]:
    """Each booth's average minutes per student done (booths with none are absent): one query."""
    spans = QueueEntry.objects.filter(
        booth_id__in=booth_ids,
        state=QueueEntry.State.DONE,
        called_at__isnull=False,
        finished_at__isnull=False,
    ).values_list("booth_id", "called_at", "finished_at")
    minutes: dict[int, list[float]] = {}
    for booth_id, start, end in spans:
        if start is not None and end is not None:
            minutes.setdefault(booth_id, []).append((end - start).total_seconds() / 60)
    return {b: max(1, round(sum(m) / len(m))) for b, m in minutes.items()}


def student_queue_state(*, user: User, booth: Booth) -> dict[str, Any]:
    """What a student's booth page shows: their own entry's state, position and wait."""
    ids = list(waiting(booth=booth).values_list("student_id", flat=True))
    avg = average_minutes(booth=booth)
    entry = (
        QueueEntry.objects.filter(booth=booth, student_id=user.pk, state__in=ACTIVE_STATES)
        .select_related("room")
        .only("state", "room__uuid")
        .first()
    )
    position = ids.index(user.pk) + 1 if user.pk in ids else None
    room_url = (
        reverse("video:room", args=[entry.room.uuid])
        if entry is not None and entry.state == QueueEntry.State.CALLED and entry.room
        else ""
    )
    return {
        "type": "queue",
        "state": entry.state if entry else "",
        "room_url": room_url,
        "position": position,
        "wait_minutes": position * avg if position else None,
        "length": len(ids),
    }


def enterprise_queue_state(*, booth: Booth) -> dict[str, Any]:
    """What the enterprise's queue page shows: everyone waiting (names masked) and called."""
    rows = QueueEntry.objects.filter(booth=booth, state__in=ACTIVE_STATES).select_related(
        "student", "room"
    )
    waiting_rows = sorted(
        (e for e in rows if e.state == QueueEntry.State.WAITING), key=lambda e: (e.rank, e.id)
    )
    called = [e for e in rows if e.state == QueueEntry.State.CALLED]
    return {
        "type": "queue_admin",
        "length": len(waiting_rows),
        "average_minutes": average_minutes(booth=booth),
        "waiting": [
            {"id": e.pk, "position": i, "name": student_name(e.student), "invited": e.invited}
            for i, e in enumerate(waiting_rows, start=1)
        ],
        "called": [
            {
                "id": e.pk,
                "name": student_name(e.student),
                "room_url": reverse("video:room", args=[e.room.uuid]) if e.room else "",
            }
            for e in called
        ],
    }


def student_name(user: User) -> str:
    return mask_name(user.display_name or user.username)


@dataclass(frozen=True)
class HallBooth:
    booth: Booth
    postings: list[Posting]
    length: int
    wait_minutes: int


def hall_booths(*, fair: Event) -> list[HallBooth]:
    """The approved booths with their postings, queue length and the wait a student joining
    now would have ((length + 1) x the booth's average minutes): four queries."""
    booths = list(
        Booth.objects.filter(fair=fair, state=Booth.State.APPROVED)
        .select_related("enterprise")
        .prefetch_related("postings")
        .annotate(
            waiting_count=Count("entries", filter=_waiting_q()),
        )
        .order_by("enterprise__name", "id")
    )
    averages = _averages([b.pk for b in booths])
    out = []
    for b in booths:
        length = int(getattr(b, "waiting_count", 0))
        out.append(
            HallBooth(
                booth=b,
                postings=list(b.postings.all()),
                length=length,
                wait_minutes=(length + 1) * averages.get(b.pk, DEFAULT_MINUTES),
            )
        )
    return out


def hall_state(*, fair_id: int) -> dict[str, Any]:
    """What the hall's socket sends: every approved booth's queue length and the wait for a
    student joining now (the numbers the hall page shows on load)."""
    lengths = dict(
        Booth.objects.filter(fair_id=fair_id, state=Booth.State.APPROVED)
        .annotate(waiting_count=Count("entries", filter=_waiting_q()))
        .values_list("pk", "waiting_count")
    )
    averages = _averages(list(lengths))
    return {
        "type": "hall",
        "booths": [
            {
                "id": pk,
                "length": int(n),
                "wait_minutes": (int(n) + 1) * averages.get(pk, DEFAULT_MINUTES),
            }
            for pk, n in sorted(lengths.items())
        ],
    }


def _waiting_q() -> Any:
    from django.db.models import Q

    return Q(entries__state=QueueEntry.State.WAITING)


def booths_for_staff(*, fair: Event) -> QuerySet[Booth]:
    return (
        Booth.objects.filter(fair=fair)
        .select_related("enterprise")
        .prefetch_related("postings")
        .order_by("state", "applied_at", "id")
    )


def booth_of_enterprise(*, viewer: User, fair: Event) -> Booth | None:
    own = own_enterprise(viewer)
    if own is None:
        return None
    return Booth.objects.filter(fair=fair, enterprise=own).first()


def invite_candidates(*, booth: Booth) -> list[dict[str, Any]]:
    """Students registered for the fair who are not in this booth's queue now (masked)."""
    in_queue = QueueEntry.objects.filter(booth=booth, state__in=ACTIVE_STATES).values("student_id")
    users = (
        User.objects.filter(
            event_registrations__event=booth.fair,
            event_registrations__status__in=HOLDING_STATUSES,
        )
        .exclude(pk__in=in_queue)
        .order_by("id")
        .distinct()
    )
    return [{"id": u.pk, "name": student_name(u)} for u in users]


@dataclass(frozen=True)
class BoothFigures:
    booth: Booth
    queue_peak: int
    joined: int
    taken: int
    applications: int
    offers: int


def fair_applications(fair: Event) -> QuerySet[Application]:
    """Applications to the postings of the fair's approved booths made while the fair ran."""
    posting_ids = Posting.objects.filter(
        fair_booths__fair=fair, fair_booths__state=Booth.State.APPROVED
    ).values("pk")
    return Application.objects.filter(
        posting_id__in=posting_ids,
        applied_at__gte=fair.starts_at,
        applied_at__lte=fair.ends_at,
    )


def fair_figures(fair: Event) -> dict[str, Any]:
    """The fair's figures afterwards: booths, visitors (distinct students who joined a queue
    or opened the hall), queue lengths (the most students waiting at one booth at once, the
    largest and the average over booths), students taken into a video interview, applications
    to the booths' postings made during the fair and the offers among them (an offer is an
    application that entered a hiring stage, 录用: ``hired_at`` set by the recruitment
    pipeline), and the same per booth. Five queries however many booths."""
    booths = list(
        Booth.objects.filter(fair=fair, state=Booth.State.APPROVED)
        .select_related("enterprise")
        .order_by("enterprise__name", "id")
    )
    entries = list(
        QueueEntry.objects.filter(booth__fair=fair, booth__state=Booth.State.APPROVED).values(
            "booth_id", "student_id", "joined_at", "called_at", "finished_at", "state"
        )
    )
    visitors = {e["student_id"] for e in entries} | set(
        HallVisit.objects.filter(fair=fair).values_list("user_id", flat=True)
    )
    apps = list(fair_applications(fair).values("pk", "posting_id", "hired_at"))
    booth_postings: dict[int, set[int]] = {b.pk: set() for b in booths}
    for booth_id, posting_id in Booth.postings.through.objects.filter(booth__in=booths).values_list(
        "booth_id", "posting_id"
    ):
        booth_postings[booth_id].add(posting_id)
    per_booth = []
    for b in booths:
        mine = [e for e in entries if e["booth_id"] == b.pk]
        booth_apps = [a for a in apps if a["posting_id"] in booth_postings[b.pk]]
        per_booth.append(
            BoothFigures(
                booth=b,
                queue_peak=_peak(mine),
                joined=len(mine),
                taken=sum(1 for e in mine if e["called_at"] is not None),
                applications=len(booth_apps),
                offers=sum(1 for a in booth_apps if a["hired_at"] is not None),
            )
        )
    peaks = [row.queue_peak for row in per_booth]
    return {
        "booths": len(booths),
        "visitors": len(visitors),
        "queue_max": max(peaks, default=0),
        "queue_avg": round(sum(peaks) / len(peaks), 1) if peaks else 0,
        "joined": len(entries),
        "taken": sum(row.taken for row in per_booth),
        "done": sum(1 for e in entries if e["state"] == QueueEntry.State.DONE),
        "applications": len(apps),
        "offers": sum(1 for a in apps if a["hired_at"] is not None),
        "per_booth": per_booth,
    }


def _peak(entries: Any) -> int:
    """The most students waiting at one booth at the same moment (a sweep over join/leave)."""
    points: list[tuple[dt.datetime, int]] = []
    for e in entries:
        points.append((e["joined_at"], 1))
        end = e["called_at"] or e["finished_at"]
        if end is not None:
            points.append((end, -1))
    points.sort(key=lambda p: (p[0], p[1]))
    now = peak = 0
    for _, delta in points:
        now += delta
        peak = max(peak, now)
    return peak


def fairs_counts_for_plan(year: int) -> dict[str, int]:
    """For the 十个一 board: cloud fairs held in ``year``, their approved booths, the
    students served (taken from a queue and marked done), and the applications to the booths'
    postings made while a fair ran."""
    fairs = Event.objects.filter(
        type=Event.Type.CLOUD_FAIR, state__in=VISIBLE_STATES, starts_at__year=year
    )
    during = Exists(
        Booth.objects.filter(
            fair__in=fairs,
            state=Booth.State.APPROVED,
            postings=OuterRef("posting_id"),
            fair__starts_at__lte=OuterRef("applied_at"),
            fair__ends_at__gte=OuterRef("applied_at"),
        )
    )
    return {
        "applications": Application.objects.filter(during).count(),
        "fairs": fairs.count(),
        "booths": Booth.objects.filter(fair__in=fairs, state=Booth.State.APPROVED).count(),
        "students_served": QueueEntry.objects.filter(
            booth__fair__in=fairs, state=QueueEntry.State.DONE
        )
        .values("student_id", "booth_id")
        .distinct()
        .count(),
    }
