"""The queue test of issue 15: ten students join a booth's queue, every one of them sees a
consistent position over the websocket, and leaving or being taken updates all of them; refused
actions change nothing; sockets are refused to the wrong people."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from channels.db import database_sync_to_async

from qinghe.core.errors import ApplicationError, PermissionDenied
from qinghe.events.tests.factories import make_student
from qinghe.fairs import selectors, services
from qinghe.fairs.models import QueueEntry
from qinghe.notifications.models import OutboxMessage
from qinghe.realtime.consumers import CLOSE_REFUSED
from qinghe.realtime.testing import (
    communicator,
    first_outcome,
    run_async,
    session_cookie,
)
from qinghe.video.models import VideoRoom

from .conftest import Fair

pytestmark = pytest.mark.django_db(transaction=True)


def _state(state: str, position: int | None, length: int, room_url: str = "") -> dict[str, Any]:
    return {
        "type": "queue",
        "state": state,
        "room_url": room_url,
        "position": position,
        "wait_minutes": position * 10 if position else None,
        "length": length,
    }


def _positions(fair: Fair) -> list[int | None]:
    return [
        selectors.student_queue_state(user=s, booth=fair.booth)["position"] for s in fair.students
    ]


def test_ten_students_join_and_every_socket_sees_its_place_change(fair: Fair) -> None:
    students = fair.students
    booth = fair.booth
    cookies = [session_cookie(s) for s in students]
    hr_cookie = session_cookie(fair.world.hr_a)
    path = f"/ws/fairs/booths/{booth.pk}/"

    async def scenario() -> dict[str, Any]:
        sockets = []
        for cookie in cookies:
            ws = communicator(path, cookie=cookie)
            connected, _ = await ws.connect()
            assert connected
            sockets.append(ws)
        hr = communicator(path + "queue/", cookie=hr_cookie)
        assert (await hr.connect())[0]
        seen: list[list[Any]] = [[await ws.receive_json_from(timeout=5)] for ws in sockets]
        hr_seen = [await hr.receive_json_from(timeout=5)]
        for student in students:
            await database_sync_to_async(services.queue_join)(user=student, booth=booth)
            for i, ws in enumerate(sockets):
                seen[i].append(await ws.receive_json_from(timeout=5))
            hr_seen.append(await hr.receive_json_from(timeout=5))
        # The third student leaves in one step.
        await database_sync_to_async(services.queue_leave)(user=students[2], booth=booth)
        after_leave = [await ws.receive_json_from(timeout=5) for ws in sockets]
        hr_after_leave = await hr.receive_json_from(timeout=5)
        # The enterprise takes the next student: the first.
        await database_sync_to_async(services.queue_take_next)(actor=fair.world.hr_a, booth=booth)
        after_take = [await ws.receive_json_from(timeout=5) for ws in sockets]
        hr_after_take = await hr.receive_json_from(timeout=5)
        quiet = [await ws.receive_nothing(timeout=0.1) for ws in sockets]
        for ws in [*sockets, hr]:
            await ws.disconnect()
        return {
            "seen": seen,
            "hr_seen": hr_seen,
            "after_leave": after_leave,
            "hr_after_leave": hr_after_leave,
            "after_take": after_take,
            "hr_after_take": hr_after_take,
            "quiet": quiet,
        }

    out = run_async(scenario)()
    # Student k (1-based) sees, after the j-th join: nothing of their own before joining,
    # then position k with the queue j long.
    for k in range(1, 11):
        expected = [_state("", None, 0)] + [
            _state("waiting", k, j) if j >= k else _state("", None, j) for j in range(1, 11)
        ]
        assert out["seen"][k - 1] == expected
    assert [frame["length"] for frame in out["hr_seen"]] == list(range(0, 11))
    assert [row["position"] for row in out["hr_seen"][-1]["waiting"]] == list(range(1, 11))
    # After the third leaves: 1 and 2 stay, 4..10 move up one, the third has no place.
    assert out["after_leave"] == [
        _state("waiting", 1, 9),
        _state("waiting", 2, 9),
        _state("", None, 9),
        *[_state("waiting", k - 1, 9) for k in range(4, 11)],
    ]
    assert out["hr_after_leave"]["length"] == 9
    # After the first is taken: they are called, everyone else moves up one.
    room = VideoRoom.objects.get()
    assert (room.student, room.interviewer, room.source, room.minutes) == (
        fair.students[0],
        fair.world.hr_a,
        VideoRoom.Source.FAIR,
        15,
    )
    assert out["after_take"] == [
        _state("called", None, 8, room_url=f"/video/{room.uuid}/"),
        _state("waiting", 1, 8),
        _state("", None, 8),
        *[_state("waiting", k - 2, 8) for k in range(4, 11)],
    ]
    assert out["hr_after_take"]["length"] == 8
    assert [row["position"] for row in out["hr_after_take"]["waiting"]] == list(range(1, 9))
    assert out["hr_after_take"]["called"][0]["room_url"] == f"/video/{room.uuid}/"
    assert out["quiet"] == [True] * 10
    assert _positions(fair) == [None, 1, None, 2, 3, 4, 5, 6, 7, 8]
    # The called student is told through 我的消息 too, with a link to the video room.
    message = OutboxMessage.objects.get(user=fair.students[0], subject__startswith="轮到你了")
    assert message.data["url"] == f"/video/{room.uuid}/"


def test_invited_student_goes_to_the_front_and_done_feeds_the_average(fair: Fair) -> None:
    booth = fair.booth
    hr = fair.world.hr_a
    a, b, c = fair.students[:3]
    services.queue_join(user=a, booth=booth)
    services.queue_join(user=b, booth=booth)
    services.queue_invite(actor=hr, booth=booth, student=c)
    assert [selectors.student_queue_state(user=u, booth=booth)["position"] for u in (a, b, c)] == [
        2,
        3,
        1,
    ]
    called = services.queue_take_next(actor=hr, booth=booth)
    assert called.student == c
    assert called.called_at is not None
    services.queue_finish(
        actor=hr, entry=called, outcome="done", now=called.called_at + dt.timedelta(minutes=4)
    )
    assert selectors.average_minutes(booth=booth) == 4
    assert selectors.student_queue_state(user=b, booth=booth)["wait_minutes"] == 8


def _snapshot(fair: Fair) -> list[tuple[int, str, int]]:
    return list(
        QueueEntry.objects.filter(booth=fair.booth)
        .order_by("id")
        .values_list("student_id", "state", "rank")
    )


def test_refused_actions_change_nothing_and_push_nothing(fair: Fair) -> None:
    booth = fair.booth
    services.queue_join(user=fair.students[0], booth=booth)
    before = _snapshot(fair)
    outsider = make_student("fair_outsider")
    cookie = session_cookie(fair.students[0])

    def refused() -> list[str]:
        reasons = []
        for call in (
            lambda: services.queue_join(user=outsider, booth=booth),
            lambda: services.queue_join(user=fair.students[0], booth=booth),
            lambda: services.queue_leave(user=fair.students[1], booth=booth),
            lambda: services.queue_take_next(actor=fair.world.hr_b, booth=booth),
            lambda: services.queue_invite(actor=fair.world.hr_a, booth=booth, student=outsider),
        ):
            try:
                call()
            except (ApplicationError, PermissionDenied) as exc:
                reasons.append(str(exc.message if hasattr(exc, "message") else exc))
        return reasons

    async def scenario() -> list[Any]:
        ws = communicator(f"/ws/fairs/booths/{booth.pk}/", cookie=cookie)
        assert (await ws.connect())[0]
        first = await ws.receive_json_from(timeout=5)
        reasons = await database_sync_to_async(refused)()
        quiet = await ws.receive_nothing(timeout=0.3)
        await ws.disconnect()
        return [first, reasons, quiet]

    first, reasons, quiet = run_async(scenario)()
    assert first == _state("waiting", 1, 1)
    assert reasons == [
        "请先报名该招聘会再排队",
        "你已在该展位的队列中",
        "你不在该展位的队列中",
        "只能管理本企业的展位",
        "该学子未报名本招聘会",
    ]
    assert quiet is True
    assert _snapshot(fair) == before


def test_the_queue_sockets_are_refused_to_the_wrong_people(fair: Fair) -> None:
    booth = fair.booth
    path = f"/ws/fairs/booths/{booth.pk}/"
    cookies = {
        "unregistered": session_cookie(make_student("fair_unregistered")),
        "registered": session_cookie(fair.students[0]),
        "hr_a": session_cookie(fair.world.hr_a),
        "hr_b": session_cookie(fair.world.hr_b),
    }

    def kind(result: Any) -> Any:
        return result[0] if result[0] == "open" else result

    def connect(url: str, who: str) -> Any:
        return kind(run_async(first_outcome)(communicator(url, cookie=cookies[who])))

    assert connect(path, "unregistered") == ("refused", CLOSE_REFUSED)
    assert connect(path, "registered") == "open"
    assert connect(path, "hr_a") == ("refused", CLOSE_REFUSED)  # a student route
    assert connect(path + "queue/", "hr_b") == ("refused", CLOSE_REFUSED)
    assert connect(path + "queue/", "registered") == ("refused", CLOSE_REFUSED)
    assert connect(path + "queue/", "hr_a") == "open"
