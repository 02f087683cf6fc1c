"""Precomputed figures: the board's live values, the return funnel and the public figures.

Counting 100,000 talents, 150,000 contact logs and a year of applications on every request
costs seconds on PostgreSQL (docs/SCALING.md); the pages read one row of
``PrecomputedFigures`` instead. The scheduled job ``refresh_plan_figures``
(qinghe/scheduler/schedule.py, every ``CADENCE_MINUTES``) recomputes the current year's
board, the public page and the funnel of the default cohort (last year's graduates) and of the
current year. A page whose row is missing or older than ``STALE_AFTER`` (the job has missed
runs) computes its figures in the request and stores them: the automatic refresh, so a stopped
scheduler makes the page slow, never wrong by more than ``STALE_AFTER``. Every page shows when
its figures were computed (数据更新于 …).

The month-end snapshots (IndicatorSnapshot, services.snapshots_record) and the monthly report
still count from the rows: they are taken once a month, not per request. The lists behind the
figures (drill-downs) stay live."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from .models import PrecomputedFigures

CADENCE_MINUTES = 10
# Three missed runs: the page computes its own figures (slow, but never older than this).
STALE_AFTER = dt.timedelta(minutes=3 * CADENCE_MINUTES)


@dataclass(frozen=True)
class Stored:
    data: dict[str, Any]
    computed_at: dt.datetime

    @property
    def shown(self) -> str:
        """数据更新于 HH:MM (with the date when not today), local time."""
        local = timezone.localtime(self.computed_at)
        if local.date() == timezone.localdate():
            return f"{local:%H:%M}"
        return f"{local:%Y-%m-%d %H:%M}"


def store(key: str, data: dict[str, Any]) -> Stored:
    """Writes (or replaces) one key's figures: one statement, safe when two requests or the
    job and a request write the same key at once."""
    now = timezone.now()
    PrecomputedFigures.objects.bulk_create(
        [PrecomputedFigures(key=key, data=data, computed_at=now)],
        update_conflicts=True,
        unique_fields=["key"],
        update_fields=["data", "computed_at"],
    )
    return Stored(data, now)


@contextmanager
def working_memory() -> Iterator[None]:
    """On PostgreSQL, the figures are counted with 64 MB of ``work_mem`` for their transaction
    only. The natives' "has a destination" figure is an ``IN (SELECT talent_id ...)`` that
    PostgreSQL hashes only while the ids fit in ``work_mem`` (4 MB by default): at 1M talents
    (479k destinations) it fell back to comparing every native with every destination (cost
    2.75e9, over 60 s; with 32 MB, 1.96 s; docs/SCALING.md, measured growth)."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '64MB'")
        yield


def read(key: str, compute: Callable[[], dict[str, Any]]) -> Stored:
    """The stored figures of ``key`` (one query), or, when missing or stale, computed now and
    stored."""
    row = PrecomputedFigures.objects.filter(key=key).only("data", "computed_at").first()
    if row is not None and timezone.now() - row.computed_at <= STALE_AFTER:
        return Stored(row.data, row.computed_at)
    with working_memory():
        data = compute()
    return store(key, data)


# ---- what is stored -------------------------------------------------------------------------


def board_key(year: int) -> str:
    return f"board:{year}"


def compute_board(year: int) -> dict[str, Any]:
    """Every indicator's value for ``year`` as of today (the registry's ``measure_all``)."""
    from .indicators import Measured, measure_all

    today = timezone.localdate()
    return {"values": measure_all(Measured(year=year, today=min(today, dt.date(year, 12, 31))))}


def board_values(year: int) -> Stored:
    return read(board_key(year), lambda: compute_board(year))


def funnel_key(year: int) -> str:
    return f"funnel:{year}"


def compute_funnel(year: int) -> dict[str, Any]:
    from . import funnel

    return funnel.funnel_data(year=year)


def funnel_figures(year: int) -> Stored:
    return read(funnel_key(year), lambda: compute_funnel(year))


def public_key(year: int) -> str:
    return f"public:{year}"


def public_raw(year: int) -> Stored:
    from . import public

    return read(public_key(year), lambda: public.public_counts(year=year))


def figures_refresh() -> int:
    """The schedule's job (every ``CADENCE_MINUTES``): this year's board and public figures,
    the funnel of last year's cohort (the page's default) and of this year's. Idempotent.
    Returns the groups written."""
    from . import public

    year = timezone.localdate().year
    with working_memory():
        store(board_key(year), compute_board(year))
        store(public_key(year), public.public_counts(year=year))
        for cohort in (year - 1, year):
            store(funnel_key(cohort), compute_funnel(cohort))
    return 4
