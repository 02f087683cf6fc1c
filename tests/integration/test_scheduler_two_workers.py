"""Two schedulers against one database, each in its own thread with its own connection and
real commits, ticking at the same injected times: every job runs exactly once per period, and
after a stretch of downtime each job catches up once. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from qinghe.scheduler.jobs import Job
from qinghe.scheduler.models import JobRun
from qinghe.scheduler.services import Scheduler
from qinghe.scheduler.tests.clock import FakeClock, at

pytestmark = pytest.mark.django_db(transaction=True)


def _jobs(calls: list[tuple[str, dt.datetime]], clock: FakeClock) -> list[Job]:
    lock = threading.Lock()

    def work(name: str) -> Callable[[], int]:
        def run() -> int:
            with lock:
                calls.append((name, clock()))
            return 1

        return run

    return [
        Job("five", "*/5 * * * *", "每 5 分钟", work("five")),
        Job("quarter", "*/15 * * * *", "每 15 分钟", work("quarter")),
        Job("hourly", "0 * * * *", "每小时", work("hourly")),
    ]


def _together(schedulers: list[Scheduler], times: list[str], clock: FakeClock) -> list[Any]:
    """Both schedulers tick at each time, released together; returns what each ran."""
    barrier = threading.Barrier(len(schedulers))
    ran: list[Any] = [[] for _ in schedulers]
    errors: list[BaseException] = []

    def loop(i: int) -> None:
        try:
            for when in times:
                if barrier.wait() == 0:
                    clock.set(when)
                barrier.wait()
                ran[i].extend(schedulers[i].tick())
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)
            barrier.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(len(schedulers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    return ran


def test_two_schedulers_run_each_job_once_per_period_and_catch_up_once_after_downtime() -> None:
    clock = FakeClock(at("2026-12-03 09:59"))
    calls: list[tuple[str, dt.datetime]] = []
    jobs = _jobs(calls, clock)
    a, b = (Scheduler(jobs, clock=clock, worker=name) for name in ("a", "b"))
    # Every minute from 10:00 to 11:00.
    times = [f"2026-12-03 10:{m:02d}" for m in range(60)] + ["2026-12-03 11:00"]
    ran = _together([a, b], times, clock)

    periods = Counter((r.job, r.scheduled_for) for r in JobRun.objects.all())
    assert set(periods.values()) == {1}
    assert Counter(name for name, _ in calls) == {"five": 13, "quarter": 5, "hourly": 2}
    assert len(calls) == len(set(calls)) == len(ran[0]) + len(ran[1]) == 20
    assert set(JobRun.objects.values_list("outcome", flat=True)) == {"succeeded"}

    # Both machines down from 11:00 until 14:07: each job runs once, for its latest period.
    calls.clear()
    _together([a, b], ["2026-12-03 14:07"] * 3, clock)
    assert sorted(calls) == [
        ("five", at("2026-12-03 14:07")),
        ("hourly", at("2026-12-03 14:07")),
        ("quarter", at("2026-12-03 14:07")),
    ]
    caught_up = {
        r.job: (r.scheduled_for, r.missed)
        for r in JobRun.objects.filter(scheduled_for__gt=at("2026-12-03 11:00"))
    }
    assert caught_up == {
        "five": (at("2026-12-03 14:05"), 36),
        "quarter": (at("2026-12-03 14:00"), 11),
        "hourly": (at("2026-12-03 14:00"), 2),
    }
