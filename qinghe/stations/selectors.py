"""Reads for the talent stations, scoped by who asks: station staff see their own station's
day; a student sees the network and the health-check places open to book."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, QuerySet
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.core.errors import PermissionDenied
from qinghe.core.roles import Role

from .models import Booking, HealthSlot, QueueTicket, ServiceRequest, Station


def station_list() -> QuerySet[Station]:
    return Station.objects.filter(is_active=True).select_related("town").order_by("kind", "name")


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
            ).select_related("talent")
        ),
        waiting=[t for t in tickets if t.state == QueueTicket.State.WAITING],
        served=[t for t in tickets if t.state != QueueTicket.State.WAITING],
        requests=[(r, r.overdue_at(now)) for r in requests.select_related("service", "talent")],
        slot=HealthSlot.objects.filter(station=station, day=day).first(),
    )


def slots_open(*, now: dt.datetime | None = None, days: int = 14) -> QuerySet[HealthSlot]:
    today = timezone.localdate(now or timezone.now())
    return (
        HealthSlot.objects.filter(day__gte=today, day__lte=today + dt.timedelta(days=days))
        .select_related("station")
        .order_by("day", "station__name")
    )


def bookings_for(*, viewer: User) -> QuerySet[Booking]:
    return (
        Booking.objects.filter(user=viewer).select_related("slot__station").order_by("-slot__day")
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
    for booked in bookings.values("slot__station__name").annotate(n=Count("id")):
        name, n = booked["slot__station__name"], booked["n"]
        by_type["健康体检"] = by_type.get("健康体检", 0) + n
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
