"""Staff observers: only where the student agreed, only HR bureau staff, administrators and
the student's own liaison officer; an observer receives the two sides' media and sends none
(it may only say hello/bye and answer, an answer that would send is dropped, every signal of
its own is addressed to one side), hears no other observer, cannot chat, is audited, and is
turned out (4403) the moment the student withdraws the consent."""

from __future__ import annotations

from typing import Any

import pytest

from qinghe.core.models import AuditLog
from qinghe.core.roles import Role
from qinghe.outreach.services import assignment_set
from qinghe.realtime.consumers import CLOSE_REFUSED
from qinghe.realtime.testing import communicator, run_async, session_cookie
from qinghe.testing.recruiting import X_PHONE, claim_talent
from qinghe.testing.world import World
from qinghe.video import selectors, services
from qinghe.video.models import VideoRoom

pytestmark = pytest.mark.django_db(transaction=True)

RECVONLY_ANSWER = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=recvonly\r\n"
SENDING_ANSWER = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=sendrecv\r\n"


def _room(world: World) -> VideoRoom:
    return services.room_create(
        interviewer=world.hr_a, student=world.x, minutes=20, source=VideoRoom.Source.DIRECT
    )


async def _outcome(path: str, cookie: str | None) -> Any:
    ws = communicator(path, cookie=cookie)
    connected, code = await ws.connect()
    if not connected:
        return ("rejected", code)
    output = await ws.receive_output(timeout=5)
    await ws.disconnect()
    if output["type"] == "websocket.close":
        return ("refused", output["code"])
    return ("open", output)


def _observer_audits(room: VideoRoom) -> int:
    return AuditLog.objects.filter(
        target_type="video.videoroom", target_id=str(room.pk), action="view"
    ).count()


def test_every_role_against_the_socket_without_and_with_the_students_consent(
    world: World, personas: dict[str, Any]
) -> None:
    room = _room(world)
    path = f"/ws/video/{room.uuid}/"
    liaison = personas[Role.LIAISON]
    assignment_set(
        talent=claim_talent(world.x, name="李晓彤", seq="102", phone=X_PHONE),
        liaison=liaison,
        actor=None,
    )
    people = {role: personas[role] for role in sorted(personas)}
    people["hr_a (interviewer)"] = world.hr_a
    people["x (student)"] = world.x
    cookies = {name: session_cookie(user) for name, user in people.items()}

    def states() -> dict[str, Any]:
        return {
            name: run_async(_outcome)(path, cookie)[0] if name else None
            for name, cookie in cookies.items()
        }

    before = states()
    assert before == {
        Role.AMBASSADOR: "refused",
        Role.AUDITOR: "refused",
        Role.EDU_STAFF: "refused",
        Role.ENTERPRISE_HR: "open",  # the persona is enterprise A's HR: the interviewer side
        Role.HR_STAFF: "refused",
        Role.LEAGUE_STAFF: "refused",
        Role.LIAISON: "refused",
        Role.PARTNER: "refused",
        Role.STATION_STAFF: "refused",
        Role.STUDENT: "open",  # the persona is student X
        Role.SYSADMIN: "refused",
        "hr_a (interviewer)": "open",
        "x (student)": "open",
    }
    assert _observer_audits(room) == 0
    room.refresh_from_db()
    assert room.observers_allowed is False

    services.room_set_observers(actor=world.x, room=room, allowed=True)
    after = states()
    assert {name for name, state in after.items() if state != before[name]} == {
        Role.HR_STAFF,
        Role.LIAISON,
        Role.SYSADMIN,
    }
    assert all(after[name] == "open" for name in (Role.HR_STAFF, Role.LIAISON, Role.SYSADMIN))
    assert _observer_audits(room) == 3
    room.refresh_from_db()
    assert selectors.room_party(viewer=personas[Role.LIAISON], room=room) == selectors.OBSERVER


def test_a_liaison_of_other_students_is_no_observer(world: World, personas: dict[str, Any]) -> None:
    room = _room(world)
    liaison = personas[Role.LIAISON]
    assignment_set(
        talent=claim_talent(world.y, name="王小明", seq="103", phone="13800138003"),
        liaison=liaison,
        actor=None,
    )
    services.room_set_observers(actor=world.x, room=room, allowed=True)
    path = f"/ws/video/{room.uuid}/"
    assert run_async(_outcome)(path, session_cookie(liaison)) == ("refused", CLOSE_REFUSED)
    assert selectors.room_party(viewer=liaison, room=room) is None
    assert _observer_audits(room) == 0


def test_an_observer_receives_and_sends_nothing_of_its_own(
    world: World, personas: dict[str, Any]
) -> None:
    room = _room(world)
    services.room_set_observers(actor=world.x, room=room, allowed=True)
    path = f"/ws/video/{room.uuid}/"
    hr_cookie, student_cookie = session_cookie(world.hr_a), session_cookie(world.x)
    staff_cookie = session_cookie(personas[Role.HR_STAFF])
    admin_cookie = session_cookie(personas[Role.SYSADMIN])

    async def scenario() -> dict[str, Any]:
        hr = communicator(path, cookie=hr_cookie)
        student = communicator(path, cookie=student_cookie)
        observer = communicator(path, cookie=staff_cookie)
        other = communicator(path, cookie=admin_cookie)
        seen: dict[str, Any] = {}
        peers: dict[str, str] = {}
        for name, ws in (
            ("hr", hr),
            ("student", student),
            ("observer", observer),
            ("other", other),
        ):
            assert (await ws.connect())[0]
            welcome = await ws.receive_json_from()
            peers[name] = welcome["peer"]
            seen[f"{name}_party"] = welcome["party"]
            await ws.receive_json_from()  # the recording state

        # The observer's hello reaches both sides, not the other observer.
        await observer.send_json_to({"type": "signal", "signal": {"kind": "hello"}})
        seen["hr_hello"] = await hr.receive_json_from()
        seen["student_hello"] = await student.receive_json_from()
        seen["other_heard"] = not await other.receive_nothing(timeout=0.2)
        # The side offers to the observer, addressed: only that observer gets it.
        offer = {"kind": "offer", "pc": "o1", "sdp": "v=0"}
        await hr.send_json_to({"type": "signal", "signal": offer, "to": peers["observer"]})
        seen["observer_offer"] = await observer.receive_json_from()
        seen["student_heard_offer"] = not await student.receive_nothing(timeout=0.2)
        seen["other_heard_offer"] = not await other.receive_nothing(timeout=0.2)
        # A receive-only answer goes back to that side only.
        answer = {"kind": "answer", "pc": "o1", "sdp": RECVONLY_ANSWER}
        await observer.send_json_to({"type": "signal", "signal": answer, "to": peers["hr"]})
        seen["hr_answer"] = await hr.receive_json_from()
        seen["student_heard_answer"] = not await student.receive_nothing(timeout=0.2)
        # Refused: an offer of its own, an answer that would send, an unaddressed candidate,
        # a chat message.
        await observer.send_json_to(
            {"type": "signal", "signal": {"kind": "offer", "pc": "x", "sdp": "v=0"}}
        )
        await observer.send_json_to(
            {
                "type": "signal",
                "signal": {"kind": "offer", "pc": "x", "sdp": "v=0"},
                "to": peers["student"],
            }
        )
        await observer.send_json_to(
            {
                "type": "signal",
                "to": peers["hr"],
                "signal": {"kind": "answer", "pc": "o1", "sdp": SENDING_ANSWER},
            }
        )
        await observer.send_json_to(
            {"type": "signal", "signal": {"kind": "candidate", "pc": "o1", "candidate": {}}}
        )
        await observer.send_json_to({"type": "chat", "text": "我是旁听"})
        seen["hr_got_refused"] = not await hr.receive_nothing(timeout=0.3)
        seen["student_got_refused"] = not await student.receive_nothing(timeout=0.3)
        seen["observer_got_chat"] = not await observer.receive_nothing(timeout=0.2)
        # The two sides' own call signals do not reach observers; the chat does.
        await hr.send_json_to(
            {"type": "signal", "signal": {"kind": "offer", "pc": "m", "sdp": "v=0"}}
        )
        seen["student_call_offer"] = (await student.receive_json_from())["signal"]["pc"]
        seen["observer_heard_call"] = not await observer.receive_nothing(timeout=0.2)
        await student.send_json_to({"type": "chat", "text": "您好"})
        seen["observer_chat"] = (await observer.receive_json_from())["text"]
        await hr.receive_json_from()
        await student.receive_json_from()
        await other.receive_json_from()
        # The observer leaves: a bye from it to both sides.
        await observer.disconnect()
        seen["hr_bye"] = await hr.receive_json_from()
        seen["student_bye"] = await student.receive_json_from()
        for ws in (hr, student, other):
            await ws.disconnect()
        seen["peers"] = peers
        return seen

    seen = run_async(scenario)()
    peers = seen["peers"]
    assert (seen["hr_party"], seen["student_party"], seen["observer_party"]) == (
        "interviewer",
        "student",
        "observer",
    )
    hello = {
        "type": "signal",
        "party": "observer",
        "from": peers["observer"],
        "signal": {"kind": "hello"},
    }
    assert seen["hr_hello"] == hello
    assert seen["student_hello"] == hello
    assert seen["other_heard"] is False
    assert seen["observer_offer"] == {
        "type": "signal",
        "party": "interviewer",
        "from": peers["hr"],
        "signal": {"kind": "offer", "pc": "o1", "sdp": "v=0"},
    }
    assert (seen["student_heard_offer"], seen["other_heard_offer"]) == (False, False)
    assert seen["hr_answer"]["signal"] == {"kind": "answer", "pc": "o1", "sdp": RECVONLY_ANSWER}
    assert seen["student_heard_answer"] is False
    assert (seen["hr_got_refused"], seen["student_got_refused"]) == (False, False)
    assert seen["observer_got_chat"] is False
    assert seen["student_call_offer"] == "m"
    assert seen["observer_heard_call"] is False
    assert seen["observer_chat"] == "您好"
    bye = {
        "type": "signal",
        "party": "observer",
        "from": peers["observer"],
        "signal": {"kind": "bye"},
    }
    assert (seen["hr_bye"], seen["student_bye"]) == (bye, bye)


def test_withdrawing_the_consent_turns_the_observer_out_at_once(
    world: World, personas: dict[str, Any]
) -> None:
    room = _room(world)
    services.room_set_observers(actor=world.x, room=room, allowed=True)
    path = f"/ws/video/{room.uuid}/"
    staff_cookie = session_cookie(personas[Role.HR_STAFF])
    hr_cookie = session_cookie(world.hr_a)

    async def scenario() -> tuple[Any, Any]:
        from channels.db import database_sync_to_async

        observer = communicator(path, cookie=staff_cookie)
        hr = communicator(path, cookie=hr_cookie)
        assert (await observer.connect())[0] and (await hr.connect())[0]
        for ws in (observer, hr):
            await ws.receive_json_from()
            await ws.receive_json_from()
        await database_sync_to_async(services.room_set_observers)(
            actor=world.x, room=room, allowed=False
        )
        closed = await observer.receive_output(timeout=5)
        await observer.disconnect()  # the browser's side of the closing handshake
        hr_saw = await hr.receive_json_from()
        hr_still = await hr.receive_nothing(timeout=0.2)
        await hr.disconnect()
        return closed, (hr_saw["signal"], hr_still)

    closed, (hr_saw, hr_still) = run_async(scenario)()
    assert closed == {"type": "websocket.close", "code": CLOSE_REFUSED}
    assert hr_saw == {"kind": "bye"}
    assert hr_still is True
    assert run_async(_outcome)(path, staff_cookie) == ("refused", CLOSE_REFUSED)
