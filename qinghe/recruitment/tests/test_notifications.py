"""Every message the pipeline sends a person is an outbox row written in the same transaction
as the change: a rolled-back change queues nothing, and nothing is mailed from a request."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.db import transaction

from qinghe.accounts.models import User
from qinghe.core.roles import Role
from qinghe.notifications.models import OutboxMessage
from qinghe.recruitment.models import Application, Interview, Mode
from qinghe.recruitment.services import applications, interviews
from qinghe.recruitment.services.stages import default_stage
from qinghe.recruitment.services.timeline import KIND_STAGE, notify_student
from qinghe.testing.recruiting import (
    X_PHONE,
    apply_to,
    at,
    claim_talent,
    invite,
    last_outbox_id,
    outbox_rows,
)
from qinghe.testing.world import World

pytestmark = pytest.mark.django_db


class Boom(Exception):
    pass


@pytest.fixture
def application(world: World) -> Application:
    claim_talent(world.x, name="李晓彤", seq="102", phone=X_PHONE)
    return apply_to(world.x, world.posting_a)


def test_a_new_application_tells_every_active_hr_user_of_the_enterprise_and_no_one_else(
    world: World,
) -> None:
    colleague = User.objects.create_user(
        username="qiye_a2",
        password="x-Strong-Pass-2026",
        role=Role.ENTERPRISE_HR,
        organisation=world.hr_a.organisation,
        email="qiye_a2@example.cn",
    )
    User.objects.create_user(
        username="qiye_a3",
        password="x-Strong-Pass-2026",
        role=Role.ENTERPRISE_HR,
        organisation=world.hr_a.organisation,
        is_active=False,
    )
    claim_talent(world.x, name="李晓彤", seq="102", phone=X_PHONE)
    application = apply_to(world.x, world.posting_a)
    mine = f"/jobs/applications/{application.pk}/"
    theirs = f"/jobs/mine/applicants/{application.pk}/"
    assert outbox_rows() == [
        ("xuezi", "inbox", "recruitment.applied", mine),
        ("xuezi", "email", "recruitment.applied", mine),
        ("qiye", "inbox", "recruitment.new_application", theirs),
        ("qiye", "email", "recruitment.new_application", theirs),
        (colleague.username, "inbox", "recruitment.new_application", theirs),
        (colleague.username, "email", "recruitment.new_application", theirs),
    ]
    hr_message = OutboxMessage.objects.filter(user=world.hr_a, channel="inbox").get()
    # No personal information in the enterprise's notice: the link leads to what was shared.
    assert "李晓彤" not in hr_message.body and X_PHONE not in hr_message.body
    assert mail.outbox == []  # nothing is mailed from the request: the outbox delivers


def test_a_rolled_back_application_queues_nothing(world: World) -> None:
    claim_talent(world.x, name="李晓彤", seq="102", phone=X_PHONE)
    with pytest.raises(Boom), transaction.atomic():
        apply_to(world.x, world.posting_a)
        raise Boom
    assert (Application.objects.count(), OutboxMessage.objects.count()) == (0, 0)


def test_a_rolled_back_move_queues_nothing(world: World, application: Application) -> None:
    start = last_outbox_id()
    with pytest.raises(Boom), transaction.atomic():
        applications.application_transition(
            actor=world.hr_a, application=application, stage=default_stage("rejected")
        )
        raise Boom
    application.refresh_from_db()
    assert application.stage.code == "applied"
    assert outbox_rows(after=start) == []


def test_a_refused_move_queues_nothing(world: World, application: Application) -> None:
    start = last_outbox_id()
    with pytest.raises(Exception, match="学生只能撤回投递"):
        applications.application_transition(
            actor=world.x, application=application, stage=default_stage("offer")
        )
    assert outbox_rows(after=start) == []


def test_a_reschedule_tells_the_student_the_new_time(
    world: World, application: Application
) -> None:
    interview = invite(world.hr_a, application, hours=48)
    start = last_outbox_id()
    interviews.interview_reschedule(
        actor=world.hr_a,
        interview=interview,
        when=interviews.When(
            at(72), at(72.5), Mode.ONLINE, meeting_url="https://meet.example.cn/1"
        ),
        reason="面试官出差",
    )
    mine = f"/jobs/applications/{application.pk}/"
    assert outbox_rows(after=start) == [
        ("xuezi", "inbox", "recruitment.interview_rescheduled", mine),
        ("xuezi", "email", "recruitment.interview_rescheduled", mine),
    ]
    body = OutboxMessage.objects.get(pk__gt=start, channel="inbox").body
    assert body.startswith("面试时间已调整，“软件开发工程师”面试：") and "面试官出差" in body


def test_a_result_that_ends_the_application_tells_the_student_through_the_stage(
    world: World, application: Application
) -> None:
    interview = invite(world.hr_a, application, hours=48)
    Interview.objects.filter(pk=interview.pk).update(starts_at=at(-2), ends_at=at(-1.5))
    start = last_outbox_id()
    interviews.interview_record_result(
        actor=world.hr_a,
        interview=interview,
        result=Interview.Result.FAILED,
        notes="算法基础薄弱",
        stage=default_stage("rejected"),
    )
    mine = f"/jobs/applications/{application.pk}/"
    assert outbox_rows(after=start) == [
        ("xuezi", "inbox", "recruitment.stage_changed", mine),
        ("xuezi", "email", "recruitment.stage_changed", mine),
    ]
    body = OutboxMessage.objects.get(pk__gt=start, channel="inbox").body
    # The enterprise's internal notes never reach the student.
    assert "算法基础薄弱" not in body


def test_the_same_event_is_queued_once(world: World, application: Application) -> None:
    event = application.events.get()
    before = OutboxMessage.objects.count()
    notify_student(event=event, kind=KIND_STAGE)
    assert OutboxMessage.objects.count() == before


def test_no_message_for_an_applicant_whose_account_is_gone(
    world: World, application: Application, django_user_model: Any
) -> None:
    User.objects.filter(pk=world.x.pk).update(is_active=False)
    application.refresh_from_db()
    start = last_outbox_id()
    applications.application_transition(
        actor=world.hr_a, application=application, stage=default_stage("rejected")
    )
    assert outbox_rows(after=start) == []
