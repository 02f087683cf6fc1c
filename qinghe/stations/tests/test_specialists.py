"""Talent service specialists assigned to people: station staff assign a specialist of the
person's grid, the person sees them and writes to them, the specialist sees their people with
what each needs next; a reassignment needs a reason, keeps the history, is audited and messages
all three. Every refusal changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from qinghe.accounts.models import User
from qinghe.accounts.services import organisation_get_or_create
from qinghe.cards import services as card_services
from qinghe.cards.tests.factories import CardWorld, apply_data, make_card_world, user
from qinghe.core.errors import ApplicationError, NotFound, PermissionDenied
from qinghe.core.models import AuditLog
from qinghe.core.roles import Role
from qinghe.notifications.models import OutboxMessage
from qinghe.reference.models import Town
from qinghe.stations import services as station_services
from qinghe.stations import specialists
from qinghe.stations.models import GridAssignment, SpecialistAssignment, Station
from qinghe.talents.models import Consent, Talent
from qinghe.talents.services import consent_record

SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=SH)


class World:
    def __init__(self) -> None:
        self.cw: CardWorld = make_card_world()
        self.catalogue = station_services.catalogue_ensure()
        hrss = organisation_get_or_create(kind="bureau", name="鹤山市人力资源和社会保障局")
        self.feng = user("zhuanyuan1", Role.LIAISON, hrss, "冯家乐")
        self.tan = user("zhuanyuan2", Role.LIAISON, hrss, "谭美玲")
        self.outsider = user("zhuanyuan3", Role.LIAISON, hrss, "区志坚")  # no grid here
        town = self.cw.shaping.town
        assert town is not None
        for specialist in (self.feng, self.tan):
            GridAssignment.objects.create(specialist=specialist, town=town, station=self.cw.shaping)
        longkou = Town.objects.create(code="440784101", name="龙口镇", county_code="440784")
        self.longkou_station = Station.objects.create(
            kind=Station.Kind.TOWN,
            name="龙口镇人才驿站",
            organisation=organisation_get_or_create(kind="station", name="龙口镇人才驿站"),
            town=longkou,
            parent=self.cw.centre,
            address="鹤山市龙口镇",
            hours="周一至周五",
        )
        GridAssignment.objects.create(
            specialist=self.outsider, town=longkou, station=self.longkou_station
        )
        self.longkou_staff = user(
            "yizhan2", Role.STATION_STAFF, self.longkou_station.organisation, "陈国强"
        )


@pytest.fixture
def w(db: object) -> World:
    return World()


def state() -> dict[str, Any]:
    return {
        "rows": list(
            SpecialistAssignment.objects.order_by("pk").values_list(
                "talent_id", "specialist_id", "active", "ended_at"
            )
        ),
        "audit": AuditLog.objects.count(),
        "outbox": OutboxMessage.objects.count(),
    }


def inbox(u: User) -> list[tuple[str, str]]:
    rows = OutboxMessage.objects.filter(user=u, channel="inbox").order_by("pk")
    return list(rows.values_list("subject", "body"))


def test_station_staff_assign_a_specialist_of_the_grid_and_everyone_is_told(w: World) -> None:
    cw = w.cw
    row = specialists.specialist_assign(
        actor=cw.station_staff, talent_id=cw.talent.pk, specialist_id=w.feng.pk, now=NOW
    )
    assert (row.talent, row.specialist, row.station, row.active) == (
        cw.talent,
        w.feng,
        cw.shaping,
        True,
    )
    audit = AuditLog.objects.get(target_type="stations.specialistassignment")
    assert (audit.action, audit.summary, audit.actor) == (
        "create",
        "分配人才服务专员：冯家乐",
        cw.station_staff,
    )
    assert inbox(cw.student) == [
        (
            "你的人才服务专员已确定",
            "沙坪街道人才驿站的冯家乐将作为你的人才服务专员，可在青鹤平台“我的服务专员”给专员留言。",
        )
    ]
    assert inbox(w.feng) == [("新的服务对象", "李晓彤已分配给你服务（沙坪街道人才驿站）。")]
    mine = specialists.specialist_for_person(viewer=cw.student)
    assert mine is not None and mine.specialist == w.feng and mine.station == cw.shaping


def test_a_reassignment_needs_a_reason_keeps_the_history_and_tells_both_specialists(
    w: World,
) -> None:
    cw = w.cw
    first = specialists.specialist_assign(
        actor=cw.station_staff, talent_id=cw.talent.pk, specialist_id=w.feng.pk, now=NOW
    )
    before = state()
    with pytest.raises(ValidationError) as refused:
        specialists.specialist_assign(
            actor=cw.hr, talent_id=cw.talent.pk, specialist_id=w.tan.pk, reason=" ", now=NOW
        )
    assert refused.value.message_dict == {"reason": ["更换服务专员请填写原因"]}
    with pytest.raises(ValidationError) as same:
        specialists.specialist_assign(
            actor=cw.hr, talent_id=cw.talent.pk, specialist_id=w.feng.pk, reason="x", now=NOW
        )
    assert same.value.message_dict == {"specialist": ["该人才的服务专员已是这位专员"]}
    assert state() == before

    later = NOW + dt.timedelta(days=3)
    second = specialists.specialist_assign(
        actor=cw.hr, talent_id=cw.talent.pk, specialist_id=w.tan.pk, reason="冯家乐调岗", now=later
    )
    first.refresh_from_db()
    assert (first.active, first.ended_at) == (False, later)
    assert (second.active, second.specialist, second.reason) == (True, w.tan, "冯家乐调岗")
    audit = AuditLog.objects.filter(target_type="stations.specialistassignment").latest("id")
    assert (audit.action, audit.summary, audit.reason) == (
        "update",
        "更换人才服务专员：冯家乐 → 谭美玲",
        "冯家乐调岗",
    )
    assert inbox(w.feng)[-1] == ("服务对象已转交", "李晓彤已改由谭美玲服务。原因：冯家乐调岗")
    assert inbox(w.tan) == [("新的服务对象", "李晓彤已分配给你服务（沙坪街道人才驿站）。")]
    assert inbox(cw.student)[-1][0] == "你的人才服务专员已更换"
    assert specialists.people_of_specialist(viewer=w.feng, now=later) == []


def test_refusals_change_nothing(w: World) -> None:
    cw = w.cw
    before = state()
    # A specialist of another grid.
    with pytest.raises(ValidationError) as other_grid:
        specialists.specialist_assign(
            actor=cw.hr, talent_id=cw.talent.pk, specialist_id=w.outsider.pk, now=NOW
        )
    assert other_grid.value.message_dict == {"specialist": ["请选择该网格的人才服务专员"]}
    # Another town's station staff do not reach this person (the same 404 as a missing one).
    with pytest.raises(NotFound):
        specialists.specialist_assign(
            actor=w.longkou_staff, talent_id=cw.talent.pk, specialist_id=w.feng.pk, now=NOW
        )
    with pytest.raises(NotFound):
        specialists.specialist_assign(
            actor=cw.hr, talent_id=999999, specialist_id=w.feng.pk, now=NOW
        )
    # Neither a liaison nor a student assigns.
    for actor in (w.feng, cw.student):
        with pytest.raises(PermissionDenied):
            specialists.specialist_assign(
                actor=actor, talent_id=cw.talent.pk, specialist_id=w.feng.pk, now=NOW
            )
    # A record without a town has no grid.
    homeless = Talent.objects.create(name="周子航")
    with pytest.raises(ApplicationError, match="没有所属镇街"):
        specialists.specialist_assign(
            actor=cw.hr, talent_id=homeless.pk, specialist_id=w.feng.pk, now=NOW
        )
    assert state() == before


def test_the_specialist_sees_each_persons_next_steps_urgent_first(w: World) -> None:
    cw = w.cw
    calm_user = user("xuezi2", Role.STUDENT, name="梁嘉欣")
    calm = Talent.objects.create(name="梁嘉欣", user=calm_user, town=cw.shaping.town)
    for talent in (calm, cw.talent):
        specialists.specialist_assign(
            actor=cw.station_staff, talent_id=talent.pk, specialist_id=w.feng.pk, now=NOW
        )
    card_services.card_apply(user=cw.student, data=apply_data(NOW.date()), now=NOW)
    station_services.request_open(
        actor=cw.station_staff,
        talent=cw.talent,
        service_code="housing",
        note="人才公寓",
        now=NOW - dt.timedelta(days=30),
    )
    people = specialists.people_of_specialist(viewer=w.feng, now=NOW)
    assert [p.assignment.talent.name for p in people] == ["李晓彤", "梁嘉欣"]
    steps = [[(s.text, s.urgent) for s in p.steps] for p in people]
    due = people[0].assignment.talent.service_requests.get().due_at.astimezone(SH)
    assert steps == [
        [
            ("青年卡申请待驿站初审", True),
            (f"安居协助办理中，时限 {due:%m-%d %H:%M}（已超期）", True),
        ],
        [("尚未申请鹤才青年卡，可介绍申请", False)],
    ]
    assert specialists.people_of_specialist(viewer=w.tan, now=NOW) == []


@pytest.mark.parametrize(
    ("state_", "until", "printed", "handed", "expected"),
    [
        ("active", dt.date(2026, 4, 1), True, True, "青年卡 2026-04-01 到期，已可续期"),
        ("active", dt.date(2027, 4, 1), False, False, "实体卡待制卡"),
        ("active", dt.date(2027, 4, 1), True, False, "实体卡已制好，待领取"),
        ("active", dt.date(2027, 4, 1), True, True, None),
        ("suspended", dt.date(2027, 4, 1), True, True, "青年卡已暂停：协助报告工作单位变更并恢复"),
        ("lost", dt.date(2027, 4, 1), True, True, "青年卡已挂失：待补办新卡"),
    ],
)
def test_what_a_card_needs_next(
    state_: str, until: dt.date, printed: bool, handed: bool, expected: str | None
) -> None:
    step = specialists.card_step(
        state=state_, valid_until=until, printed=printed, handed=handed, today=NOW.date()
    )
    assert (step.text if step else None) == expected


def test_messages_go_through_the_platform_and_respect_liaison_consent(w: World) -> None:
    cw = w.cw
    with pytest.raises(ApplicationError, match="还没有人才服务专员"):
        specialists.specialist_message_from_person(user=cw.student, text="你好")
    specialists.specialist_assign(
        actor=cw.station_staff, talent_id=cw.talent.pk, specialist_id=w.feng.pk, now=NOW
    )
    before = state()
    with pytest.raises(ValidationError):
        specialists.specialist_message_from_person(user=cw.student, text="   ")
    with pytest.raises(ValidationError):
        specialists.specialist_message_from_person(user=cw.student, text="字" * 501)
    assert state() == before
    specialists.specialist_message_from_person(user=cw.student, text="请问体检怎么预约？")
    assert inbox(w.feng)[-1] == ("服务对象李晓彤给你留言", "请问体检怎么预约？")

    # The specialist's answer is a liaison message: refused without consent, nothing written.
    before = state()
    with pytest.raises(ApplicationError, match="未同意接收"):
        specialists.specialist_message_to_person(
            actor=w.feng, talent_id=cw.talent.pk, text="在“预约体检”选日期即可"
        )
    assert state() == before
    with pytest.raises(NotFound):
        specialists.specialist_message_to_person(actor=w.tan, talent_id=cw.talent.pk, text="x")
    consent_record(
        talent=cw.talent, purpose=Consent.Purpose.LIAISON, granted=True, actor=cw.student
    )
    specialists.specialist_message_to_person(
        actor=w.feng, talent_id=cw.talent.pk, text="在“预约体检”选日期即可"
    )
    assert inbox(cw.student)[-1] == ("人才服务专员冯家乐给你留言", "在“预约体检”选日期即可")


def test_the_pages(w: World) -> None:
    cw = w.cw
    staff, student, feng = Client(), Client(), Client()
    staff.force_login(cw.station_staff)
    student.force_login(cw.student)
    feng.force_login(w.feng)
    card_services.card_apply(user=cw.student, data=apply_data(NOW.date()), now=NOW)

    page = staff.get("/stations/specialists/").content.decode()
    assert "沙坪街道网格的专员" in page and "冯家乐、谭美玲" in page
    assert "李晓彤" in page and "未分配" in page
    assert "还没有为你分配服务专员" in student.get("/stations/specialist/").content.decode()

    response = staff.post(
        "/stations/specialists/assign/",
        {"talent": cw.talent.pk, "specialist": w.feng.pk, "station": cw.shaping.pk},
    )
    assert response.status_code == 302
    assert SpecialistAssignment.objects.get(active=True).specialist == w.feng
    # Another grid's station is out of reach: 404, and a refused POST changes nothing.
    assert staff.get(f"/stations/specialists/?station={w.longkou_station.pk}").status_code == 404
    before = state()
    response = staff.post(
        "/stations/specialists/assign/",
        {"talent": cw.talent.pk, "specialist": w.tan.pk, "station": cw.shaping.pk},
    )
    assert response.status_code == 302
    assert state() == before

    page = student.get("/stations/specialist/").content.decode()
    assert "冯家乐" in page and "沙坪街道人才驿站" in page
    assert "13800" not in page  # no private phone
    assert student.post("/stations/specialist/", {"text": "你好"}).status_code == 302
    assert inbox(w.feng)[-1] == ("服务对象李晓彤给你留言", "你好")

    page = feng.get("/stations/people/").content.decode()
    assert "李晓彤" in page and "青年卡申请待驿站初审" in page


def test_the_card_page_names_the_persons_specialist(w: World) -> None:
    cw = w.cw
    student = Client()
    student.force_login(cw.student)
    assert 'data-testid="card-specialist"' not in student.get("/cards/").content.decode()
    specialists.specialist_assign(
        actor=cw.station_staff, talent_id=cw.talent.pk, specialist_id=w.feng.pk, now=NOW
    )
    page = student.get("/cards/").content.decode()
    assert "你的人才服务专员：" in page and "冯家乐（沙坪街道人才驿站）" in page


def test_staff_put_specialists_into_their_grid_and_take_them_out_when_free(w: World) -> None:
    cw = w.cw
    zhong = user("zhuanyuan4", Role.LIAISON, name="钟晓峰")
    station = cw.shaping
    names = [u.display_name for u in specialists.grid_candidates(station=station)]
    assert names == ["何伟雄", "区志坚", "钟晓峰"]  # the station's staff and liaisons not in it
    # Another town's staff do not reach this grid: the same 404, nothing written.
    before = state()
    with pytest.raises(NotFound):
        specialists.grid_specialist_set(
            actor=w.longkou_staff, station_id=station.pk, user_id=zhong.pk, add=True, now=NOW
        )
    with pytest.raises(ValidationError):  # a student is no specialist
        specialists.grid_specialist_set(
            actor=cw.station_staff, station_id=station.pk, user_id=cw.student.pk, add=True
        )
    assert state() == before
    specialists.grid_specialist_set(
        actor=cw.station_staff, station_id=station.pk, user_id=zhong.pk, add=True, now=NOW
    )
    assert [u.display_name for u in specialists.grid_specialists(station=station)] == [
        "冯家乐",
        "谭美玲",
        "钟晓峰",
    ]
    assert inbox(zhong) == [
        ("你已加入人才驿站网格", "你已成为沙坪街道人才驿站网格的人才服务专员。")
    ]
    assert (
        AuditLog.objects.filter(target_type="stations.station").latest("id").summary
        == "沙坪街道人才驿站网格加入专员：钟晓峰"
    )
    specialists.specialist_assign(
        actor=cw.station_staff, talent_id=cw.talent.pk, specialist_id=zhong.pk, now=NOW
    )
    before = state()
    with pytest.raises(ApplicationError, match="仍在服务本网格的 1 人"):
        specialists.grid_specialist_set(
            actor=cw.hr, station_id=station.pk, user_id=zhong.pk, add=False, now=NOW
        )
    assert state() == before
    specialists.specialist_assign(
        actor=cw.hr, talent_id=cw.talent.pk, specialist_id=w.feng.pk, reason="调岗", now=NOW
    )
    specialists.grid_specialist_set(
        actor=cw.hr, station_id=station.pk, user_id=zhong.pk, add=False, now=NOW
    )
    assert not GridAssignment.objects.filter(specialist=zhong).exists()
    staff = Client()
    staff.force_login(cw.station_staff)
    response = staff.post(
        "/stations/specialists/grid/",
        {"station": station.pk, "specialist": zhong.pk, "op": "add"},
    )
    assert response.status_code == 302
    assert GridAssignment.objects.filter(specialist=zhong, town=station.town).exists()
