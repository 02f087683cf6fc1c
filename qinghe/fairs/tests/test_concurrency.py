"""Ten students join one booth's queue at the same moment, each in its own database connection:
the row lock on the booth serialises them, so ranks and positions are 1..10 with no gap and no
duplicate. SQLite serialises all writers anyway (and ignores ``select_for_update``), so this
runs on PostgreSQL (CI runs the suite there)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from qinghe.fairs import selectors, services
from qinghe.fairs.models import QueueEntry

from .conftest import Fair

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_simultaneous_joins_get_distinct_consecutive_places(fair: Fair) -> None:
    start = threading.Barrier(len(fair.students))
    errors: list[BaseException] = []

    def join(index: int) -> None:
        try:
            start.wait(timeout=30)
            services.queue_join(user=fair.students[index], booth=fair.booth)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=join, args=(i,)) for i in range(len(fair.students))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    ranks = sorted(QueueEntry.objects.filter(booth=fair.booth).values_list("rank", flat=True))
    assert ranks == list(range(1, 11))
    positions = sorted(
        selectors.student_queue_state(user=s, booth=fair.booth)["position"] for s in fair.students
    )
    assert positions == list(range(1, 11))
