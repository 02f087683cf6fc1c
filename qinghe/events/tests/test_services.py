"""The events services, as sentences about the world in conftest.py. Refused actions are
shown to change nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from qinghe.core.errors import ApplicationError, NotFound, PermissionDenied
from qinghe.core.models import AuditLog
from qinghe.events import services
from qinghe.events.checkin import make_code
from qinghe.events.models import Event, EventChange, Registration
from qinghe.events.selectors import registration_counts, waitlist_position
from qinghe.events.services import EventData
from qinghe.notifications.models import OutboxMessage
from qinghe.outreach.models import ContactLog

from .conftest import World
from .factories import NOW, at, local, make_event, make_student

pytestmark = pytest.mark.django_db


def data(**overrides: object) -> EventData:
    values: dict[str, object] = {
        "type": Event.Type.JOB_FAIR,
        "title": "2026 鹤山春季招聘会",
        "place": "鹤山市人力资源市场",
        "starts_at": at(days=20),
        "ends_at": at(days=20, hours=3),
        "registration_opens_at": at(days=1),
        "registration_closes_at": at(days=19),
        "cancel_deadline": at(days=18),
        "capacity": 100,
    }
    values.update(overrides)
    return EventData(**values)  # type: ignore[arg-type]


def snapshot(event: Event) -> tuple[object, ...]:
    event.refresh_from_db()
    return (
        event.state,
        event.title,
        event.capacity,
        Registration.objects.filter(event=event).count(),
        EventChange.objects.filter(event=event).count(),
        OutboxMessage.objects.count(),
        AuditLog.objects.count(),
    )


# ---- organising --------------------------------------------------------------------------


def test_staff_create_a_draft_for_their_bureau_with_a_change_row_and_an_audit_entry(
    world: World,
) -> None:
    event = services.event_create(actor=world.staff, data=data(enterprises=[world.a, world.b]))
    assert (event.state, event.organiser_id, event.created_by_id) == (
        Event.State.DRAFT,
        world.staff.organisation_id,
        world.staff.pk,
    )
    assert set(event.enterprises.all()) == {world.a, world.b}
    assert list(event.changes.values_list("action", "to_state")) == [("create", "draft")]
    log = AuditLog.objects.get(target_type="events.event", target_id=str(event.pk))
    assert (log.action, log.summary) == ("create", "新建活动：2026 鹤山春季招聘会（招聘会）")


def test_the_form_rules_are_checked_together_and_nothing_is_created(world: World) -> None:
    before = Event.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.event_create(
            actor=world.staff,
            data=data(
                title=" ",
                place="",
                ends_at=at(days=18, hours=12),
                cancel_deadline=at(days=21),
                audience=Event.Audience.GRADUATING,
                capacity=0,
            ),
        )
    assert exc.value.message_dict == {
        "title": ["请填写活动名称"],
        "place": ["请填写活动地点"],
        "ends_at": ["结束时间须晚于开始时间"],
        "registration_closes_at": ["报名截止不能晚于活动结束"],
        "cancel_deadline": ["取消报名截止不能晚于活动开始"],
        "audience_year": ["请填写限定的毕业年份"],
        "capacity": ["名额至少为 1，不限名额请留空"],
    }
    assert Event.objects.count() == before


def test_an_online_fair_needs_a_link_instead_of_a_place(world: World) -> None:
    with pytest.raises(ValidationError) as exc:
        services.event_create(actor=world.staff, data=data(type=Event.Type.CLOUD_FAIR, place=""))
    assert exc.value.message_dict == {"online_url": ["线上活动请填写直播或会场链接"]}
    event = services.event_create(
        actor=world.staff,
        data=data(type=Event.Type.CLOUD_FAIR, place="", online_url="https://live.example.cn/1"),
    )
    assert (event.is_online, event.place) == (True, "")


def test_an_enterprise_proposes_for_itself_only(world: World) -> None:
    event = services.event_create(
        actor=world.hr_a, data=data(organiser=world.b.organisation, enterprises=[world.a])
    )
    # The organiser is always the enterprise's own, whatever was asked.
    assert (event.organiser_id, event.state) == (world.a.organisation_id, Event.State.DRAFT)
    before = Event.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.event_create(actor=world.hr_a, data=data(enterprises=[world.b]))
    assert exc.value.message_dict == {"enterprises": ["企业申请的活动只能关联本企业及其岗位"]}
    assert Event.objects.count() == before


def test_a_pending_enterprise_cannot_propose(world: World) -> None:
    world.a.state = world.a.State.PENDING
    world.a.save()
    before = Event.objects.count()
    with pytest.raises(PermissionDenied, match="贵企业通过人社局认证后才能申请举办活动"):
        services.event_create(actor=world.hr_a, data=data())
    assert Event.objects.count() == before


def test_a_proposal_is_submitted_then_published_by_staff_who_are_told(world: World) -> None:
    event = services.event_create(actor=world.hr_a, data=data())
    services.event_transition(actor=world.hr_a, event=event, action="submit")
    event.refresh_from_db()
    assert event.state == Event.State.REVIEW
    # Every active HR and League staff member gets the review request in their inbox.
    told = set(
        OutboxMessage.objects.filter(subject="活动待审核：2026 鹤山春季招聘会").values_list(
            "user__username", flat=True
        )
    )
    assert told == {"renshe", "tuanwei"}
    before = snapshot(event)
    with pytest.raises(PermissionDenied, match="只有活动管理人员可以执行此操作"):
        services.event_transition(actor=world.hr_a, event=event, action="publish")
    assert snapshot(event) == before
    services.event_transition(actor=world.league, event=event, action="publish")
    event.refresh_from_db()
    assert (event.state, event.published_at is not None) == (Event.State.PUBLISHED, True)
    assert list(event.changes.order_by("id").values_list("action", "from_state", "to_state")) == [
        ("create", "", "draft"),
        ("submit", "draft", "review"),
        ("publish", "review", "published"),
    ]
    assert OutboxMessage.objects.filter(
        user=world.hr_a, subject="你申请的活动“2026 鹤山春季招聘会”已发布。"
    ).exists()


def test_a_move_not_in_the_table_is_refused_and_changes_nothing(world: World) -> None:
    before = snapshot(world.talk)
    with pytest.raises(ApplicationError, match="活动当前为“已发布”，不能提交审核"):
        services.event_transition(actor=world.hr_a, event=world.talk, action="submit")
    with pytest.raises(ApplicationError, match="活动当前为“已发布”，不能发布"):
        services.event_transition(actor=world.staff, event=world.talk, action="publish")
    with pytest.raises(PermissionDenied, match="工作人员创建的活动可直接发布"):
        services.event_transition(actor=world.staff, event=world.talk, action="submit")
    with pytest.raises(ValidationError):
        services.event_transition(actor=world.staff, event=world.talk, action="cancel", note=" ")
    assert snapshot(world.talk) == before


def test_another_enterprise_cannot_touch_an_event_it_does_not_organise(world: World) -> None:
    draft = make_event(world.a.organisation, state=Event.State.DRAFT)
    before = snapshot(draft)
    with pytest.raises(NotFound):
        services.event_transition(actor=world.hr_b, event=draft, action="submit")
    with pytest.raises(NotFound):
        services.event_update(actor=world.hr_b, event=draft, data=data(title="改名"))
    assert snapshot(draft) == before


def test_an_enterprise_edits_only_its_draft(world: World) -> None:
    draft = make_event(world.a.organisation, state=Event.State.DRAFT)
    assert services.event_update(actor=world.hr_a, event=draft, data=data(title="新名称")) != []
    draft.refresh_from_db()
    assert draft.title == "新名称"
    before = snapshot(world.talk)
    with pytest.raises(ApplicationError, match="活动已提交审核或已发布，如需修改请联系工作人员"):
        services.event_update(actor=world.hr_a, event=world.talk, data=data(title="再改"))
    assert snapshot(world.talk) == before


def test_cancelling_a_published_event_tells_everyone_registered(world: World) -> None:
    x, y, z = (make_student(n) for n in ("x", "y", "z"))
    for s in (x, y, z):
        services.registration_create(user=s, event=world.talk, now=NOW)
    services.event_transition(actor=world.staff, event=world.talk, action="cancel", note="台风")
    world.talk.refresh_from_db()
    assert (world.talk.state, world.talk.cancel_reason) == (Event.State.CANCELLED, "台风")
    told = sorted(
        OutboxMessage.objects.filter(subject="活动取消：雅图仕 2026 校园宣讲会").values_list(
            "user__username", "channel"
        )
    )
    assert told == [
        ("x", "inbox"),
        ("x", "sms"),
        ("y", "inbox"),
        ("y", "sms"),
        ("z", "inbox"),
        ("z", "sms"),
    ]


# ---- registration ------------------------------------------------------------------------


def test_registrations_are_confirmed_while_places_last_then_waitlisted_in_order(
    world: World,
) -> None:
    students = [make_student(f"s{i}") for i in range(5)]
    results = [
        services.registration_create(user=s, event=world.talk, now=at(minutes=i))
        for i, s in enumerate(students)
    ]
    assert [(r.registration.status, r.position) for r in results] == [
        ("confirmed", None),
        ("confirmed", None),
        ("waitlisted", 1),
        ("waitlisted", 2),
        ("waitlisted", 3),
    ]
    counts = registration_counts(event=world.talk)
    assert (counts.registered, counts.confirmed, counts.waitlisted, counts.attended) == (5, 2, 3, 0)


def test_an_event_without_a_limit_confirms_everyone(world: World) -> None:
    open_event = make_event(world.a.organisation, capacity=None)
    results = [
        services.registration_create(user=make_student(f"u{i}"), event=open_event, now=NOW)
        for i in range(3)
    ]
    assert {r.registration.status for r in results} == {"confirmed"}


def test_a_second_registration_is_refused_and_changes_nothing(world: World) -> None:
    x = make_student("x")
    services.registration_create(user=x, event=world.talk, now=NOW)
    before = snapshot(world.talk)
    with pytest.raises(ApplicationError, match="^你已报名该活动$"):
        services.registration_create(user=x, event=world.talk, now=NOW)
    assert snapshot(world.talk) == before


@pytest.mark.parametrize(
    ("when", "state", "message"),
    [
        (at(days=-2), Event.State.PUBLISHED, f"报名尚未开始，将于 {local(at(days=-1))} 开始"),
        (at(days=9), Event.State.PUBLISHED, "报名已截止"),
        (at(days=11), Event.State.PUBLISHED, "活动已结束"),
        (NOW, Event.State.CANCELLED, "活动已取消，不能报名"),
        (NOW, Event.State.DRAFT, "活动尚未发布，不能报名"),
        (NOW, Event.State.REVIEW, "活动尚未发布，不能报名"),
        (NOW, Event.State.FINISHED, "活动已结束"),
    ],
)
def test_registration_is_refused_outside_the_window_or_for_an_event_not_open(
    world: World, when: dt.datetime, state: str, message: str
) -> None:
    Event.objects.filter(pk=world.talk.pk).update(state=state)
    x = make_student("x")
    before = snapshot(world.talk)
    with pytest.raises(ApplicationError) as exc:
        services.registration_create(user=x, event=world.talk, now=when)
    assert exc.value.message == message
    assert snapshot(world.talk) == before


def test_only_students_and_ambassadors_register(world: World, personas: dict) -> None:
    before = snapshot(world.talk)
    for role in ("hr_staff", "enterprise_hr", "liaison", "auditor"):
        with pytest.raises(ApplicationError, match="只有学子可以报名活动"):
            services.registration_create(user=personas[role], event=world.talk, now=NOW)
    assert snapshot(world.talk) == before
    result = services.registration_create(user=personas["ambassador"], event=world.talk, now=NOW)
    assert result.registration.status == "confirmed"


def test_an_audience_by_level_admits_only_that_level(world: World) -> None:
    event = make_event(world.a.organisation, audience=Event.Audience.LEVEL, audience_level="master")
    master = make_student("master", level="master")
    bachelor = make_student("bachelor", level="bachelor")
    unknown = make_student("unknown")
    before = snapshot(event)
    for s in (bachelor, unknown):
        with pytest.raises(ApplicationError) as exc:
            services.registration_create(user=s, event=event, now=NOW)
        assert exc.value.message == (
            "该活动仅限硕士学历的学子报名；如你的学历信息有误，请先在“我的档案”中更正"
        )
    assert snapshot(event) == before
    assert services.registration_create(user=master, event=event, now=NOW).position is None


def test_an_audience_by_graduating_year_admits_only_that_year(world: World) -> None:
    event = make_event(world.a.organisation, audience=Event.Audience.GRADUATING, audience_year=2026)
    with pytest.raises(ApplicationError, match="该活动仅限 2026 届毕业生报名"):
        services.registration_create(
            user=make_student("old", graduation_year=2024), event=event, now=NOW
        )
    assert Registration.objects.filter(event=event).count() == 0
    ok = services.registration_create(
        user=make_student("new", graduation_year=2026), event=event, now=NOW
    )
    assert ok.registration.status == "confirmed"


# ---- cancellation and the waiting list ---------------------------------------------------


def test_cancelling_frees_the_place_for_the_first_in_line_who_is_told(world: World) -> None:
    s = [make_student(f"s{i}") for i in range(5)]
    for i, user in enumerate(s):
        services.registration_create(user=user, event=world.talk, now=at(minutes=i))
    services.registration_cancel(user=s[0], event=world.talk, now=at(hours=1))
    statuses = dict(
        Registration.objects.filter(event=world.talk).values_list("user__username", "status")
    )
    assert statuses == {
        "s0": "cancelled",
        "s1": "confirmed",
        "s2": "confirmed",
        "s3": "waitlisted",
        "s4": "waitlisted",
    }
    promoted = OutboxMessage.objects.filter(subject="候补成功：雅图仕 2026 校园宣讲会")
    assert sorted(promoted.values_list("user__username", "channel")) == [
        ("s2", "inbox"),
        ("s2", "sms"),
    ]
    s3 = Registration.objects.get(event=world.talk, user=s[3])
    assert waitlist_position(registration=s3) == 1


def test_a_waitlisted_cancellation_promotes_nobody_and_closes_the_gap(world: World) -> None:
    s = [make_student(f"s{i}") for i in range(5)]
    for i, user in enumerate(s):
        services.registration_create(user=user, event=world.talk, now=at(minutes=i))
    services.registration_cancel(user=s[2], event=world.talk, now=at(hours=1))
    assert list(
        Registration.objects.filter(event=world.talk, status="confirmed").values_list(
            "user__username", flat=True
        )
    ) == ["s0", "s1"]
    assert OutboxMessage.objects.filter(subject__startswith="候补成功").count() == 0
    s4 = Registration.objects.get(event=world.talk, user=s[4])
    assert waitlist_position(registration=s4) == 2


def test_cancelling_after_the_deadline_is_refused_and_changes_nothing(world: World) -> None:
    x, y = make_student("x"), make_student("y")
    services.registration_create(user=x, event=world.talk, now=NOW)
    before = snapshot(world.talk)
    with pytest.raises(ApplicationError) as exc:
        services.registration_cancel(user=x, event=world.talk, now=at(days=8, minutes=1))
    assert exc.value.message == f"已过取消报名截止时间（{local(at(days=8))}）"
    assert snapshot(world.talk) == before
    with pytest.raises(ApplicationError, match="你没有该活动的有效报名"):
        services.registration_cancel(user=y, event=world.talk, now=NOW)
    assert snapshot(world.talk) == before


def test_re_registering_after_cancelling_joins_the_end_of_the_line(world: World) -> None:
    s = [make_student(f"s{i}") for i in range(4)]
    for i, user in enumerate(s):
        services.registration_create(user=user, event=world.talk, now=at(minutes=i))
    services.registration_cancel(user=s[3], event=world.talk, now=at(minutes=10))
    again = services.registration_create(user=s[3], event=world.talk, now=at(minutes=11))
    assert (again.registration.status, again.position) == ("waitlisted", 2)
    assert Registration.objects.filter(event=world.talk, user=s[3]).count() == 2


def test_a_late_registrant_does_not_jump_the_queue_when_places_grow(world: World) -> None:
    s = [make_student(f"s{i}") for i in range(4)]
    for i, user in enumerate(s):
        services.registration_create(user=user, event=world.talk, now=at(minutes=i))
    services.event_update(
        actor=world.staff,
        event=world.talk,
        data=EventData(
            type=world.talk.type,
            title=world.talk.title,
            place=world.talk.place,
            starts_at=world.talk.starts_at,
            ends_at=world.talk.ends_at,
            registration_opens_at=world.talk.registration_opens_at,
            registration_closes_at=world.talk.registration_closes_at,
            cancel_deadline=world.talk.cancel_deadline,
            capacity=3,
            organiser=world.talk.organiser,
        ),
    )
    assert list(
        Registration.objects.filter(event=world.talk, status="confirmed").values_list(
            "user__username", flat=True
        )
    ) == ["s0", "s1", "s2"]
    late = services.registration_create(
        user=make_student("late"), event=world.talk, now=at(minutes=5)
    )
    assert (late.registration.status, late.position) == ("waitlisted", 2)


# ---- reminders ---------------------------------------------------------------------------


def test_reminders_go_once_to_confirmed_registrants_of_events_starting_within_a_day(
    world: World,
) -> None:
    soon = make_event(
        world.a.organisation,
        title="明天的宣讲会",
        starts_at=at(hours=20),
        registration_closes_at=at(hours=19),
        cancel_deadline=at(hours=18),
    )
    later = make_event(world.a.organisation, title="下周的宣讲会", starts_at=at(days=3))
    x, y, z = (make_student(n) for n in ("x", "y", "z"))
    for s in (x, y, z):
        services.registration_create(user=s, event=soon, now=NOW)
    services.registration_create(user=x, event=later, now=NOW)
    assert services.event_reminders_send(now=NOW) == 2  # z is waitlisted: not reminded
    rows = OutboxMessage.objects.filter(subject="活动提醒：明天的宣讲会")
    assert sorted(rows.values_list("user__username", "channel")) == [
        ("x", "inbox"),
        ("x", "sms"),
        ("y", "inbox"),
        ("y", "sms"),
    ]
    assert services.event_reminders_send(now=at(minutes=30)) == 0
    assert rows.count() == 4
    # Even a run that missed the claim (a second worker) adds nothing: the key names the
    # registration.
    Registration.objects.filter(event=soon).update(reminder_sent_at=None)
    assert services.event_reminders_send(now=at(minutes=31)) == 2
    assert rows.count() == 4


# ---- check-in ----------------------------------------------------------------------------


def _confirmed(world: World, username: str, **kw: object) -> Registration:
    user = make_student(username, **kw)  # type: ignore[arg-type]
    return services.registration_create(user=user, event=world.talk, now=NOW).registration


def test_check_in_marks_attendance_once_and_logs_a_contact(world: World) -> None:
    reg = _confirmed(world, "x", talent=True)
    code = make_code(registration_id=reg.pk, event_id=world.talk.pk)
    first = services.registration_check_in(
        actor=world.staff, event=world.talk, code=code, now=at(days=10)
    )
    assert (first.already, first.registration.attended_at) == (False, at(days=10))
    assert first.message == f"学子x 签到成功（{local(at(days=10))}）"
    log = ContactLog.objects.get(talent__user=reg.user)
    assert (log.channel, log.outcome, log.liaison_id, log.contacted_at) == (
        "event",
        "reached",
        world.staff.pk,
        at(days=10),
    )
    again = services.registration_check_in(
        actor=world.league, event=world.talk, code=code, now=at(days=10, minutes=5)
    )
    assert again.already is True
    assert again.message == f"学子x 已签到（{local(at(days=10))}），无需重复签到"
    reg.refresh_from_db()
    assert (reg.attended_at, reg.checked_in_by_id) == (at(days=10), world.staff.pk)
    assert ContactLog.objects.count() == 1


def test_check_in_without_a_talent_record_writes_no_contact(world: World) -> None:
    reg = _confirmed(world, "x")
    code = make_code(registration_id=reg.pk, event_id=world.talk.pk)
    services.registration_check_in(actor=world.staff, event=world.talk, code=code)
    assert ContactLog.objects.count() == 0


def test_check_in_refuses_other_events_cancelled_waitlisted_and_forged_codes(
    world: World,
) -> None:
    x = _confirmed(world, "x", talent=True)
    y = _confirmed(world, "y", talent=True)
    z = _confirmed(world, "z", talent=True)  # waitlisted: two places
    services.registration_cancel(user=y.user, event=world.talk, now=NOW)
    z.refresh_from_db()
    assert z.status == "confirmed"  # promoted into y's place
    w = _confirmed(world, "w")
    other = make_event(world.a.organisation, title="另一场")
    cases = {
        make_code(registration_id=x.pk, event_id=other.pk): "该签到码不属于本活动",
        make_code(registration_id=y.pk, event_id=world.talk.pk): "该报名已取消，不能签到",
        make_code(
            registration_id=w.pk, event_id=world.talk.pk
        ): "该报名仍在候补，尚未确认，不能签到",
        make_code(registration_id=x.pk, event_id=world.talk.pk)[:-2] + "xx": (
            "签到码无效，请让学子打开“我的活动”重新出示二维码"
        ),
        "not a code": "签到码无效，请让学子打开“我的活动”重新出示二维码",
    }
    before = snapshot(world.talk)
    for code, message in cases.items():
        with pytest.raises(ApplicationError) as exc:
            services.registration_check_in(actor=world.staff, event=world.talk, code=code)
        assert exc.value.message == message
    assert snapshot(world.talk) == before
    assert Registration.objects.filter(attended_at__isnull=False).count() == 0
    assert ContactLog.objects.count() == 0


def test_only_event_staff_check_people_in(world: World, personas: dict) -> None:
    reg = _confirmed(world, "x")
    code = make_code(registration_id=reg.pk, event_id=world.talk.pk)
    for role in ("enterprise_hr", "liaison", "station_staff", "student"):
        with pytest.raises(NotFound):
            services.registration_check_in(actor=personas[role], event=world.talk, code=code)
    reg.refresh_from_db()
    assert reg.attended_at is None


def test_the_reminder_command_reports_what_it_queued(world: World) -> None:
    import io

    from django.core.management import call_command
    from django.utils import timezone

    soon = make_event(
        world.a.organisation,
        now=timezone.now(),
        starts_at=timezone.now() + dt.timedelta(hours=5),
        registration_closes_at=timezone.now() + dt.timedelta(hours=4),
        cancel_deadline=timezone.now() + dt.timedelta(hours=3),
    )
    services.registration_create(user=make_student("x"), event=soon)
    out = io.StringIO()
    call_command("send_event_reminders", stdout=out)
    assert out.getvalue() == "event reminders sent: 1\n"
    out = io.StringIO()
    call_command("send_event_reminders", "--enqueue", stdout=out)
    assert out.getvalue().startswith("queued send_event_reminders task ")
    assert OutboxMessage.objects.filter(subject__startswith="活动提醒").count() == 2


def test_moving_a_published_event_tells_the_registered_and_reminds_again(world: World) -> None:
    soon = make_event(
        world.a.organisation,
        title="明天的分享会",
        starts_at=at(hours=20),
        registration_closes_at=at(hours=19),
        cancel_deadline=at(hours=18),
    )
    x = make_student("x")
    services.registration_create(user=x, event=soon, now=NOW)
    assert services.event_reminders_send(now=NOW) == 1
    moved = at(hours=23)
    services.event_update(
        actor=world.staff,
        event=soon,
        data=EventData(
            type=soon.type,
            title=soon.title,
            place="鹤山市青少年宫",
            starts_at=moved,
            ends_at=moved + dt.timedelta(hours=2),
            registration_opens_at=soon.registration_opens_at,
            registration_closes_at=soon.registration_closes_at,
            cancel_deadline=soon.cancel_deadline,
            capacity=soon.capacity,
            organiser=soon.organiser,
        ),
    )
    told = OutboxMessage.objects.get(user=x, subject="活动变更：明天的分享会", channel="inbox")
    assert told.body == (
        f"你报名的“明天的分享会”有变更：时间 {local(moved)}，地点：鹤山市青少年宫。"
        "如不能参加，请在“我的活动”中取消报名。"
    )
    assert services.event_reminders_send(now=at(hours=1)) == 1
    assert OutboxMessage.objects.filter(user=x, subject="活动提醒：明天的分享会").count() == 4
