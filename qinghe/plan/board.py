"""The 十个一 board: every indicator of the registry (indicators.py) with its goal, its monthly
trend (month-end snapshots plus the live value of the current month) and, for indicators with a
yearly goal, the burn-down of what remains. A fixed number of queries: the year's target, the
year's snapshots and — for the current year — the live values, which the page reads precomputed
(qinghe.plan.precomputed, one row) and the report computes from the registry's groups."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse
from django.utils import timezone

from .indicators import INDICATORS, MEASURES, Indicator, Measured, Value, measure_all
from .models import IndicatorSnapshot

MONTHS = [f"{m}月" for m in range(1, 13)]


@dataclass(frozen=True)
class Point:
    month: int
    value: Value
    live: bool = False
    backfilled: bool = False


@dataclass
class Row:
    indicator: Indicator
    value: Value
    goal: int | None
    trend: list[Point]
    url: str = ""

    @property
    def has_data(self) -> bool:
        return self.value is not None

    @property
    def percent(self) -> int | None:
        if self.goal is None or self.value is None:
            return None
        return min(100, round(self.value * 100 / self.goal)) if self.goal else 100

    @property
    def remaining(self) -> float | None:
        if self.goal is None or self.value is None:
            return None
        return max(0, self.goal - self.value)

    @property
    def shown(self) -> str:
        return show_value(self.value)

    @property
    def trend_shown(self) -> list[tuple[str, str, str]]:
        """Months with a value: (month, value, note) — note 本月 for the live month (the current value), 补记 for
        a back-filled snapshot. Months without a record are left out (the table of the
        burn-down shows them as —)."""
        return [
            (
                MONTHS[p.month - 1],
                show_value(p.value),
                "本月" if p.live else "补记" if p.backfilled else "",
            )
            for p in self.trend
            if p.value is not None
        ]


@dataclass
class Measure:
    number: int
    title: str
    rows: list[Row] = field(default_factory=list)

    @property
    def owners(self) -> str:
        seen: list[str] = []
        for row in self.rows:
            if row.indicator.owner not in seen:
                seen.append(row.indicator.owner)
        return "、".join(seen)


@dataclass
class Board:
    year: int
    measures: list[Measure]
    has_backfilled: bool
    # When the live values were computed (precomputed figures), shown as 数据更新于 …
    computed_at: str = ""

    @property
    def rows(self) -> list[Row]:
        return [row for m in self.measures for row in m.rows]

    def burndown_rows(self) -> list[Row]:
        return [row for row in self.rows if row.goal is not None]


def show_value(value: Value) -> str:
    if value is None:
        return "尚无数据"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def board(
    *,
    year: int,
    today: dt.date | None = None,
    values: dict[str, Value] | None = None,
    computed_at: str = "",
) -> Board:
    """``values``: the live values of the current year (precomputed); computed from the rows
    when not given. A past or future year needs none: its figures are month-end snapshots."""
    today = today or timezone.localdate()
    live_year = today.year == year
    measured = Measured(year=year, today=min(today, dt.date(year, 12, 31)))
    target = measured.target
    if live_year and values is None:
        values = measure_all(measured)
    snaps: dict[tuple[str, int], IndicatorSnapshot] = {
        (s.code, s.month.month): s
        for s in IndicatorSnapshot.objects.filter(month__year=year).only(
            "code", "month", "value", "backfilled"
        )
    }
    measures = {n: Measure(n, title) for n, title in MEASURES.items()}
    for ind in INDICATORS:
        value = values.get(ind.code) if live_year and values is not None else None
        trend: list[Point] = []
        last_month = today.month if live_year else (12 if year < today.year else 0)
        for month in range(1, last_month + 1):
            if live_year and month == today.month:
                trend.append(Point(month, value, live=True))
                continue
            snap = snaps.get((ind.code, month))
            trend.append(
                Point(
                    month,
                    snap.value if snap else None,
                    backfilled=bool(snap and snap.backfilled),
                )
            )
        if not live_year:
            # A past year's headline is its last month-end snapshot, not today's count.
            value = next((p.value for p in reversed(trend) if p.value is not None), None)
            if year > today.year:
                value = None
        goal = getattr(target, ind.target_field) if ind.target_field else None
        url = (
            reverse(ind.link) + (f"?{ind.link_query}" if ind.link_query else "") if ind.link else ""
        )
        measures[ind.measure].rows.append(Row(ind, value, goal, trend, url))
    return Board(
        year=year,
        measures=list(measures.values()),
        has_backfilled=any(s.backfilled for s in snaps.values()),
        computed_at=computed_at if live_year else "",
    )


def burndown_chart(b: Board) -> dict[str, Any]:
    """ECharts lines: what remains of each yearly goal at each month's end (the table beside
    the chart carries the same numbers)."""
    series = []
    for row in b.burndown_rows():
        goal = row.goal or 0
        data: list[float | None] = [None] * 12
        for p in row.trend:
            data[p.month - 1] = None if p.value is None else max(0, goal - p.value)
        series.append(
            {"name": row.indicator.name, "type": "line", "data": data, "connectNulls": True}
        )
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"type": "scroll", "bottom": 0},
        "grid": {"left": 50, "right": 20, "top": 20, "bottom": 60},
        "xAxis": {"type": "category", "data": MONTHS},
        "yAxis": {"type": "value", "name": "剩余"},
        "series": series,
    }


def burndown_table(b: Board) -> list[tuple[Row, list[str]]]:
    out = []
    for row in b.burndown_rows():
        goal = row.goal or 0
        cells = ["" for _ in range(12)]
        for p in row.trend:
            cells[p.month - 1] = "—" if p.value is None else show_value(max(0, goal - p.value))
        out.append((row, cells))
    return out
