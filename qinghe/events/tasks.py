"""Thin task wrappers: take ids (or nothing), call one service."""

from __future__ import annotations

from django_tasks import task

from .services import event_reminders_send


@task()
def send_event_reminders() -> int:
    """Reminds confirmed registrants of events starting within 24 hours (once each). Run
    hourly (cron: ``manage.py send_event_reminders``, or enqueue this task)."""
    return event_reminders_send()
