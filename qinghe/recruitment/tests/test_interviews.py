"""Interviews: slots (on site, or online through an outside https link), invitations, the
student's confirmation or request to reschedule (reasons kept), the enterprise's new time,
results, and reminders that are sent once."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from qinghe.core.errors import ApplicationError, NotFound, PermissionDenied
from qinghe.notifications.models import OutboxMessage
from qinghe.recruitment.models import (
    Application,
    ApplicationEvent,
    Interview,
    InterviewEvent,
    InterviewSlot,
    Mode,
)
from qinghe.recruitment.services import interviews
from qinghe.recruitment.services.applications import application_transition
from qinghe.recruitment.services.interviews import When
from qinghe.recruitment.services.stages import default_stage
from qinghe.talents.models import Talent
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


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def interview_state() -> tuple[Any, ...]:
    return (
        sorted(
            Interview.objects.values_list(
                "pk", "state", "starts_at", "slot_id", "result", "notes", "reminder_sent_at"
            )
        ),
        sorted(InterviewSlot.objects.values_list("pk", "starts_at", "capacity")),
        InterviewEvent.objects.count(),
        ApplicationEvent.objects.count(),
        sorted(Application.objects.values_list("pk", "stage__code")),
    )


# --- slots ---------------------------------------------------------------------------------------


def test_an_online_slot_needs_an_https_link_and_an_onsite_slot_a_place(world: World) -> None:
    start, end = at(30), at(30.5)
    cases = [
        (
            When(start, end, Mode.ONLINE, meeting_url=""),
            {"meeting_url": ["线上面试请填写视频会议链接"]},
        ),
        (
            When(start, end, Mode.ONLINE, meeting_url="http://meeting.example.cn/1"),
            {"meeting_url": ["请填写以 https:// 开头的有效视频会议链接"]},
        ),
        (
            When(start, end, Mode.ONLINE, meeting_url="javascript:alert(1)"),
            {"meeting_url": ["请填写以 https:// 开头的有效视频会议链接"]},
        ),
        (When(start, end, Mode.ONSITE), {"location": ["现场面试请填写地点"]}),
        (
            When(end, start, Mode.ONSITE, location="会议室"),
            {"ends_at": ["结束时间须晚于开始时间，且一次面试不超过 8 小时"]},
        ),
        (
            When(at(-1), at(-0.5), Mode.ONSITE, location="会议室"),
            {"starts_at": ["开始时间须晚于现在"]},
        ),
    ]
    for when, errors in cases:
        with pytest.raises(ValidationError) as caught:
            interviews.slot_create(actor=world.hr_a, posting=world.posting_a, when=when)
        assert caught.value.message_dict == errors
    assert InterviewSlot.objects.count() == 0
    slot = interviews.slot_create(
        actor=world.hr_a,
        posting=world.posting_a,
        when=When(
            start, end, Mode.ONLINE, location="忽略", meeting_url="https://meeting.tencent.com/dm/x"
        ),
        capacity=3,
    )
    assert (slot.mode, slot.location, slot.meeting_url, slot.capacity) == (
        "online",
        "",
        "https://meeting.tencent.com/dm/x",
        3,
    )


def test_enterprise_b_cannot_add_slots_to_enterprise_as_posting(world: World) -> None:
    with pytest.raises(PermissionDenied):
        interviews.slot_create(
            actor=world.hr_b,
            posting=world.posting_a,
            when=When(at(30), at(31), Mode.ONSITE, location="会议室"),
        )
    response = client_for(world.hr_b).post(
        f"/jobs/mine/{world.posting_a.pk}/slots/",
        {
            "starts_at": at(30).strftime("%Y-%m-%dT%H:%M"),
            "ends_at": at(31).strftime("%Y-%m-%dT%H:%M"),
            "mode": "onsite",
            "location": "会议室",
            "capacity": "1",
        },
    )
    assert response.status_code == 404
    assert InterviewSlot.objects.count() == 0


def test_the_slots_page_creates_a_slot_in_local_time(world: World) -> None:
    starts = at(50)
    local = timezone.localtime(starts)
    response = client_for(world.hr_a).post(
        f"/jobs/mine/{world.posting_a.pk}/slots/",
        {
            "starts_at": local.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (local + dt.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M"),
            "mode": "onsite",
            "location": "雅图仕大厦 3 楼",
            "capacity": "4",
        },
    )
    assert response.status_code == 302
    slot = InterviewSlot.objects.get()
    assert (slot.starts_at, slot.ends_at - slot.starts_at, slot.capacity) == (
        starts,
        dt.timedelta(minutes=30),
        4,
    )


# --- invitations ---------------------------------------------------------------------------------


def test_an_invitation_moves_the_application_to_interview_and_messages_the_student(
    world: World, application: Application
) -> None:
    slot = make_slot(world.posting_a, capacity=1)
    start = last_outbox_id()
    response = client_for(world.hr_a).post(
        f"/jobs/mine/applicants/{application.pk}/invite/",
        {"slot": str(slot.pk), "mode": "onsite"},
    )
    assert response.status_code == 302
    interview = Interview.objects.get()
    assert (interview.state, interview.slot_id, interview.starts_at, interview.location) == (
        "proposed",
        slot.pk,
        slot.starts_at,
        slot.location,
    )
    application.refresh_from_db()
    assert application.stage.code == "interview"
    event = ApplicationEvent.objects.filter(application=application).last()
    assert event is not None and event.action == "move"
    assert event.message.splitlines()[0] == "“软件开发工程师”邀请你参加面试，请留意面试安排。"
    assert "现场面试，地点：鹤山市沙坪街道雅图仕大厦 3 楼" in event.message
    mine = f"/jobs/applications/{application.pk}/"
    assert outbox_rows(after=start) == [
        ("xuezi", "inbox", "recruitment.interview_invited", mine),
        ("xuezi", "email", "recruitment.interview_invited", mine),
    ]
    assert (
        "邀请你参加“软件开发工程师”面试"
        in OutboxMessage.objects.get(pk__gt=start, channel="email").body
    )
    # The slot is now full: another applicant cannot take it.
    other = Application.objects.create(
        posting=world.posting_a,
        enterprise=world.a,
        talent=claim_talent(world.y, name="区嘉敏", seq="202", phone="13512340002"),
        applicant=world.y,
        stage=default_stage("applied"),
    )
    from qinghe.talents.services import consent_record

    consent_record(
        talent=other.talent,
        purpose="share_enterprise",
        granted=True,
        actor=world.y,
        enterprise=world.a.organisation,
    )
    before = interview_state()
    with pytest.raises(ApplicationError, match="该面试时段已约满"):
        interviews.interview_invite(actor=world.hr_a, application=other, slot=slot)
    assert interview_state() == before


def test_only_one_open_interview_at_a_time_and_none_for_an_ended_application(
    world: World, application: Application
) -> None:
    invite(world.hr_a, application)
    before = interview_state()
    with pytest.raises(ApplicationError, match="已有待进行的面试"):
        invite(world.hr_a, application, hours=72)
    assert interview_state() == before


def test_enterprise_b_cannot_invite_enterprise_as_applicant(
    world: World, application: Application
) -> None:
    before = interview_state()
    with pytest.raises(NotFound):
        invite(world.hr_b, application)
    response = client_for(world.hr_b).post(
        f"/api/v1/jobs/mine/applicants/{application.pk}/invite",
        json.dumps(
            {
                "starts_at": at(40).isoformat(),
                "ends_at": at(41).isoformat(),
                "mode": "onsite",
                "location": "x",
            }
        ),
        content_type="application/json",
    )
    assert response.status_code == 404
    assert interview_state() == before


# --- the student's answers -----------------------------------------------------------------------


def test_the_student_confirms_or_picks_another_free_slot(
    world: World, application: Application
) -> None:
    interview = invite(world.hr_a, application)
    response = client_for(world.x).post(f"/jobs/interviews/{interview.pk}/confirm/")
    assert response.status_code == 302
    interview.refresh_from_db()
    assert interview.state == "confirmed"
    assert list(
        InterviewEvent.objects.filter(interview=interview).values_list("action", flat=True)
    ) == [
        "invite",
        "confirm",
    ]
    # Y cannot confirm X's interview.
    claim_talent(world.y, name="区嘉敏", seq="202", phone="13512340002")
    before = interview_state()
    assert client_for(world.y).post(f"/jobs/interviews/{interview.pk}/confirm/").status_code == 404
    assert (
        client_for(world.y)
        .post(
            f"/api/v1/jobs/interviews/{interview.pk}/confirm", "{}", content_type="application/json"
        )
        .status_code
        == 404
    )
    assert interview_state() == before


def test_confirming_with_another_slot_moves_the_interview_there(
    world: World, application: Application
) -> None:
    interview = invite(world.hr_a, application)
    later = make_slot(world.posting_a, hours=96)
    api = client_for(world.x).post(
        f"/api/v1/jobs/interviews/{interview.pk}/confirm",
        json.dumps({"slot_id": later.pk}),
        content_type="application/json",
    )
    assert api.status_code == 200
    assert (api.json()["state"], api.json()["slot_id"]) == ("confirmed", later.pk)
    event = InterviewEvent.objects.filter(interview=interview, action="confirm").get()
    assert (event.old_starts_at, event.new_starts_at) == (at(48), later.starts_at)


def test_every_reschedule_reason_is_kept(world: World, application: Application) -> None:
    interview = invite(world.hr_a, application)
    before = interview_state()
    with pytest.raises(ValidationError):
        interviews.interview_request_reschedule(actor=world.x, interview=interview, reason="")
    assert interview_state() == before
    client_for(world.x).post(
        f"/jobs/interviews/{interview.pk}/reschedule-request/", {"reason": "当天有期末考试"}
    )
    interview.refresh_from_db()
    assert interview.state == "reschedule"
    page = client_for(world.hr_a).get(f"/jobs/mine/applicants/{application.pk}/")
    assert "学生申请改期：当天有期末考试" in page.content.decode()
    interviews.interview_reschedule(
        actor=world.hr_a,
        interview=interview,
        when=When(at(72), at(72.5), Mode.ONSITE, location="雅图仕大厦 5 楼"),
        reason="改到周四",
    )
    interview.refresh_from_db()
    assert (interview.state, interview.starts_at, interview.location) == (
        "proposed",
        at(72),
        "雅图仕大厦 5 楼",
    )
    interviews.interview_request_reschedule(actor=world.x, interview=interview, reason="周四要答辩")
    assert list(
        InterviewEvent.objects.filter(interview=interview).values_list("action", "reason")
    ) == [
        ("invite", ""),
        ("reschedule_request", "当天有期末考试"),
        ("reschedule", "改到周四"),
        ("reschedule_request", "周四要答辩"),
    ]
    message = ApplicationEvent.objects.filter(application=application, action="message").get()
    assert message.message.startswith("面试时间已调整，“软件开发工程师”面试：")
    assert message.message.endswith("（说明：改到周四）")


# --- results ---------------------------------------------------------------------------------------


def test_a_result_is_recorded_only_once_the_interview_has_begun(
    world: World, application: Application
) -> None:
    upcoming = invite(world.hr_a, application)
    before = interview_state()
    with pytest.raises(ApplicationError, match="面试开始后才能记录结果"):
        interviews.interview_record_result(actor=world.hr_a, interview=upcoming, result="passed")
    assert interview_state() == before


def test_a_passed_interview_may_move_the_application_to_the_offer(
    world: World, application: Application
) -> None:
    past = interview_in_the_past(application)
    response = client_for(world.hr_a).post(
        f"/jobs/mine/interviews/{past.pk}/result/",
        {
            "result": "passed",
            "notes": "沟通良好，基础扎实",
            "stage": str(default_stage("offer").pk),
        },
    )
    assert response.status_code == 302
    past.refresh_from_db()
    assert (past.state, past.result, past.notes) == ("done", "passed", "沟通良好，基础扎实")
    application.refresh_from_db()
    assert (application.stage.code, application.destination_id is not None) == ("offer", True)
    assert Talent.objects.get(user=world.x).status == "employed_heshan"
    # The notes are the enterprise's own: never on the student's page or API.
    assert (
        "沟通良好"
        not in client_for(world.x).get(f"/jobs/applications/{application.pk}/").content.decode()
    )
    assert (
        "沟通良好"
        not in client_for(world.x)
        .get(f"/api/v1/jobs/applications/{application.pk}")
        .content.decode()
    )


def test_ending_an_application_cancels_its_open_interviews(
    world: World, application: Application
) -> None:
    interview = invite(world.hr_a, application)
    application_transition(
        actor=world.hr_a, application=application, stage=default_stage("rejected")
    )
    interview.refresh_from_db()
    assert interview.state == "cancelled"
    assert (
        InterviewEvent.objects.filter(interview=interview, action="cancel").get().reason
        == "申请已未通过"
    )


# --- reminders -------------------------------------------------------------------------------------


def test_reminders_go_out_once_for_interviews_within_24_hours(
    world: World, application: Application
) -> None:
    soon = invite(world.hr_a, application, hours=20)
    claim_talent(world.y, name="区嘉敏", seq="202", phone="13512340002")
    later = invite(world.hr_a, apply_to(world.y, world.posting_a), hours=30)
    start = last_outbox_id()
    assert interviews.interview_reminders_send() == 1
    assert interviews.interview_reminders_send() == 0
    out = StringIO()
    call_command("send_interview_reminders", stdout=out)
    assert out.getvalue() == "interview reminders sent: 0\n"
    soon.refresh_from_db()
    later.refresh_from_db()
    assert soon.reminder_sent_at is not None and later.reminder_sent_at is None
    assert InterviewEvent.objects.filter(action="reminder").count() == 1
    first = f"/jobs/applications/{application.pk}/"
    assert outbox_rows(after=start) == [
        ("xuezi", "inbox", "recruitment.interview_reminder", first),
        ("xuezi", "email", "recruitment.interview_reminder", first),
    ]
    assert OutboxMessage.objects.get(pk__gt=start, channel="email").body.startswith(
        "提醒：你在“软件开发工程师”的面试将于 "
    )
    # Six hours later the second interview is within 24 hours; the first is not reminded again.
    start = last_outbox_id()
    assert interviews.interview_reminders_send(now=timezone.now() + dt.timedelta(hours=7)) == 1
    assert InterviewEvent.objects.filter(action="reminder").count() == 2
    second = f"/jobs/applications/{later.application_id}/"
    assert outbox_rows(after=start) == [
        ("xuezi_y", "inbox", "recruitment.interview_reminder", second),
        ("xuezi_y", "email", "recruitment.interview_reminder", second),
    ]


def test_a_new_time_is_reminded_again(world: World, application: Application) -> None:
    interview = invite(world.hr_a, application, hours=10)
    assert interviews.interview_reminders_send() == 1
    interviews.interview_reschedule(
        actor=world.hr_a,
        interview=interview,
        when=When(at(12), at(12.5), Mode.ONSITE, location="会议室"),
    )
    assert interviews.interview_reminders_send() == 1
    assert interviews.interview_reminders_send() == 0
