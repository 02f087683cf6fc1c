"""The signalling socket: only the room's parties get in; signals reach the other party and
never echo; chat reaches everyone; notes are saved only for the interviewer."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from qinghe.realtime.consumers import CLOSE_NOT_FOUND, CLOSE_REFUSED
from qinghe.realtime.testing import communicator, run_async, session_cookie
from qinghe.testing.world import World
from qinghe.video import services
from qinghe.video.models import VideoRoom

pytestmark = pytest.mark.django_db(transaction=True)

OFFER = {"kind": "offer", "pc": "p1", "sdp": "v=0"}
NO_RECORDING = {"type": "recording", "interviewer": False, "student": False, "recording": False}


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


def test_only_the_rooms_parties_get_a_socket(world: World) -> None:
    room = _room(world)
    path = f"/ws/video/{room.uuid}/"
    cookies = {name: session_cookie(getattr(world, name)) for name in ("hr_a", "x", "y", "hr_b")}

    def outcome(cookie: str | None, where: str = path) -> Any:
        return run_async(_outcome)(where, cookie)

    assert outcome(cookies["y"]) == ("refused", CLOSE_REFUSED)
    assert outcome(cookies["hr_b"]) == ("refused", CLOSE_REFUSED)
    assert outcome(None) == ("refused", CLOSE_REFUSED)
    assert outcome(cookies["x"], f"/ws/video/{uuid.uuid4()}/") == ("refused", CLOSE_NOT_FOUND)
    for name, party in (("hr_a", "interviewer"), ("x", "student")):
        state, frame = outcome(cookies[name])
        assert state == "open"
        assert '"type": "welcome"' in frame["text"] and f'"party": "{party}"' in frame["text"]


def test_signals_reach_the_other_party_chat_reaches_both_notes_only_the_interviewer(
    world: World,
) -> None:
    room = _room(world)
    path = f"/ws/video/{room.uuid}/"
    hr_cookie, student_cookie = session_cookie(world.hr_a), session_cookie(world.x)

    async def scenario() -> dict[str, Any]:
        hr = communicator(path, cookie=hr_cookie)
        student = communicator(path, cookie=student_cookie)
        seen: dict[str, Any] = {}
        assert (await hr.connect())[0] and (await student.connect())[0]
        assert (await hr.receive_json_from())["party"] == "interviewer"
        assert (await student.receive_json_from())["party"] == "student"
        for ws in (hr, student):
            assert await ws.receive_json_from() == NO_RECORDING

        await hr.send_json_to({"type": "signal", "signal": OFFER})
        seen["student_got"] = await student.receive_json_from()
        seen["hr_echo"] = await hr.receive_nothing(timeout=0.2)
        await student.send_json_to({"type": "signal", "signal": {"kind": "nonsense"}})
        seen["unknown_kind_relayed"] = not await hr.receive_nothing(timeout=0.2)

        await student.send_json_to({"type": "chat", "text": "听得见吗"})
        seen["chat_hr"] = await hr.receive_json_from()
        seen["chat_student"] = await student.receive_json_from()

        await student.send_json_to({"type": "notes", "notes": "学生写的", "result": "passed"})
        seen["student_notes"] = await student.receive_json_from()
        await hr.send_json_to({"type": "notes", "notes": "思路清楚", "result": ""})
        seen["hr_notes"] = await hr.receive_json_from()
        seen["notes_leak"] = not await student.receive_nothing(timeout=0.2)
        await hr.disconnect()
        await student.disconnect()
        return seen

    seen = run_async(scenario)()
    assert seen["student_got"]["type"] == "signal"
    assert seen["student_got"]["party"] == "interviewer"
    assert seen["student_got"]["signal"] == OFFER
    assert len(seen["student_got"]["from"]) == 16
    assert seen["hr_echo"] is True
    assert seen["unknown_kind_relayed"] is False
    assert seen["chat_hr"]["text"] == "听得见吗" and seen["chat_hr"]["mine"] is False
    assert seen["chat_hr"]["who"] == "学生"
    assert seen["chat_student"]["mine"] is True
    assert seen["student_notes"] == {"type": "error", "message": "只有面试官可以填写面试记录"}
    assert seen["hr_notes"]["type"] == "saved"
    assert seen["notes_leak"] is False
    room.refresh_from_db()
    assert (room.notes, room.result) == ("思路清楚", "")
