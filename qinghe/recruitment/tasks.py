"""Thin task wrappers: take ids (or nothing), call one service."""

from __future__ import annotations

from django_tasks import task

from .services.interviews import interview_reminders_send


@task()
def send_interview_reminders() -> int:
    """Reminds students of interviews within 24 hours (never twice). Run every 15 minutes or
    so (cron: ``manage.py send_interview_reminders``, or enqueue this task)."""
    return interview_reminders_send()
