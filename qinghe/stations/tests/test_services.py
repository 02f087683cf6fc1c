"""A station's day: the 1+10 network from the reference towns, the 专窗's numbered queue,
health-check places, open requests with deadlines (overdue flagged) and outcomes that reach
the person's record as a contact."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from qinghe.accounts.models import Organisation, User
from qinghe.accounts.services import user_create
from qinghe.core.errors import ApplicationError
from qinghe.core.roles import Role
from qinghe.outreach.models import ContactLog
from qinghe.reference.models import Town
from qinghe.stations import selectors, services
from qinghe.stations.models import Booking, HealthSlot, Station
from qinghe.talents.models import Talent

SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=SH)
TOWNS = [
    ("440784001", "沙坪街道"),
    ("440784101", "龙口镇"),
    ("440784102", "雅瑶镇"),
    ("440784103", "古劳镇"),
    ("440784104", "桃源镇"),
    ("440784105", "鹤城镇"),
    ("440784106", "共和镇"),
    ("440784107", "址山镇"),
    ("440784108", "宅梧镇"),
    ("440784112", "双合镇"),
    ("440784401", "广东省江门监狱"),
    ("440784402", "江门市四堡林场"),
]


@pytest.fixture
def network(db: object) -> list[Station]:
    for code, name in TOWNS:
        Town.objects.get_or_create(code=code, defaults={"name": name, "county_code": "440784"})
    services.catalogue_ensure()
    return services.network_ensure()


def staff_of(station: Station, username: str = "yizhan9") -> User:
    return user_create(
        username=username,
        password="Qinghe-test-2026",
        role=Role.STATION_STAFF,
        organisation=station.organisation,
        validate=False,
    )


def test_the_network_is_one_centre_and_ten_town_stations(network: list[Station]) -> None:
    assert [s.name for s in network] == [
        "鹤山市人才服务中心",
        "沙坪街道人才驿站",
        "龙口镇人才驿站",
        "雅瑶镇人才驿站",
        "古劳镇人才驿站",
        "桃源镇人才驿站",
        "鹤城镇人才驿站",
        "共和镇人才驿站",
        "址山镇人才驿站",
        "宅梧镇人才驿站",
        "双合镇人才驿站",
    ]
    assert services.network_ensure() == network  # idempotent
    assert Organisation.objects.filter(kind="station").count() == 11
    assert all(s.parent == network[0] for s in network[1:])


def test_queue_numbers_requests_and_outcomes_on_the_record(network: list[Station]) -> None:
    station = network[1]
    staff = staff_of(station)
    talent = Talent.objects.create(name="黄子健")
    first = services.ticket_issue(actor=staff, talent=talent, now=NOW)
    second = services.ticket_issue(actor=staff, now=NOW + dt.timedelta(minutes=3))
    assert (first.number, second.number) == (1, 2)
    tomorrow = services.ticket_issue(actor=staff, now=NOW + dt.timedelta(days=1))
    assert tomorrow.number == 1  # numbered per day
    with pytest.raises(ValidationError):
        services.ticket_serve(actor=staff, ticket_id=first.pk, outcome="", now=NOW)
    services.ticket_serve(
        actor=staff,
        ticket_id=first.pk,
        outcome="已解答人才公寓申请条件",
        now=NOW + dt.timedelta(minutes=12),
    )
    contact = ContactLog.objects.get(talent=talent)
    assert (contact.channel, contact.notes) == (
        "visit",
        "沙坪街道人才驿站·青年人才服务专窗：已解答人才公寓申请条件",
    )
    with pytest.raises(ApplicationError, match="该号已办理"):
        services.ticket_serve(actor=staff, ticket_id=first.pk, outcome="再次", now=NOW)

    late = services.request_open(
        actor=staff, talent=talent, service_code="policy", now=NOW - dt.timedelta(days=4)
    )
    fresh = services.request_open(actor=staff, talent=talent, service_code="schooling", now=NOW)
    day = selectors.station_day(viewer=staff, now=NOW)
    assert [(r.service.code, overdue) for r, overdue in day.requests] == [
        ("policy", True),
        ("schooling", False),
    ]
    assert [t.number for t in day.waiting] == [2]
    assert [t.number for t in day.served] == [1]
    services.request_close(
        actor=staff, request_id=late.pk, outcome="已协助提交租房补贴材料", now=NOW
    )
    assert ContactLog.objects.filter(talent=talent).count() == 2
    counts = selectors.service_counts()
    assert counts["by_type"] == {"政策咨询": 1, "子女入学协助": 1, "青年人才服务专窗": 1}
    assert counts["by_station"] == {"沙坪街道人才驿站": 3}
    assert counts["average_wait_minutes"] == 12.0
    assert fresh.state == "open"

    # Another station's staff cannot touch this station's work.
    other = staff_of(network[2], "yizhan8")
    with pytest.raises(ApplicationError, match="没有这个服务事项"):
        services.request_close(actor=other, request_id=fresh.pk, outcome="越权办理")


def test_booking_refuses_a_full_day_and_changes_nothing(network: list[Station]) -> None:
    station = network[1]
    staff = staff_of(station)
    slot = services.slot_set(actor=staff, day=NOW.date() + dt.timedelta(days=3), capacity=1)
    students = [
        user_create(
            username=f"s{i}", password="Qinghe-test-2026", role=Role.STUDENT, validate=False
        )
        for i in range(2)
    ]
    services.booking_create(user=students[0], slot_id=slot.pk, now=NOW)
    with pytest.raises(ApplicationError, match="名额已满"):
        services.booking_create(user=students[1], slot_id=slot.pk, now=NOW)
    slot.refresh_from_db()
    assert (slot.booked, Booking.objects.count()) == (1, 1)
    with pytest.raises(ValidationError):
        services.slot_set(actor=staff, day=slot.day, capacity=0)
    assert HealthSlot.objects.get(pk=slot.pk).capacity == 1


def test_the_day_page_shows_the_queue_and_overdue_requests(network: list[Station]) -> None:
    station = network[1]
    staff = staff_of(station)
    talent = Talent.objects.create(name="黄子健")
    services.request_open(
        actor=staff,
        talent=talent,
        service_code="policy",
        note="咨询补贴",
        now=NOW - dt.timedelta(days=10),
    )
    client = Client()
    client.force_login(staff)
    client.post("/stations/day/tickets/", {"service": "window"})
    text = client.get("/stations/day/").content.decode()
    assert "已超期" in text and "001" in text and "咨询补贴" in text
