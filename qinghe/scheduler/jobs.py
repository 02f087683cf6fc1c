"""A periodic job as declared in qinghe/scheduler/schedule.py, and its cadence.

The cadence is a five-field cron expression read in the project's time zone (Asia/Shanghai)
and evaluated by ``cronsim`` (the healthchecks.io parser): no timing arithmetic here."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, fields, is_dataclass
from typing import Any

from cronsim import CronSim, CronSimError
from django.utils import timezone
from django.utils.module_loading import import_string

# Counting the periods a scheduler slept through stops here (a job every minute, down for
# a week, would otherwise walk ten thousand dates to say "many").
MISSED_COUNT_LIMIT = 1000


@dataclass(frozen=True)
class Job:
    """One line of the schedule.

    ``target`` is the dotted path of a callable taking no arguments (a service: the job's
    own work must be idempotent, since a run that loses its lease may be done again), or the
    callable itself. ``summary`` formats what it returned for the run record: ``{0}`` is the
    result (``{0.talents}`` reads a field); without it an int reads "处理 N 条" and a
    dataclass its numeric fields."""

    name: str
    cron: str
    description: str
    target: str | Callable[[], Any]
    summary: str | None = None

    def __post_init__(self) -> None:
        try:
            CronSim(self.cron, dt.datetime(2000, 1, 1))
        except CronSimError as exc:
            raise ValueError(f"job {self.name}: bad cron expression {self.cron!r}: {exc}") from exc

    # -- cadence ---------------------------------------------------------------------------

    def due(self, now: dt.datetime) -> dt.datetime:
        """The latest scheduled time at or before ``now`` (the period a run now belongs to)."""
        local = timezone.localtime(now)
        # cronsim's reverse iteration starts strictly before its start: a microsecond later
        # makes a run at exactly 03:00:00 belong to 03:00.
        return next(CronSim(self.cron, local + dt.timedelta(microseconds=1), reverse=True))

    def next_after(self, now: dt.datetime) -> dt.datetime:
        return next(CronSim(self.cron, timezone.localtime(now)))

    def periods_between(self, earlier: dt.datetime, later: dt.datetime) -> int:
        """Scheduled times strictly between two of them (the periods nobody ran)."""
        count = 0
        for moment in CronSim(self.cron, timezone.localtime(earlier)):
            if moment >= later or count >= MISSED_COUNT_LIMIT:
                break
            count += 1
        return count

    # -- work ------------------------------------------------------------------------------

    @functools.cached_property
    def callable(self) -> Callable[[], Any]:
        if isinstance(self.target, str):
            found: Callable[[], Any] = import_string(self.target)
            return found
        return self.target

    def describe(self, result: Any) -> tuple[str, int | None]:
        """(summary text, count) of what the job returned."""
        count = result if isinstance(result, int) and not isinstance(result, bool) else None
        if self.summary is not None:
            return self.summary.format(result), count
        if result is None:
            return "", None
        if count is not None:
            return f"处理 {count} 条", count
        line = getattr(result, "summary_line", None)
        if isinstance(line, str):
            return line, None
        if is_dataclass(result) and not isinstance(result, type):
            parts = []
            for f in fields(result):
                value = getattr(result, f.name)
                if isinstance(value, bool) or not isinstance(value, int | float):
                    continue
                parts.append(
                    f"{f.name}={value:.1f}" if isinstance(value, float) else f"{f.name}={value}"
                )
            return " ".join(parts), None
        return str(result)[:500], None
