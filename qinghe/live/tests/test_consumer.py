"""The live question box over the websocket: who gets in, asking (length, rate limit, word
filter), answering, pinning, hiding, releasing, and the viewer count."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from qinghe.core.roles import Role
from qinghe.live import presence
from qinghe.live.models import Question, Stream
from qinghe.realtime.consumers import CLOSE_NOT_FOUND, CLOSE_REFUSED
from qinghe.realtime.testing import communicator, run_async, session_cookie
from qinghe.testing.world import World

from .helpers import make_stream

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def quick_presence(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    presence.reset()
    monkeypatch.setattr(presence, "FLUSH_SECONDS", 0.05)
    yield
    presence.reset()


@pytest.fixture
def stream(world: World, personas: dict[str, Any]) -> Stream:
    return make_stream(world, personas[Role.HR_STAFF])


async def _until(ws: Any, kind: str, timeout: float = 3) -> dict[str, Any]:
    """The next frame of ``kind``, skipping broadcasts and acknowledgements meant for others
    (an error frame is never skipped)."""
    while True:
        frame = await ws.receive_json_from(timeout=timeout)
        if frame["type"] == kind:
            return frame
        assert frame["type"] in ("viewers", "question", "done", "asked"), frame


async def _question(ws: Any, check: Any) -> dict[str, Any]:
    """The next question frame whose question passes ``check``."""
    while True:
        frame = await _until(ws, "question")
        if check(frame["question"]):
            return frame


async def _viewers(ws: Any, expected: int) -> int:
    """Waits for the viewer count to reach ``expected`` (a timeout fails the test)."""
    while True:
        count = int((await _until(ws, "viewers"))["count"])
        if count == expected:
            return count


async def _others(ws: Any, wait: float = 0.3) -> list[str]:
    """The types of the frames other than viewer counts that arrive within ``wait``."""
    seen: list[str] = []
    while not await ws.receive_nothing(timeout=wait):
        frame = await ws.receive_json_from(timeout=1)
        if frame["type"] != "viewers":
            seen.append(frame["type"])
    return seen


async def _open(path: str, cookie: str) -> tuple[Any, dict[str, Any]]:
    ws = communicator(path, cookie=cookie)
    connected, _ = await ws.connect()
    assert connected
    return ws, await _until(ws, "state")


async def _close_code(path: str, cookie: str | None) -> Any:
    ws = communicator(path, cookie=cookie)
    connected, _ = await ws.connect()
    assert connected
    out = await ws.receive_output(timeout=3)
    await ws.disconnect()
    return out.get("code") if out["type"] == "websocket.close" else out["type"]


def test_admission(world: World, personas: dict[str, Any], stream: Stream) -> None:
    outsider = get_user_model().objects.get(username="qiye_c")  # HR of pending enterprise C
    cookies: dict[str, str | None] = {
        "anonymous": None,
        "outsider": session_cookie(outsider),
        "student": session_cookie(world.x),
    }
    session_cookie_student = str(cookies["student"])
    path = f"/ws/live/{stream.pk}/"

    async def scenario() -> dict[str, Any]:
        out = {
            "anonymous": await _close_code(path, cookies["anonymous"]),
            "outsider": await _close_code(path, cookies["outsider"]),
            "missing": await _close_code("/ws/live/999999/", cookies["student"]),
        }
        ws, state = await _open(path, session_cookie_student)
        out["student"] = (state["team"], state["moderator"], state["questions"])
        await ws.disconnect()
        return out

    assert run_async(scenario)() == {
        "anonymous": CLOSE_REFUSED,
        "outsider": CLOSE_NOT_FOUND,
        "missing": CLOSE_NOT_FOUND,
        "student": (False, False, []),
    }


def test_ask_reaches_everyone_and_the_team_answers_and_pins(
    world: World, personas: dict[str, Any], stream: Stream
) -> None:
    path = f"/ws/live/{stream.pk}/"
    x, y, hr = session_cookie(world.x), session_cookie(world.y), session_cookie(world.hr_b)

    async def scenario() -> list[Any]:
        ws_x, _ = await _open(path, x)
        ws_y, _ = await _open(path, y)
        ws_hr, hr_state = await _open(path, hr)
        await ws_x.send_json_to({"action": "ask", "text": "  实习期有住宿吗？ "})
        asked = await _until(ws_x, "asked")
        seen_y = await _until(ws_y, "question")
        seen_hr = await _until(ws_hr, "question")
        # A student may not answer, pin or hide.
        await ws_y.send_json_to({"action": "pin", "id": asked["id"]})
        refused = await _until(ws_y, "error")
        await ws_hr.send_json_to({"action": "answer", "id": asked["id"], "text": "提供宿舍"})
        await _until(ws_hr, "done")
        answered = await _question(ws_y, lambda q: q["answer"])
        await ws_hr.send_json_to({"action": "pin", "id": asked["id"]})
        pinned = await _question(ws_x, lambda q: q["pinned"])
        # HR may not hide: that is the moderators' job.
        await ws_hr.send_json_to({"action": "hide", "id": asked["id"]})
        hr_hide = await _until(ws_hr, "error")
        for ws in (ws_x, ws_y, ws_hr):
            await ws.disconnect()
        return [
            hr_state["team"],
            asked["held"],
            seen_y["question"]["text"],
            seen_hr["question"]["text"],
            refused["message"],
            answered["question"]["answer"],
            pinned["question"]["pinned"],
            hr_hide["message"],
        ]

    assert run_async(scenario)() == [
        True,
        False,
        "实习期有住宿吗？",
        "实习期有住宿吗？",
        "只有主办方和参与企业可以回答或置顶",
        "提供宿舍",
        True,
        "只有管理员可以隐藏提问",
    ]
    q = Question.objects.get()
    assert (q.state, q.pinned, q.answer, q.answered_by) == ("visible", True, "提供宿舍", world.hr_b)


def test_word_filter_holds_for_moderation_and_the_moderator_releases_or_hides(
    world: World, personas: dict[str, Any], stream: Stream
) -> None:
    path = f"/ws/live/{stream.pk}/"
    x, y = session_cookie(world.x), session_cookie(world.y)
    staff = session_cookie(personas[Role.LEAGUE_STAFF])

    async def scenario() -> list[Any]:
        ws_x, _ = await _open(path, x)
        ws_y, _ = await _open(path, y)
        ws_staff, staff_state = await _open(path, staff)
        await ws_x.send_json_to({"action": "ask", "text": "加 微 信 了解详情"})
        asked = await _until(ws_x, "asked")
        held = await _until(ws_staff, "question")
        y_quiet = await _others(ws_y)
        await ws_staff.send_json_to({"action": "release", "id": asked["id"]})
        released = await _question(ws_y, lambda q: q["state"] == "visible")
        await ws_staff.send_json_to({"action": "hide", "id": asked["id"]})
        removed = await _until(ws_y, "removed")
        for ws in (ws_x, ws_y, ws_staff):
            await ws.disconnect()
        return [
            staff_state["moderator"],
            asked["held"],
            held["question"]["state"],
            y_quiet,
            released["question"]["state"],
            removed["id"] == asked["id"],
        ]

    assert run_async(scenario)() == [True, True, "held", [], "visible", True]
    assert Question.objects.get().state == Question.State.HIDDEN


def test_length_limit_and_rate_limit_write_nothing(world: World, stream: Stream) -> None:
    path = f"/ws/live/{stream.pk}/"
    x = session_cookie(world.x)

    async def scenario() -> list[str]:
        ws, _ = await _open(path, x)
        await ws.send_json_to({"action": "ask", "text": "长" * 201})
        too_long = await _until(ws, "error")
        await ws.send_json_to({"action": "ask", "text": "   "})
        empty = await _until(ws, "error")
        await ws.send_json_to({"action": "ask", "text": "第一个问题"})
        await _until(ws, "asked")
        await ws.send_json_to({"action": "ask", "text": "第二个问题"})
        too_fast = await _until(ws, "error")
        await ws.send_json_to({"action": "vote"})
        unknown = await _until(ws, "error")
        await ws.disconnect()
        return [too_long["message"], empty["message"], too_fast["message"], unknown["message"]]

    assert run_async(scenario)() == [
        "问题不能超过 200 个字",
        "请填写问题",
        "提问太频繁，请稍后再试",
        "无法识别的操作",
    ]
    assert list(Question.objects.values_list("text", flat=True)) == ["第一个问题"]


def test_viewers_are_counted_once_per_user_and_the_peak_is_kept(
    world: World, stream: Stream
) -> None:
    path = f"/ws/live/{stream.pk}/"
    x, y = session_cookie(world.x), session_cookie(world.y)

    async def scenario() -> list[int]:
        ws1, _ = await _open(path, x)
        ws2, _ = await _open(path, x)  # the same student in a second tab
        ws3, _ = await _open(path, y)
        counts = [await _viewers(ws3, 2)]
        await ws3.disconnect()
        counts.append(await _viewers(ws1, 1))
        await ws2.disconnect()
        await ws1.disconnect()
        return counts

    assert run_async(scenario)() == [2, 1]
    stream.refresh_from_db()
    assert stream.peak_viewers == 2
    assert presence.viewers(stream.pk) == 0
