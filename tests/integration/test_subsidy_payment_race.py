"""Two staff record the same subsidy payment at the same moment, on PostgreSQL with real
commits: one payment is left, and the other person gets the Chinese refusal."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from qinghe.accounts.demo import personas_ensure
from qinghe.core.errors import ApplicationError
from qinghe.core.roles import Role
from qinghe.policies.models import Application, Payment, Programme
from qinghe.policies.services import builtin_ensure, payment_record

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="a unique constraint under real concurrency"
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


def test_two_staff_recording_the_same_payment_at_once_leave_one_payment() -> None:
    personas = personas_ensure()
    builtin_ensure()
    programme = Programme.objects.get(code="one_off_startup")
    # Approved directly: the race is about the payment, not the review.
    application = Application.objects.create(
        programme=programme,
        applicant=personas[Role.STUDENT],
        state=Application.State.APPROVED,
        amount=10000,
        reviewed_by=personas[Role.HR_STAFF],
        approved_by=personas[Role.SYSADMIN],
    )
    paid_on = dt.date(2026, 7, 20)

    def pay(role: str) -> Callable[[], Any]:
        return lambda: payment_record(
            actor=personas[role], application=application, period="1", paid_on=paid_on
        )

    results = race([pay(Role.HR_STAFF), pay(Role.SYSADMIN)])
    refused = [r for r in results if isinstance(r, ApplicationError)]
    paid = [r for r in results if isinstance(r, Payment)]
    assert len(paid) == 1
    assert [r.message for r in refused] == ["第 1 期已记录发放，不能重复记录"]
    assert Payment.objects.filter(application=application).count() == 1


def test_the_constraint_alone_refuses_the_second_insert_when_both_skip_the_lock() -> None:
    """Without the row lock (two raw inserts racing), the database constraint still leaves one."""
    from django.db import IntegrityError, transaction

    personas = personas_ensure()
    builtin_ensure()
    application = Application.objects.create(
        programme=Programme.objects.get(code="startup_hiring"),
        applicant=personas[Role.STUDENT],
        state=Application.State.APPROVED,
        amount=2000,
    )

    def insert() -> Any:
        with transaction.atomic():
            return Payment.objects.create(
                application=application,
                period="1",
                amount=2000,
                paid_on=dt.date(2026, 7, 20),
                recorded_by=personas[Role.HR_STAFF],
            )

    results = race([insert, insert])
    assert sorted(type(r).__name__ for r in results) == ["IntegrityError", "Payment"]
    assert isinstance([r for r in results if not isinstance(r, Payment)][0], IntegrityError)
    assert Payment.objects.filter(application=application).count() == 1
