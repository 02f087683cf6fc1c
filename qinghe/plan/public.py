"""Figures for the public and the press (no sign-in): aggregates only, with small-cell
suppression so that no one can be picked out.

- A count of people from 1 to ``THRESHOLD - 1`` is never shown: it reads "<5" (primary).
- A line of cells shown with its total is protected against subtraction (complementary
  suppression): more cells are hidden ("*") until the total tells nothing about any primary
  cell — each one could still be any of 1..4 given everything shown — or, when no such choice
  exists, the total itself is hidden.

``suppress_line`` is pure; qinghe/plan/tests/test_public.py checks it against every
assignment an attacker could try."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count
from django.utils import timezone

THRESHOLD = 5
SMALL = f"<{THRESHOLD}"
HIDDEN = "*"


@dataclass(frozen=True)
class Line:
    labels: list[str]
    cells: list[str]
    total: str

    @property
    def rows(self) -> list[tuple[str, str]]:
        return list(zip(self.labels, self.cells, strict=True))


def show_count(value: int, threshold: int = THRESHOLD) -> str:
    """One count of people on its own: "<5" from 1 to 4."""
    return f"<{threshold}" if 0 < value < threshold else str(value)


def _total_tells_nothing(
    values: Sequence[int], primary: set[int], hidden: set[int], threshold: int
) -> bool:
    """Given the shown cells and the total, can each primary cell still be any of
    1..threshold-1? Hidden primaries lie in [1, t-1], hidden secondaries in [t, ∞)."""
    hidden_sum = sum(values[i] for i in hidden)
    low = {i: (1 if i in primary else threshold) for i in hidden}
    secondaries = hidden - primary
    for i in primary:
        others_low = sum(low[j] for j in hidden if j != i)
        if hidden_sum - others_low < threshold - 1:  # the total caps cell i below t-1
            return False
        if not secondaries:
            others_high = (threshold - 1) * (len(hidden) - 1)
            if hidden_sum - others_high > 1:  # the total forces cell i above 1
                return False
    return True


def suppress_line(values: Sequence[int], threshold: int = THRESHOLD) -> tuple[list[str], str]:
    """The cells and the total of one line as they may be shown."""
    total = sum(values)
    primary = {i for i, v in enumerate(values) if 0 < v < threshold}
    hidden = set(primary)
    total_shown = True
    if primary:
        candidates = sorted(
            (i for i, v in enumerate(values) if v >= threshold), key=lambda i: (values[i], i)
        )
        while not _total_tells_nothing(values, primary, hidden, threshold):
            if not candidates:
                total_shown = False
                break
            hidden.add(candidates.pop(0))
    cells = [
        (f"<{threshold}" if i in primary else HIDDEN) if i in hidden else str(v)
        for i, v in enumerate(values)
    ]
    # A total under the threshold always has a primary cell and no way to protect it: hidden.
    return cells, str(total) if total_shown else HIDDEN


@dataclass(frozen=True)
class PublicFigures:
    year: int
    members: str
    universities: int
    cities: int
    events: int
    postings: int
    quality_jobs: int
    returns: Line
    computed_at: str = ""


def public_counts(*, year: int) -> dict[str, Any]:
    """The raw counts behind the public page for ``year`` (five queries), as JSON: kept by the
    precomputed figures (qinghe.plan.precomputed); the suppression is applied when shown,
    never stored."""
    from qinghe.alliance.selectors import counts_for_plan
    from qinghe.jobs.models import Posting
    from qinghe.talents.models import Talent

    from . import selectors

    start, end = selectors.year_bounds(year)
    alliance = counts_for_plan()
    years = list(range(year - 4, year + 1))
    by_year = dict(
        selectors.natives()
        .filter(status=Talent.Status.EMPLOYED_HESHAN, graduation_year__in=years)
        .values("graduation_year")
        .annotate(n=Count("id"))
        .values_list("graduation_year", "n")
    )
    return {
        "members": alliance["members"],
        "universities": alliance["universities"],
        "cities": alliance["cities"],
        "events": selectors.events_held_in_year(year=year).count(),
        "postings": Posting.objects.filter(published_at__gte=start, published_at__lt=end).count(),
        "quality_jobs": selectors.quality_jobs_in_year(year=year).count(),
        "returns": [[y, int(by_year.get(y, 0))] for y in years],
    }


def public_figures(*, today: dt.date | None = None) -> PublicFigures:
    """The page's figures: the precomputed counts of the year (one row; computed in the
    request when missing or stale), small cells suppressed here."""
    from .precomputed import public_raw

    today = today or timezone.localdate()
    stored = public_raw(today.year)
    return figures_from(stored.data, year=today.year, computed_at=stored.shown)


def figures_from(raw: dict[str, Any], *, year: int, computed_at: str = "") -> PublicFigures:
    years = [int(y) for y, _n in raw["returns"]]
    cells, total = suppress_line([int(n) for _y, n in raw["returns"]])
    return PublicFigures(
        year=year,
        members=show_count(int(raw["members"])),
        universities=int(raw["universities"]),
        cities=int(raw["cities"]),
        events=int(raw["events"]),
        postings=int(raw["postings"]),
        quality_jobs=int(raw["quality_jobs"]),
        returns=Line([f"{y} 届" for y in years], cells, total),
        computed_at=computed_at,
    )
