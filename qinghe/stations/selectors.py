"""Reads for the talent stations, scoped by who asks: station staff see their own station's
day; a student sees the network and the health-check places open to book."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.core.errors import PermissionDenied
from qinghe.core.roles import Role
from qinghe.talents.models import Talent

from .models import Booking, HealthSlot, QueueTicket, Service, ServiceRequest, Station


def station_list() -> QuerySet[Station]:
    return Station.objects.filter(is_active=True).select_related("town").order_by("kind", "name")


@dataclass(frozen=True)
class NetworkRow:
    station: Station
    points: list[Station]


def network() -> list[NetworkRow]:
    """The "1+10+N" as shown on the network page: the centre, then each town station with its
    active service points (two queries)."""
    active = list(
        Station.objects.filter(is_active=True).select_related("parent").order_by("name", "pk")
    )
    points: dict[int, list[Station]] = {}
    for s in active:
        if s.kind == Station.Kind.POINT and s.parent_id is not None:
            points.setdefault(s.parent_id, []).append(s)
    ordered = [s for s in active if s.kind == Station.Kind.CENTRE]
    towns = [s for s in active if s.kind == Station.Kind.TOWN]
    towns.sort(key=lambda s: (s.town_id or "~", s.name))
    return [NetworkRow(s, points.get(s.pk, [])) for s in [*ordered, *towns]]


def points_for(*, viewer: User) -> tuple[list[Station], bool]:
    """The service points the viewer sees, active or not, and whether they may manage them:
    the centre's staff every point (and manage), a town station's staff its own points."""
    own = station_of_staff(viewer=viewer)
    points = (
        Station.objects.filter(kind=Station.Kind.POINT)
        .select_related("parent")
        .order_by("-is_active", "parent__name", "name")
    )
    if own.kind == Station.Kind.CENTRE:
        return list(points), True
    return list(points.filter(parent=own)), False


@dataclass(frozen=True)
class PersonHit:
    talent: Talent
    card_number: str


def request_people(*, viewer: User, q: str, limit: int = 20) -> list[PersonHit]:
    """People within the viewer's scope matched by card number (exact) or name (contains)."""
    from qinghe.cards.models import Card

    from .services import request_people_for

    q = (q or "").strip()[:30]
    if len(q) < 1:
        return []
    scope = request_people_for(viewer=viewer)
    by_card = Card.objects.filter(number=q.upper()).values("talent_id")
    talents = list(
        scope.filter(Q(pk__in=by_card) | Q(name__icontains=q)).order_by("name", "pk")[:limit]
    )
    numbers: dict[int, str] = {}
    for talent_id, number in (
        Card.objects.filter(talent_id__in=[t.pk for t in talents], number__isnull=False)
        .exclude(number="")
        .order_by("created_at", "pk")
        .values_list("talent_id", "number")
    ):
        numbers[talent_id] = number or ""
    return [PersonHit(t, numbers.get(t.pk, "")) for t in talents]


def station_of_staff(*, viewer: User) -> Station:
    station = Station.objects.filter(organisation_id=viewer.organisation_id or 0).first()
    if viewer.role != Role.STATION_STAFF or station is None:
        raise PermissionDenied("你的账号不属于任何人才驿站")
    return station


@dataclass(frozen=True)
class StationDay:
    station: Station
    day: dt.date
    bookings: list[Booking]
    waiting: list[QueueTicket]
    served: list[QueueTicket]
    requests: list[tuple[ServiceRequest, bool]]  # (request, overdue)
    slot: HealthSlot | None


def station_day(
    *, viewer: User, day: dt.date | None = None, now: dt.datetime | None = None
) -> StationDay:
    now = now or timezone.now()
    station = station_of_staff(viewer=viewer)
    day = day or timezone.localdate(now)
    tickets = list(
        QueueTicket.objects.filter(station=station, day=day).select_related("service", "talent")
    )
    requests = ServiceRequest.objects.filter(station=station, state=ServiceRequest.State.OPEN)
    return StationDay(
        station=station,
        day=day,
        bookings=list(
            Booking.objects.filter(
                slot__station=station, slot__day=day, state=Booking.State.BOOKED
            ).select_related("talent", "slot__service")
        ),
        waiting=[t for t in tickets if t.state == QueueTicket.State.WAITING],
        served=[t for t in tickets if t.state != QueueTicket.State.WAITING],
        requests=[(r, r.overdue_at(now)) for r in requests.select_related("service", "talent")],
        slot=HealthSlot.objects.filter(
            station=station, day=day, service__code="health_check"
        ).first(),
    )


def slots_open(*, now: dt.datetime | None = None, days: int = 14) -> QuerySet[HealthSlot]:
    """Places of the catalogue's bookable services at active stations in the coming days."""
    today = timezone.localdate(now or timezone.now())
    return (
        HealthSlot.objects.filter(
            day__gte=today,
            day__lte=today + dt.timedelta(days=days),
            service__bookable=True,
            station__is_active=True,
        )
        .select_related("station", "service")
        .order_by("service__position", "day", "station__name")
    )


@dataclass(frozen=True)
class BookableService:
    service: Service
    slots: list[HealthSlot]


def bookable_services(*, now: dt.datetime | None = None) -> list[BookableService]:
    """Each bookable service of the catalogue with its open places (two queries)."""
    slots = list(slots_open(now=now))
    return [
        BookableService(svc, [s for s in slots if s.service_id == svc.pk])
        for svc in Service.objects.filter(bookable=True)
    ]


def requests_of_holder(*, viewer: User) -> list[ServiceRequest]:
    """The signed-in person's own service requests, newest first (at most 20)."""
    from qinghe.talents.selectors import talent_for_student

    talent = talent_for_student(user=viewer)
    if talent is None:
        return []
    return list(
        ServiceRequest.objects.filter(talent=talent)
        .select_related("service", "station")
        .order_by("-opened_at", "-pk")[:20]
    )


def bookings_for(*, viewer: User) -> QuerySet[Booking]:
    return (
        Booking.objects.filter(user=viewer)
        .select_related("slot__station", "slot__service")
        .order_by("-slot__day")
    )


def service_counts(*, year: int | None = None, now: dt.datetime | None = None) -> dict[str, Any]:
    """Services by type and station (requests, walk-ins served, health checks booked), the
    专窗's average wait in minutes and open requests past their deadline, for the plan (five
    queries)."""
    requests = ServiceRequest.objects.all()
    tickets = QueueTicket.objects.filter(state=QueueTicket.State.SERVED)
    bookings = Booking.objects.exclude(state=Booking.State.CANCELLED)
    if year is not None:
        requests = requests.filter(opened_at__year=year)
        tickets = tickets.filter(day__year=year)
        bookings = bookings.filter(slot__day__year=year)
    by_type: dict[str, int] = {}
    by_station: dict[str, int] = {}
    for row in requests.values("service__name", "station__name").annotate(n=Count("id")):
        by_type[row["service__name"]] = by_type.get(row["service__name"], 0) + row["n"]
        by_station[row["station__name"]] = by_station.get(row["station__name"], 0) + row["n"]
    for row in tickets.values("service__name", "station__name").annotate(n=Count("id")):
        by_type[row["service__name"]] = by_type.get(row["service__name"], 0) + row["n"]
        by_station[row["station__name"]] = by_station.get(row["station__name"], 0) + row["n"]
    for booked in bookings.values("slot__service__name", "slot__station__name").annotate(
        n=Count("id")
    ):
        kind, name, n = booked["slot__service__name"], booked["slot__station__name"], booked["n"]
        by_type[kind] = by_type.get(kind, 0) + n
        by_station[name] = by_station.get(name, 0) + n
    wait = tickets.aggregate(
        w=Avg(ExpressionWrapper(F("served_at") - F("issued_at"), output_field=DurationField()))
    )["w"]
    overdue = ServiceRequest.objects.filter(
        state=ServiceRequest.State.OPEN, due_at__lt=now or timezone.now()
    ).count()
    return {
        "by_type": dict(sorted(by_type.items())),
        "by_station": dict(sorted(by_station.items())),
        "average_wait_minutes": round(wait.total_seconds() / 60, 1) if wait else None,
        "open_overdue": overdue,
    }
