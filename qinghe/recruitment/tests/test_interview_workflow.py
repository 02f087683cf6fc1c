"""Interviews on the one workflow engine: the table, an allowed move with its event, audit and
outbox rows, and refused moves that change nothing (state, events, audit rows, outbox rows)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.test import Client

from qinghe.core.errors import ApplicationError, NotFound, PermissionDenied
from qinghe.core.models import AuditLog
from qinghe.notifications.models import OutboxMessage
from qinghe.recruitment.models import Application, Interview, InterviewEvent, InterviewSlot, Mode
from qinghe.recruitment.services import interviews
from qinghe.recruitment.services.interviews import INTERVIEW_TRANSITIONS, When
from qinghe.testing.recruiting import (
    X_PHONE,
    apply_to,
    at,
    claim_talent,
    interview_in_the_past,
    invite,
    last_outbox_id,
    make_slot,
    outbox_rows,
)
from qinghe.testing.world import World

pytestmark = pytest.mark.django_db


@pytest.fixture
def application(world: World) -> Application:
    claim_talent(world.x, name="李晓彤", seq="102", phone=X_PHONE)
    return apply_to(world.x, world.posting_a)


def everything() -> tuple[Any, ...]:
    return (
        sorted(
            Interview.objects.values_list(
                "pk",
                "state",
                "starts_at",
                "ends_at",
                "slot_id",
                "location",
                "meeting_url",
                "result",
                "notes",
                "reminder_sent_at",
                "updated_at",
            )
        ),
        sorted(InterviewEvent.objects.values_list("pk", "action", "reason")),
        sorted(AuditLog.objects.values_list("pk", "action", "target_id")),
        sorted(OutboxMessage.objects.values_list("pk", "template")),
    )


def test_the_table_says_who_moves_an_interview_from_where_to_where() -> None:
    assert {
        action: (sorted(m.sources), m.target, sorted(m.by))
        for action, m in INTERVIEW_TRANSITIONS.items()
    } == {
        "confirm": (["proposed", "reschedule"], "confirmed", ["student"]),
        "reschedule_request": (["confirmed", "proposed"], "reschedule", ["student"]),
        "reschedule": (["confirmed", "proposed", "reschedule"], "proposed", ["enterprise"]),
        "result": (["confirmed", "proposed", "reschedule"], "done", ["enterprise"]),
    }


def test_a_new_time_writes_one_event_one_audit_row_and_the_students_messages(
    world: World, application: Application
) -> None:
    interview = invite(world.hr_a, application)
    audits, outbox = AuditLog.objects.count(), last_outbox_id()
    interviews.interview_reschedule(
        actor=world.hr_a,
        interview=interview,
        when=When(at(72), at(72.5), Mode.ONSITE, location="雅图仕大厦 5 楼"),
        reason="改到周四",
    )
    interview.refresh_from_db()
    assert (interview.state, interview.starts_at, interview.location, interview.meeting_url) == (
        "proposed",
        at(72),
        "雅图仕大厦 5 楼",
        "",
    )
    event = InterviewEvent.objects.filter(interview=interview).order_by("-pk").first()
    assert event is not None
    assert (event.action, event.reason, event.old_starts_at, event.new_starts_at, event.actor) == (
        "reschedule",
        "改到周四",
        at(48),
        at(72),
        world.hr_a,
    )
    audit = AuditLog.objects.order_by("-pk").first()
    assert audit is not None
    assert AuditLog.objects.count() == audits + 1
    assert (audit.action, audit.target_id, audit.reason, audit.actor, audit.data) == (
        "update",
        str(interview.pk),
        "改到周四",
        world.hr_a,
        {"action": "reschedule", "from": "proposed", "to": "proposed"},
    )
    assert audit.summary.startswith("调整面试时间：")
    url = f"/jobs/applications/{application.pk}/"
    assert outbox_rows(after=outbox) == [
        (world.x.username, "inbox", "recruitment.interview_rescheduled", url),
        (world.x.username, "email", "recruitment.interview_rescheduled", url),
    ]


REFUSALS: dict[str, tuple[Callable[[World, Interview], Any], type[Exception], str]] = {
    "the student confirms an interview already done": (
        lambda w, i: interviews.interview_confirm(actor=w.x, interview=i),
        ApplicationError,
        "面试当前为“已完成”，不能确认",
    ),
    "the enterprise confirms for the student": (
        lambda w, i: interviews.interview_confirm(actor=w.hr_a, interview=i),
        PermissionDenied,
        "只有应聘学生本人可以确认面试或申请改期",
    ),
    "the student records a result": (
        lambda w, i: interviews.interview_record_result(actor=w.x, interview=i, result="passed"),
        PermissionDenied,
        "只有招聘企业可以调整面试时间或记录结果",
    ),
    "another enterprise moves it": (
        lambda w, i: interviews.interview_reschedule(
            actor=w.hr_b, interview=i, when=When(at(72), at(72.5), location="鹤山")
        ),
        NotFound,
        "",
    ),
    "a reschedule request without a reason": (
        lambda w, i: interviews.interview_request_reschedule(actor=w.x, interview=i, reason=" "),
        ValidationError,
        "请写明改期原因",
    ),
    "a result before the interview began": (
        lambda w, i: interviews.interview_record_result(actor=w.hr_a, interview=i, result="passed"),
        ApplicationError,
        "面试开始后才能记录结果",
    ),
    "a result that is not one": (
        lambda w, i: interviews.interview_record_result(actor=w.hr_a, interview=i, result="x"),
        ValidationError,
        "请选择面试结果",
    ),
    "a new time in a full slot": (
        lambda w, i: interviews.interview_reschedule(
            actor=w.hr_a, interview=i, slot=InterviewSlot.objects.get(location="满员")
        ),
        ApplicationError,
        "该面试时段已约满，请选择其他时段",
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_a_refused_move_changes_nothing(world: World, application: Application, case: str) -> None:
    call, error, text = REFUSALS[case]
    if case == "the student confirms an interview already done":
        interview = interview_in_the_past(application)
        interviews.interview_record_result(actor=world.hr_a, interview=interview, result="passed")
    else:
        interview = invite(world.hr_a, application)
    # A slot of one place, taken by an open interview.
    full = make_slot(world.posting_a, hours=96, capacity=1)
    InterviewSlot.objects.filter(pk=full.pk).update(location="满员")
    Interview.objects.create(
        application=application,
        slot=full,
        starts_at=full.starts_at,
        ends_at=full.ends_at,
        mode=Mode.ONSITE,
        location="满员",
        state=Interview.State.CONFIRMED,
    )
    before = everything()
    with pytest.raises(error) as raised:
        call(world, interview)
    if text:
        assert text in str(getattr(raised.value, "message", raised.value))
    assert everything() == before


def test_a_refused_page_post_goes_back_to_the_application_with_the_reason(
    world: World, application: Application
) -> None:
    interview = interview_in_the_past(application)
    interviews.interview_record_result(actor=world.hr_a, interview=interview, result="passed")
    student, hr = Client(), Client()
    student.force_login(world.x)
    hr.force_login(world.hr_a)
    before = everything()
    confirm = student.post(f"/jobs/interviews/{interview.pk}/confirm/")
    assert (confirm.status_code, confirm["Location"]) == (
        302,
        f"/jobs/applications/{application.pk}/",
    )
    assert [str(m) for m in get_messages(confirm.wsgi_request)] == ["面试当前为“已完成”，不能确认"]
    result = hr.post(f"/jobs/mine/interviews/{interview.pk}/result/", {"result": "failed"})
    assert (result.status_code, result["Location"]) == (
        302,
        f"/jobs/mine/applicants/{application.pk}/",
    )
    assert [str(m) for m in get_messages(result.wsgi_request)] == [
        "面试当前为“已完成”，不能记录结果"
    ]
    assert everything() == before
