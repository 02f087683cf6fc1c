"""Demo for the plan's board: last month's indicator snapshot, computed now from the demo's own
rows and marked 补记 (back-filled: it was not taken at that month's end), and last month's
report in the archive. Both idempotent (a month already recorded is left as it is)."""

from __future__ import annotations

from typing import Any

from .services import monthly_report_scheduled, snapshots_record


def seed_plan(*, stdout: Any = None, scale: int = 0, seed: int = 0) -> dict[str, int]:
    snapshots = snapshots_record(backfilled=True)
    reports = monthly_report_scheduled()
    if stdout is not None:
        stdout.write(f"plan: {snapshots} indicator snapshots (补记), {reports} monthly report")
    return {"snapshots": snapshots, "reports": reports}
