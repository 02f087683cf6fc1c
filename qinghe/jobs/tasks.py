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


@task()
def email_student_message(event_id: int) -> bool:
    """E-mails the message of one ApplicationEvent to the student (queued on commit by the
    pipeline's services). True when a mail went out."""
    from .notify import student_message_email

    return student_message_email(event_id=event_id)


@task()
def send_interview_reminders() -> int:
    """Reminds students of interviews within 24 hours (never twice). Run every 15 minutes or
    so (cron: ``manage.py send_interview_reminders``, or enqueue this task)."""
    from .interviews import interview_reminders_send

    return interview_reminders_send()
