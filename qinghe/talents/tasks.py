"""Thin task wrappers: take ids, call one service."""

from __future__ import annotations

from django_tasks import task

from .importing import survey_import_run


@task()
def run_import(batch_id: int) -> str:
    """Imports (or resumes) a survey batch in the background; returns its summary line."""
    return survey_import_run(batch_id=batch_id).summary_line
