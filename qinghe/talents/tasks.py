"""Thin task wrappers: take ids, call one service."""

from __future__ import annotations

from django_tasks import task

from .importing.chunks import ImportConflict
from .importing.run import survey_import_run


@task()
def run_import(batch_id: int) -> str:
    """Imports (or resumes) a survey batch in the background; returns its summary line.
    When another worker is already on this batch, this one steps aside."""
    try:
        return survey_import_run(batch_id=batch_id).summary_line
    except ImportConflict as exc:
        return exc.message
