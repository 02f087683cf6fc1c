"""Thin task wrappers: take ids, call one service."""

from __future__ import annotations

from django_tasks import task

from .services import export_run, exports_purge


@task()
def run_export(export_id: int) -> str:
    """Writes a queued export's file in the background; returns its state."""
    return export_run(export_id=export_id).state


@task()
def purge_exports() -> str:
    return exports_purge().summary_line
