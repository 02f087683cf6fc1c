"""Thirty students book ten health-check places at once, on PostgreSQL with real commits:
the slot's row lock (and the check constraint behind it) leaves exactly ten bookings."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from qinghe.accounts.models import Organisation, User
from qinghe.accounts.services import user_create
from qinghe.core.errors import ApplicationError
from qinghe.core.roles import Role
from qinghe.stations import services
from qinghe.stations.models import Booking, HealthSlot, Service, Station

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks under real concurrency"
    ),
]


def race(jobs: list[Callable[[], Any]]) -> list[Any]:
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


def test_thirty_bookings_for_ten_places_leave_exactly_ten() -> None:
    org = Organisation.objects.create(kind="station", name="沙坪街道人才驿站")
    station = Station.objects.create(
        kind=Station.Kind.TOWN,
        name="沙坪街道人才驿站",
        organisation=org,
        address="中山路 8 号",
        hours="8:30-17:30",
    )
    services.catalogue_ensure()
    slot = HealthSlot.objects.create(
        station=station,
        service=Service.objects.get(code="health_check"),
        day=timezone.localdate() + dt.timedelta(days=2),
        capacity=10,
    )
    students: list[User] = [
        user_create(
            username=f"booker{i:02d}",
            password="Qinghe-test-2026",
            role=Role.STUDENT,
            validate=False,
        )
        for i in range(30)
    ]
    results = race(
        [(lambda u=u: services.booking_create(user=u, slot_id=slot.pk)) for u in students]
    )
    booked = [r for r in results if isinstance(r, Booking)]
    refused = [r for r in results if isinstance(r, ApplicationError)]
    assert len(booked) == 10
    assert len(refused) == 20
    assert {str(r) for r in refused} == {"该日健康体检名额已满，请选择其他日期"}
    slot.refresh_from_db()
    assert slot.booked == 10
    assert Booking.objects.filter(slot=slot, state="booked").count() == 10
