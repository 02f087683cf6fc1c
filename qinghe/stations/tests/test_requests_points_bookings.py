"""Opening service requests (staff for a person in their scope, a holder for themselves), the
centre's service points ("N") and booking the catalogue's bookable services from the card
page. Each refusal proves that nothing was written (no request, no message, no audit row)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.accounts.services import organisation_get_or_create
from qinghe.cards.tests.factories import CardWorld, issue_card, make_card_world, user
from qinghe.core.errors import ApplicationError, NotFound, PermissionDenied
from qinghe.core.models import AuditLog
from qinghe.core.roles import ALL_ROLES, Role
from qinghe.notifications.models import OutboxMessage
from qinghe.reference.models import Town
from qinghe.stations import selectors, services
from qinghe.stations.models import Booking, HealthSlot, Service, ServiceRequest, Station
from qinghe.talents.models import Talent

SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=SH)


class World:
    def __init__(self) -> None:
        self.cw: CardWorld = make_card_world()
        services.catalogue_ensure()
        cw = self.cw
        self.colleague = user("yizhan2", Role.STATION_STAFF, cw.shaping.organisation, "陈嘉欣")
        self.centre_staff = user("zhongxin1", Role.STATION_STAFF, cw.centre.organisation, "区丽华")
        longkou, _ = Town.objects.get_or_create(
            code="440784101", defaults={"name": "龙口镇", "county_code": "440784"}
        )
        self.longkou = Station.objects.create(
            kind=Station.Kind.TOWN,
            name="龙口镇人才驿站",
            organisation=organisation_get_or_create(kind="station", name="龙口镇人才驿站"),
            town=longkou,
            parent=cw.centre,
            address="鹤山市龙口镇党群服务中心",
            hours="周一至周五 8:30-17:30",
        )
        self.longkou_staff = user(
            "yizhan3", Role.STATION_STAFF, self.longkou.organisation, "吕志明"
        )
        self.longkou_person = Talent.objects.create(name="谭思远", town=longkou)


@pytest.fixture
def w(db: object) -> World:
    return World()


def inbox(u: User) -> list[str]:
    return list(
        OutboxMessage.objects.filter(user=u, channel="inbox")
        .order_by("pk")
        .values_list("subject", flat=True)
    )


def snapshot() -> tuple[int, int, int, int, int]:
    return (
        ServiceRequest.objects.count(),
        OutboxMessage.objects.count(),
        AuditLog.objects.count(),
        Station.objects.count(),
        Booking.objects.count(),
    )


# ---- requests opened by staff --------------------------------------------------------------


def test_station_staff_open_every_catalogue_type_with_its_deadline_and_both_sides_are_told(
    w: World,
) -> None:
    cw = w.cw
    catalogue = list(Service.objects.values_list("code", "due_days"))
    assert [c for c, _ in catalogue] == [
        "policy",
        "subsidy",
        "health_check",
        "visit",
        "schooling",
        "housing",
        "window",
    ]
    for i, (code, due_days) in enumerate(catalogue):
        at = NOW + dt.timedelta(minutes=i)
        req = services.request_open(
            actor=cw.station_staff, talent=cw.talent, service_code=code, note="来电咨询", now=at
        )
        assert (req.station, req.service.code, req.due_at, req.state, req.note) == (
            cw.shaping,
            code,
            at + dt.timedelta(days=due_days),
            "open",
            "来电咨询",
        )
    names = list(Service.objects.values_list("name", flat=True))
    assert inbox(cw.student) == [f"沙坪街道人才驿站已为你受理：{n}" for n in names]
    assert inbox(w.colleague) == [f"新的服务事项：{n}" for n in names]
    assert inbox(cw.station_staff) == []  # the one who opened it is not told
    assert inbox(w.longkou_staff) == []
    visit = ServiceRequest.objects.get(service__code="visit")
    body = OutboxMessage.objects.get(user=cw.student, subject__endswith="走访慰问").body
    assert body == (
        "沙坪街道人才驿站已为你受理“走访慰问”，将在 2026-03-17 09:03 前办理，"
        "地址：鹤山市沙坪街道中山路 8 号，服务时间：周一至周五 8:30-17:30。"
    )
    assert AuditLog.objects.filter(
        target_id=str(visit.pk), target_type__endswith="servicerequest"
    ).values_list("summary", flat=True).first() == ("沙坪街道人才驿站 受理：走访慰问")
    day = selectors.station_day(viewer=cw.station_staff, now=NOW)
    assert len(day.requests) == 7


def test_hr_and_centre_staff_open_anywhere_a_town_station_only_within_its_scope(
    w: World,
) -> None:
    cw = w.cw
    by_hr = services.request_open(
        actor=cw.hr, talent=w.longkou_person, service_code="subsidy", now=NOW
    )
    assert by_hr.station == w.longkou  # the person's town station
    assert inbox(w.longkou_staff) == ["新的服务事项：补贴申领帮办"]
    by_centre = services.request_open(
        actor=w.centre_staff, talent=w.longkou_person, service_code="visit", now=NOW
    )
    assert by_centre.station == cw.centre
    assert by_hr.due_at == NOW + dt.timedelta(days=10)

    before = snapshot()
    # 沙坪街道's staff cannot reach a 龙口镇 person; a student, a partner cannot open at all;
    # an unknown service is refused.
    with pytest.raises(NotFound):
        services.request_open(
            actor=cw.station_staff, talent=w.longkou_person, service_code="policy"
        )
    for outsider in (cw.student, cw.partner):
        with pytest.raises(PermissionDenied):
            services.request_open(actor=outsider, talent=cw.talent, service_code="policy")
    with pytest.raises(ValidationError):
        services.request_open(actor=cw.station_staff, talent=cw.talent, service_code="nothing")
    assert snapshot() == before
    # The search shows only people in scope.
    assert [h.talent.name for h in selectors.request_people(viewer=w.longkou_staff, q="谭")] == [
        "谭思远"
    ]
    assert selectors.request_people(viewer=cw.station_staff, q="谭") == []


def test_staff_find_a_person_by_card_number_and_open_a_request_on_the_page(w: World) -> None:
    cw = w.cw
    card: Any = issue_card(cw, timezone.now())
    staff = Client()
    staff.force_login(cw.station_staff)
    page = staff.get("/stations/requests/new/", {"q": card.number}).content.decode()
    assert f"李晓彤</strong> · {card.number}" in page
    assert "走访慰问（15 天内）" in page
    assert "谭思远" not in staff.get("/stations/requests/new/", {"q": "谭"}).content.decode()

    before = snapshot()
    refused = staff.post(
        "/stations/requests/new/", {"talent": w.longkou_person.pk, "service": "visit"}
    )
    assert refused.status_code == 404
    assert snapshot() == before

    done = staff.post(
        "/stations/requests/new/",
        {"talent": cw.talent.pk, "service": "visit", "note": "中秋慰问"},
        follow=True,
    )
    req = ServiceRequest.objects.get()
    assert (req.station, req.service.code, req.note, req.talent) == (
        cw.shaping,
        "visit",
        "中秋慰问",
        cw.talent,
    )
    text = done.content.decode()
    assert "已受理：李晓彤 · 走访慰问" in text and "已通知本人和沙坪街道人才驿站" in text
    assert inbox(cw.student)[-1] == "沙坪街道人才驿站已为你受理：走访慰问"


# ---- a holder asks for themselves ------------------------------------------------------------


def test_a_holder_asks_from_the_card_page_for_the_types_the_catalogue_allows(w: World) -> None:
    cw = w.cw
    holder = Client()
    holder.force_login(cw.student)
    # Without a card: refused, nothing written, and no form on the card page.
    before = snapshot()
    holder.post("/stations/requests/ask/", {"service": "housing"})
    assert snapshot() == before
    assert 'data-testid="ask-form"' not in holder.get("/cards/").content.decode()

    card: Any = issue_card(cw, timezone.now())
    page = holder.get("/cards/").content.decode()
    assert 'data-testid="ask-form"' in page
    asked = list(Service.objects.filter(holder_may_ask=True).values_list("code", flat=True))
    assert asked == ["policy", "subsidy", "schooling", "housing"]
    for code in asked:
        assert f'<option value="{code}">' in page
    assert '<option value="visit">' not in page

    sent = holder.post(
        "/stations/requests/ask/", {"service": "housing", "note": "想了解人才公寓"}, follow=True
    )
    req = ServiceRequest.objects.get()
    assert (req.station, req.service.code, req.talent, req.note) == (
        card.station,
        "housing",
        cw.talent,
        "想了解人才公寓",
    )
    assert card.station == cw.shaping
    assert "“安居协助”申请已提交沙坪街道人才驿站" in sent.content.decode()
    assert "安居协助 · 沙坪街道人才驿站" in sent.content.decode()  # 我的服务事项
    assert inbox(cw.student)[-1] == "你的安居协助申请已提交"
    assert inbox(cw.station_staff)[-1] == "新的服务事项：安居协助"
    assert inbox(w.colleague)[-1] == "新的服务事项：安居协助"

    before = snapshot()
    holder.post("/stations/requests/ask/", {"service": "visit"})  # staff-only type
    holder.post("/stations/requests/ask/", {"service": "housing"})  # already open
    assert snapshot() == before
    with pytest.raises(ApplicationError, match="正在办理中"):
        services.request_ask(user=cw.student, service_code="housing")


# ---- service points ----------------------------------------------------------------------------


def test_the_centre_makes_and_closes_service_points_shown_in_the_network(w: World) -> None:
    cw = w.cw
    centre = Client()
    centre.force_login(w.centre_staff)
    centre.post(
        "/stations/points/",
        {
            "parent": cw.shaping.pk,
            "name": "大雁山青年创业园服务点",
            "address": "鹤山市沙坪街道大雁山青年创业园 A 栋一楼",
            "hours": "周一至周五 9:00-17:30",
            "phone": "0750-8888123",
        },
    )
    point = Station.objects.get(kind=Station.Kind.POINT)
    assert (point.parent, point.town_id, point.is_active, point.organisation.kind) == (
        cw.shaping,
        cw.shaping.town_id,
        True,
        "station",
    )
    network = selectors.network()
    assert [(r.station.name, [p.name for p in r.points]) for r in network] == [
        ("鹤山市人才服务中心", []),
        ("沙坪街道人才驿站", ["大雁山青年创业园服务点"]),
        ("龙口镇人才驿站", []),
    ]
    student = Client()
    student.force_login(cw.student)
    listed = student.get("/stations/").content.decode()
    assert (
        "大雁山青年创业园服务点" in listed and "鹤山市沙坪街道大雁山青年创业园 A 栋一楼" in listed
    )

    town_staff = Client()
    town_staff.force_login(cw.station_staff)
    before = snapshot()
    town_staff.post(
        "/stations/points/",
        {
            "parent": cw.shaping.pk,
            "name": "中山路服务点",
            "address": "中山路 9 号",
            "hours": "全天",
        },
    )
    town_staff.post(f"/stations/points/{point.pk}/active/", {"active": "0"})
    centre.post(  # a duplicate name, a missing address
        "/stations/points/",
        {"parent": cw.shaping.pk, "name": "大雁山青年创业园服务点", "address": "", "hours": "全天"},
    )
    centre.post(f"/stations/points/{cw.shaping.pk}/active/", {"active": "0"})  # not a point
    assert snapshot() == before
    assert Station.objects.filter(is_active=False).count() == 0
    assert "大雁山青年创业园服务点" in town_staff.get("/stations/points/").content.decode()
    assert 'data-testid="point-form"' not in town_staff.get("/stations/points/").content.decode()

    centre.post(f"/stations/points/{point.pk}/active/", {"active": "0"})
    point.refresh_from_db()
    assert point.is_active is False
    assert "大雁山青年创业园服务点" not in student.get("/stations/").content.decode()
    assert AuditLog.objects.filter(summary="停用服务点：大雁山青年创业园服务点").count() == 1
    centre.post(f"/stations/points/{point.pk}/active/", {"active": "1"})
    point.refresh_from_db()
    assert point.is_active is True


# ---- booking the bookable services ----------------------------------------------------------


def test_the_holder_books_a_policy_consultation_from_the_card_page_under_the_same_capacity(
    w: World,
) -> None:
    cw = w.cw
    issue_card(cw, timezone.now())
    assert list(Service.objects.filter(bookable=True).values_list("code", flat=True)) == [
        "policy",
        "health_check",
    ]
    day = timezone.localdate() + dt.timedelta(days=2)
    slot = services.slot_set(actor=cw.station_staff, day=day, capacity=1, service_code="policy")
    services.slot_set(actor=cw.station_staff, day=day, capacity=5)  # a health-check slot
    assert HealthSlot.objects.count() == 2
    before = snapshot()
    with pytest.raises(ValidationError):
        services.slot_set(actor=cw.station_staff, day=day, capacity=3, service_code="visit")
    assert HealthSlot.objects.count() == 2

    holder = Client()
    holder.force_login(cw.student)
    card_page = holder.get("/cards/").content.decode()
    assert 'href="/stations/book/" data-testid="book-link"' in card_page
    book = holder.get("/stations/book/").content.decode()
    assert book.index('data-testid="slots-policy"') < book.index('data-testid="slots-health_check"')
    holder.post("/stations/book/", {"slot": slot.pk})
    booking = Booking.objects.get()
    assert (booking.slot, booking.talent, booking.state) == (slot, cw.talent, "booked")
    assert inbox(cw.student)[-1] == "政策咨询预约成功"
    slot.refresh_from_db()
    assert (slot.booked, slot.capacity) == (1, 1)
    assert snapshot()[4] == before[4] + 1

    other = user("xuezi2", Role.STUDENT, name="梁子乐")
    full = snapshot()
    with pytest.raises(ApplicationError, match="该日政策咨询名额已满"):
        services.booking_create(user=other, slot_id=slot.pk)
    assert snapshot() == full
    assert selectors.service_counts()["by_type"] == {"政策咨询": 1}


# ---- who reaches the new pages ------------------------------------------------------------


@pytest.mark.parametrize("role", sorted(ALL_ROLES) + ["anonymous"])
def test_every_role_against_the_new_station_pages(
    role: str, personas: dict[str, User], db: object
) -> None:
    services.catalogue_ensure()
    client = Client()
    if role != "anonymous":
        client.force_login(personas[role])
    before = snapshot()
    answers = (
        client.get("/stations/requests/new/").status_code,
        client.post("/stations/requests/new/", {"talent": 999999, "service": "policy"}).status_code,
        client.post("/stations/requests/ask/", {"service": "policy"}).status_code,
        client.get("/stations/points/").status_code,
        client.post("/stations/points/", {"parent": 999999, "name": "某服务点"}).status_code,
        client.post("/stations/points/999999/active/", {"active": "0"}).status_code,
    )
    table: dict[str, tuple[int, ...]] = {
        # staff in scope reach the form; the unknown person is a 404 alike for everyone. The
        # station persona's organisation has no station here: the points page is refused (403)
        # and its posts are sent back with the reason, writing nothing.
        Role.STATION_STAFF: (200, 404, 403, 403, 302, 302),
        Role.HR_STAFF: (200, 404, 403, 403, 403, 403),
        Role.SYSADMIN: (200, 404, 403, 403, 403, 403),
        # a student without a card is sent back to the card page with the reason
        Role.STUDENT: (403, 403, 302, 403, 403, 403),
        Role.AMBASSADOR: (403, 403, 302, 403, 403, 403),
    }
    expected = table.get(role, (403, 403, 403, 403, 403, 403))
    if role == "anonymous":
        expected = (302, 302, 302, 302, 302, 302)  # to sign-in
    assert answers == expected
    assert snapshot() == before
