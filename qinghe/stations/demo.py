"""Demo stations: the centre and the ten town stations from the reference towns, a staff
account for each (the 沙坪街道 station is the persona 何伟雄's), the catalogue, the liaison
persona on the 沙坪街道 grid, three service points ("N") under their town stations, places
of every bookable service (health check, policy consultation) for the coming week, and at
沙坪街道 a walk-in ticket and two open requests for the demo student (one past its deadline).
Idempotent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from qinghe.accounts.demo import DEMO_PASSWORD
from qinghe.accounts.models import User
from qinghe.accounts.services import user_create
from qinghe.core.roles import Role
from qinghe.talents.models import Talent
from qinghe.talents.selectors import talent_for_student

from . import services, specialists
from .models import (
    GridAssignment,
    HealthSlot,
    QueueTicket,
    Service,
    ServiceRequest,
    SpecialistAssignment,
    Station,
)

# (town code, name, address, hours): service points of the "1+10+N".
DEMO_POINTS = [
    (
        "440784001",
        "大雁山青年创业园服务点",
        "鹤山市沙坪街道大雁山青年创业园 A 栋一楼",
        "周一至周五 9:00-12:00，14:30-17:30",
    ),
    (
        "440784106",
        "鹤山工业城服务点",
        "鹤山市共和镇鹤山工业城管委会一楼大厅",
        "周一至周五 8:30-12:00，14:30-17:30",
    ),
    ("440784103", "古劳水乡服务点", "鹤山市古劳镇古劳水乡游客服务中心", "周二至周日 9:00-17:00"),
]


def seed_points() -> list[Station]:
    """The demo service points, each under its town's station (skipped when the town has no
    station). Idempotent."""
    made = []
    for town_code, name, address, hours in DEMO_POINTS:
        parent = Station.objects.filter(kind=Station.Kind.TOWN, town__code=town_code).first()
        if parent is None:
            continue
        made.append(
            services._station(
                name,
                kind=Station.Kind.POINT,
                town=parent.town,
                parent=parent,
                address=address,
                hours=hours,
            )
        )
    return made


@transaction.atomic
def seed_stations(*, stdout: Any = None, scale: int = 0, seed: int = 0) -> dict[str, int]:
    services.catalogue_ensure()
    network = services.network_ensure()
    for i, station in enumerate(network):
        if not User.objects.filter(organisation=station.organisation).exists():
            user_create(
                username=f"yizhan{i:02d}",
                password=DEMO_PASSWORD,
                role=Role.STATION_STAFF,
                display_name=f"{station.name}工作人员",
                organisation=station.organisation,
                validate=False,
            )
    shaping = Station.objects.filter(town__code="440784001").first()
    liaison = User.objects.filter(username="zhuanyuan").first()
    if shaping is not None and liaison is not None and shaping.town is not None:
        GridAssignment.objects.get_or_create(
            specialist=liaison, town=shaping.town, defaults={"station": shaping}
        )
    points = seed_points()
    today = timezone.localdate()
    for service in Service.objects.filter(bookable=True):
        for station in network:
            for offset in range(1, 8):
                HealthSlot.objects.get_or_create(
                    station=station,
                    service=service,
                    day=today + dt.timedelta(days=offset),
                    defaults={"capacity": 10 if service.code == "health_check" else 4},
                )
    student = User.objects.filter(username="xuezi").first()
    talent = talent_for_student(user=student) if student else None
    staff = User.objects.filter(username="yizhan").first()
    if shaping is not None and talent is not None and staff is not None:
        if staff.organisation_id != shaping.organisation_id:
            staff = None
    if shaping is not None and talent is not None and staff is not None:
        now = timezone.now()
        if not QueueTicket.objects.filter(station=shaping, day=today).exists():
            services.ticket_issue(actor=staff, service_code="window", talent=talent, now=now)
        if not ServiceRequest.objects.filter(station=shaping, talent=talent).exists():
            services.request_open(
                actor=staff,
                talent=talent,
                service_code="subsidy",
                note="青年创业补贴材料预审",
                now=now - dt.timedelta(days=12),
            )
            services.request_open(
                actor=staff, talent=talent, service_code="housing", note="人才公寓申请", now=now
            )
    _seed_specialist(talent)
    if stdout is not None:
        stdout.write(
            f"stations demo: {len(network)} stations with staff, {len(points)} service points, "
            "catalogue, slots"
        )
    return {"stations": len(network), "points": len(points)}


def _seed_specialist(talent: Talent | None) -> None:
    """The liaison persona 冯家乐 serves the demo student's grid and is the student's specialist
    (assigned by the HR persona through the service)."""
    liaison = User.objects.filter(username="zhuanyuan").first()
    hr = User.objects.filter(username="renshe").first()
    if talent is None or liaison is None or hr is None or talent.town_id is None:
        return
    station = Station.objects.filter(kind=Station.Kind.TOWN, town_id=talent.town_id).first()
    if station is None:
        return
    GridAssignment.objects.get_or_create(
        specialist=liaison, town_id=talent.town_id, defaults={"station": station}
    )
    if not SpecialistAssignment.objects.filter(talent=talent, active=True).exists():
        specialists.specialist_assign(actor=hr, talent_id=talent.pk, specialist_id=liaison.pk)
