"""Registrations racing for the places of one event, on PostgreSQL with real commits: each
thread has its own connection, and the event row lock (select_for_update) is what keeps the
count right. SQLite serialises writers anyway, so these run on PostgreSQL only."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from qinghe.accounts.models import Organisation, User
from qinghe.core.errors import ApplicationError
from qinghe.events import services
from qinghe.events.models import Event, Registration
from qinghe.events.tests.factories import make_event, make_student
from qinghe.notifications.models import OutboxMessage

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks under real concurrency"
    ),
]


def race(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Runs every job in its own thread, all released at once; returns results or errors."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(i: int, job: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[i] = job()
        except Exception as exc:  # noqa: BLE001 - reported to the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def _event() -> Event:
    league = Organisation.objects.create(kind=Organisation.Kind.BUREAU, name="共青团鹤山市委员会")
    return make_event(league, now=timezone.now(), capacity=10, title="青鹤联盟年会")


def test_fifty_students_for_ten_places_leave_ten_confirmed_and_forty_in_line() -> None:
    event = _event()
    students = [make_student(f"racer{i:02d}") for i in range(50)]

    def register(user: User) -> Callable[[], Any]:
        return lambda: services.registration_create(user=user, event=event)

    results = race([register(s) for s in students])
    assert [r for r in results if isinstance(r, BaseException)] == []
    regs = list(Registration.objects.filter(event=event).order_by("registered_at", "id"))
    assert len(regs) == 50
    assert len({r.user_id for r in regs}) == 50
    assert sum(r.status == "confirmed" for r in regs) == 10
    assert sum(r.status == "waitlisted" for r in regs) == 40
    # First come, first served: the ten who got the lock first hold the places, and the
    # positions handed out are 1..40 in the order of the line.
    assert [r.status for r in regs] == ["confirmed"] * 10 + ["waitlisted"] * 40
    assert sorted(r.position for r in results if r.position is not None) == list(range(1, 41))
    line = [r.pk for r in regs[10:]]
    by_position = [
        r.registration.pk for r in sorted(results, key=lambda r: r.position or 0) if r.position
    ]
    assert by_position == line

    # Five confirmed students cancel at once: exactly the next five in line are promoted.
    leaving = [r.user for r in regs[:5]]
    cancels = race(
        [
            (lambda u=u: services.registration_cancel(user=u, event=event))  # type: ignore[misc]
            for u in leaving
        ]
    )
    assert [r for r in cancels if isinstance(r, BaseException)] == []
    after = dict(Registration.objects.filter(event=event).values_list("pk", "status"))
    assert [after[r.pk] for r in regs] == (
        ["cancelled"] * 5 + ["confirmed"] * 10 + ["waitlisted"] * 35
    )
    promoted_users = set(
        OutboxMessage.objects.filter(subject="候补成功：青鹤联盟年会", channel="inbox").values_list(
            "user_id", flat=True
        )
    )
    assert promoted_users == {r.user_id for r in regs[10:15]}


def test_one_student_clicking_five_times_at_once_registers_once() -> None:
    event = _event()
    student = make_student("eager")
    results = race(
        [lambda: services.registration_create(user=student, event=event) for _ in range(5)]
    )
    errors = [r for r in results if isinstance(r, ApplicationError)]
    assert [e.message for e in errors] == ["你已报名该活动"] * 4
    assert Registration.objects.filter(event=event, user=student).count() == 1


def test_fifty_students_posting_to_the_api_at_once_leave_ten_confirmed_and_forty_in_line() -> None:
    """The same race through the HTTP API (POST /api/v1/events/{id}/registrations): each
    student signed in on their own client, all released at once."""
    from django.test import Client

    event = _event()
    students = [make_student(f"apiracer{i:02d}") for i in range(50)]
    clients = []
    for s in students:
        c = Client()
        c.force_login(s)
        clients.append(c)
    url = f"/api/v1/events/{event.pk}/registrations"

    def post(c: Client) -> Callable[[], Any]:
        return lambda: c.post(url, content_type="application/json")

    responses = race([post(c) for c in clients])
    assert [r for r in responses if isinstance(r, BaseException)] == []
    assert [r.status_code for r in responses] == [201] * 50
    statuses = sorted(r.json()["status"] for r in responses)
    assert statuses == ["confirmed"] * 10 + ["waitlisted"] * 40
    regs = list(Registration.objects.filter(event=event).order_by("registered_at", "id"))
    assert [r.status for r in regs] == ["confirmed"] * 10 + ["waitlisted"] * 40
    assert len({r.user_id for r in regs}) == 50
    # each student clicking again is told they are already registered; nothing changes
    again = race([post(c) for c in clients[:5]])
    assert [r.status_code for r in again] == [400] * 5
    assert Registration.objects.filter(event=event).count() == 50
