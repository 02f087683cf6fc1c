"""The hall's live queue lengths (issue 15: students pick a short queue): the hall socket sends
every booth's length and wait on joining and after each queue change, read once by the service;
it is open to everyone who may see the fair and refused otherwise."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from qinghe.core.roles import ALL_ROLES
from qinghe.events.models import Event
from qinghe.fairs import services
from qinghe.fairs.models import Booth
from qinghe.realtime.consumers import CLOSE_NOT_FOUND, CLOSE_REFUSED
from qinghe.realtime.testing import communicator, run_async, session_cookie

from .conftest import Fair

pytestmark = pytest.mark.django_db(transaction=True)


def _hall(*rows: tuple[int, int]) -> dict[str, Any]:
    return {
        "type": "hall",
        "booths": [{"id": b, "length": n, "wait_minutes": (n + 1) * 10} for b, n in rows],
    }


def test_the_hall_sees_every_booths_length_change(fair: Fair, client_as: Any) -> None:
    w = fair.world
    a = fair.booth
    b = Booth.objects.create(
        fair=fair.fair, enterprise=w.b, state=Booth.State.APPROVED, applied_at=timezone.now()
    )
    b.postings.set([w.posting_b])
    s = fair.students
    services.queue_join(user=s[0], booth=a)
    path = f"/ws/fairs/{fair.fair.pk}/hall/"
    watcher = session_cookie(s[9])  # a registered student not in any queue

    async def scenario() -> list[Any]:
        ws = communicator(path, cookie=watcher)
        assert (await ws.connect())[0]
        seen = [await ws.receive_json_from(timeout=5)]
        for student, booth in ((s[1], a), (s[2], b), (s[3], b)):
            await database_sync_to_async(services.queue_join)(user=student, booth=booth)
            seen.append(await ws.receive_json_from(timeout=5))
        await database_sync_to_async(services.queue_leave)(user=s[0], booth=a)
        seen.append(await ws.receive_json_from(timeout=5))
        await database_sync_to_async(services.queue_take_next)(actor=w.hr_b, booth=b)
        seen.append(await ws.receive_json_from(timeout=5))
        seen.append(await ws.receive_nothing(timeout=0.3))
        await ws.disconnect()
        return seen

    assert run_async(scenario)() == [
        _hall((a.pk, 1), (b.pk, 0)),
        _hall((a.pk, 2), (b.pk, 0)),
        _hall((a.pk, 2), (b.pk, 1)),
        _hall((a.pk, 2), (b.pk, 2)),
        _hall((a.pk, 1), (b.pk, 2)),
        _hall((a.pk, 1), (b.pk, 1)),
        True,
    ]
    # The page drawn after the changes shows the same numbers.
    page = client_as("student").get(f"/fairs/{fair.fair.pk}/").content.decode()
    assert page.count('data-testid="booth-length">1</strong>') == 2
    assert f'data-live-hall="/ws/fairs/{fair.fair.pk}/hall/"' in page


def _outcome(path: str, cookie: str | None) -> Any:
    async def go() -> Any:
        ws = communicator(path, cookie=cookie)
        connected, code = await ws.connect()
        if not connected:
            return ("rejected", code)
        output = await ws.receive_output(timeout=5)
        await ws.disconnect()
        if output["type"] == "websocket.close":
            return ("refused", output["code"])
        return "open"

    return run_async(go)()


def test_the_hall_socket_is_open_to_everyone_who_may_see_the_fair(
    fair: Fair, personas: dict[str, Any]
) -> None:
    path = f"/ws/fairs/{fair.fair.pk}/hall/"
    assert set(personas) == set(ALL_ROLES)
    for role, user in personas.items():
        assert (role, _outcome(path, session_cookie(user))) == (role, "open")
    assert _outcome(path, None) == ("refused", CLOSE_REFUSED)
    assert _outcome("/ws/fairs/999999/hall/", session_cookie(fair.students[0])) == (
        "refused",
        CLOSE_NOT_FOUND,
    )
    # A fair still in draft: event staff see its hall, a student is told it does not exist.
    Event.objects.filter(pk=fair.fair.pk).update(state=Event.State.DRAFT)
    assert _outcome(path, session_cookie(fair.students[0])) == ("refused", CLOSE_NOT_FOUND)
    assert _outcome(path, session_cookie(fair.staff)) == "open"
