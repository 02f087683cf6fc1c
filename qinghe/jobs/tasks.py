"""Thin task wrappers: take ids (or nothing), call one service."""

from __future__ import annotations

from django_tasks import task

from .services import postings_expire


@task()
def expire_postings() -> int:
    """Moves published postings past their closing date to 'expired'; returns how many.
    Run daily (cron: ``manage.py expire_postings``, or enqueue this task). Until it runs, the
    read-time guard (Posting.accepts_applications, selectors.open_postings) already hides them."""
    return postings_expire()
