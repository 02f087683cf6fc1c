"""The video room services: who opens a room, the room of a scheduled interview, the student's
consent to observers, and the interviewer's notes and result (to the interview too)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from qinghe.core.errors import ApplicationError, PermissionDenied
from qinghe.core.roles import Role
from qinghe.recruitment.models import Interview
from qinghe.recruitment.services import interviews
from qinghe.testing.recruiting import X_PHONE, apply_to, at, claim_talent, invite
from qinghe.testing.world import World
from qinghe.video import selectors, services
from qinghe.video.models import VideoRoom

pytestmark = pytest.mark.django_db


def _interview(world: World, *, begun: bool = False) -> Interview:
    claim_talent(world.x, name="李晓彤", seq="102", phone=X_PHONE)
    application = apply_to(world.x, world.posting_a)
    interview = invite(world.hr_a, application)
    if begun:
        Interview.objects.filter(pk=interview.pk).update(
            starts_at=timezone.now() - dt.timedelta(minutes=5)
        )
        interview.refresh_from_db()
    return interview


def test_room_create_opens_a_room_for_the_enterprise_side_and_the_student(world: World) -> None:
    before = timezone.now()
    room = services.room_create(
        interviewer=world.hr_a, student=world.x, minutes=20, source=VideoRoom.Source.FAIR
    )
    assert room.organisation_id == world.hr_a.organisation_id
    assert (room.student, room.minutes, room.state, room.interview) == (
        world.x,
        20,
        VideoRoom.State.OPEN,
        None,
    )
    assert before <= room.starts_at <= timezone.now()
    assert room.ends_at == room.starts_at + dt.timedelta(minutes=20)


@pytest.mark.parametrize(
    ("who", "student", "minutes", "error"),
    [
        ("x", "y", 20, PermissionDenied),  # a student cannot open a room
        ("hr_a", "hr_b", 20, ApplicationError),  # the other party must be a student
        ("hr_a", "x", 2, ValidationError),
        ("hr_a", "x", 300, ValidationError),
    ],
)
def test_room_create_refuses_with_nothing_made(
    world: World, who: str, student: str, minutes: int, error: type[Exception]
) -> None:
    with pytest.raises(error):
        services.room_create(
            interviewer=getattr(world, who),
            student=getattr(world, student),
            minutes=minutes,
            source=VideoRoom.Source.DIRECT,
        )
    assert VideoRoom.objects.count() == 0


def test_the_room_of_an_interview_is_made_once_and_follows_its_time(world: World) -> None:
    interview = _interview(world)
    room = services.room_for_interview(interview)
    assert (room.interviewer, room.student, room.source, room.minutes) == (
        world.hr_a,
        world.x,
        VideoRoom.Source.INTERVIEW,
        30,
    )
    assert room.starts_at == interview.starts_at
    assert services.room_for_interview(interview).pk == room.pk
    interviews.interview_reschedule(
        actor=world.hr_a,
        interview=interview,
        when=interviews.When(starts_at=at(72), ends_at=at(73), mode="onsite", location="二楼"),
    )
    again = services.room_for_interview(interview)
    assert again.pk == room.pk
    assert (again.starts_at, again.minutes) == (at(72), 60)
    assert VideoRoom.objects.count() == 1


def test_parties(world: World, personas: dict[str, Any]) -> None:
    room = services.room_create(
        interviewer=world.hr_a, student=world.x, minutes=20, source=VideoRoom.Source.DIRECT
    )
    staff = personas[Role.HR_STAFF]
    assert selectors.room_party(viewer=world.hr_a, room=room) == selectors.INTERVIEWER
    assert selectors.room_party(viewer=world.x, room=room) == selectors.STUDENT
    for outsider in (world.y, world.hr_b, staff, personas[Role.AUDITOR]):
        assert selectors.room_party(viewer=outsider, room=room) is None
    with pytest.raises(PermissionDenied):
        services.room_set_observers(actor=world.hr_a, room=room, allowed=True)
    room.refresh_from_db()
    assert room.observers_allowed is False
    services.room_set_observers(actor=world.x, room=room, allowed=True)
    room.refresh_from_db()
    assert selectors.room_party(viewer=staff, room=room) == selectors.OBSERVER
    assert selectors.room_party(viewer=personas[Role.AUDITOR], room=room) is None
    assert selectors.room_party(viewer=world.y, room=room) is None


def test_notes_are_the_interviewers_and_a_result_reaches_the_interview(world: World) -> None:
    interview = _interview(world, begun=True)
    room = services.room_for_interview(interview)
    services.room_save_notes(actor=world.hr_a, room=room, notes="  表达清楚  ")
    room.refresh_from_db()
    interview.refresh_from_db()
    assert (room.notes, room.result) == ("表达清楚", "")
    assert (interview.notes, interview.state) == ("", Interview.State.PROPOSED)

    services.room_save_notes(
        actor=world.hr_a, room=room, notes="表达清楚，基础扎实", result="passed"
    )
    room.refresh_from_db()
    interview.refresh_from_db()
    assert (room.notes, room.result) == ("表达清楚，基础扎实", "passed")
    assert (interview.notes, interview.result, interview.state) == (
        "表达清楚，基础扎实",
        "passed",
        Interview.State.DONE,
    )
    # Recorded once: later notes stay on the room.
    services.room_save_notes(actor=world.hr_a, room=room, notes="补充", result="passed")
    interview.refresh_from_db()
    assert interview.notes == "表达清楚，基础扎实"


@pytest.mark.parametrize(
    ("who", "notes", "result", "error"),
    [
        ("x", "学生不能写", "", PermissionDenied),
        ("hr_b", "别家企业", "", PermissionDenied),
        ("hr_a", "长" * 5001, "", ValidationError),
        ("hr_a", "结果不对", "maybe", ValidationError),
    ],
)
def test_refused_notes_change_nothing(
    world: World, who: str, notes: str, result: str, error: type[Exception]
) -> None:
    interview = _interview(world, begun=True)
    room = services.room_for_interview(interview)
    with pytest.raises(error):
        services.room_save_notes(actor=getattr(world, who), room=room, notes=notes, result=result)
    room.refresh_from_db()
    interview.refresh_from_db()
    assert (room.notes, room.result, interview.notes, interview.state) == (
        "",
        "",
        "",
        Interview.State.PROPOSED,
    )


def test_a_result_before_the_interview_began_is_refused_with_nothing_saved(world: World) -> None:
    room = services.room_for_interview(_interview(world))
    with pytest.raises(ApplicationError):
        services.room_save_notes(actor=world.hr_a, room=room, notes="提前写", result="passed")
    room.refresh_from_db()
    assert (room.notes, room.result) == ("", "")


def test_a_video_interview_invitation_carries_the_rooms_join_link(world: World) -> None:
    from qinghe.recruitment.models import ApplicationEvent

    claim_talent(world.x, name="李晓彤", seq="102", phone=X_PHONE)
    application = apply_to(world.x, world.posting_a)
    interview = interviews.interview_invite(
        actor=world.hr_a,
        application=application,
        when=interviews.When(starts_at=at(48), ends_at=at(48.5), mode="video"),
    )
    room = VideoRoom.objects.get(interview=interview)
    from django.conf import settings

    link = f"{settings.SITE_URL.rstrip('/')}/video/{room.uuid}/"
    assert interview.meeting_url == link
    assert (room.interviewer, room.student, room.starts_at) == (world.hr_a, world.x, at(48))
    assert ApplicationEvent.objects.filter(
        application=application,
        message__contains=f"平台视频面试，请准时打开加入链接（可先检测摄像头和麦克风）：{link}",
    ).exists()

    interviews.interview_reschedule(
        actor=world.hr_a,
        interview=interview,
        when=interviews.When(starts_at=at(72), ends_at=at(73), mode="video"),
    )
    room.refresh_from_db()
    interview.refresh_from_db()
    assert (room.starts_at, room.minutes, interview.meeting_url) == (at(72), 60, link)
    assert VideoRoom.objects.count() == 1
