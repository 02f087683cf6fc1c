"""seed_demo's plan part: last month's snapshot computed from the demo rows and marked as
back-filled, last month's report in the archive; the board and the funnel are not empty;
running it twice adds nothing."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.utils import timezone

from qinghe.plan import board as board_module
from qinghe.plan import funnel
from qinghe.plan.demo import seed_plan
from qinghe.plan.models import IndicatorSnapshot, MonthlyReport
from qinghe.plan.selectors import natives
from qinghe.talents.demo import seed_talents

pytestmark = pytest.mark.django_db


def test_the_demo_fills_the_board_and_the_funnel_once(
    settings: Any, tmp_path: Any, personas: dict[str, Any], ref: Any
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    seed_talents(stdout=io.StringIO(), scale=60, seed=7)
    first = seed_plan()
    assert first["reports"] == 1 and first["snapshots"] > 0
    today = timezone.localdate()
    last_month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    snap = IndicatorSnapshot.objects.get(code="natives")
    assert (snap.month, snap.backfilled, snap.value) == (
        last_month,
        True,
        float(natives().count()),
    )
    assert snap.value > 0
    assert MonthlyReport.objects.get().month == last_month
    assert seed_plan() == {"snapshots": 0, "reports": 0}
    assert IndicatorSnapshot.objects.count() == first["snapshots"]
    b = board_module.board(
        year=last_month.year,
        today=today if last_month.year == today.year else dt.date(last_month.year, 12, 31),
    )
    assert b.has_backfilled
    rows = {r.indicator.code: r for r in b.rows}
    assert rows["natives"].value == natives().count() > 0
    by_year = funnel.breakdown(by="year", year=None)
    assert sum(f.counts["at_school"] for f in by_year) == natives().count()
    assert any(f.counts["employed"] for f in by_year)
