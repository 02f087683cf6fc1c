"""The low-level writes both the application and the interview services make: timeline
events, the messages to the people concerned (always through the outbox,
``qinghe.notifications.services.notify``, inside the caller's transaction, so a rollback
queues nothing), and the cancellation of open interviews when an application ends.

Nothing here imports the other service modules: applications.py and interviews.py both build
on it, and interviews.py builds on applications.py, never the reverse."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.core.roles import Role
from qinghe.notifications.models import Category, Channel
from qinghe.notifications.services import make_key, notify

from .. import pipeline
from ..models import Application, ApplicationEvent, Interview, InterviewEvent, PipelineStage
from ..selectors import OPEN_INTERVIEW_STATES

# What each message is about (OutboxMessage.template): the pipeline's kinds of message.
KIND_APPLIED = "recruitment.applied"  # to the student: the 已投递 stage's message
KIND_NEW_APPLICATION = "recruitment.new_application"  # to the enterprise's HR users
KIND_STAGE = "recruitment.stage_changed"
KIND_INVITED = "recruitment.interview_invited"
KIND_RESCHEDULED = "recruitment.interview_rescheduled"
KIND_REMINDER = "recruitment.interview_reminder"
KIND_MESSAGE = "recruitment.message"
# WeChat reaches only students who bound it (notifications.services.Audience).
STUDENT_CHANNELS = (Channel.INBOX, Channel.EMAIL, Channel.WECHAT)
HR_CHANNELS = (Channel.INBOX, Channel.EMAIL)


def notify_student(*, event: ApplicationEvent, kind: str) -> None:
    """The student's copy of an event's message (inbox and e-mail), keyed by the event so it
    is queued once. Nothing when the applicant account is gone or inactive."""
    application = event.application
    user = application.applicant
    if user is None or not user.is_active or not event.message:
        return
    url = reverse("recruitment:my_application", args=[application.pk])
    notify(
        user=user,
        channels=STUDENT_CHANNELS,
        category=Category.SYSTEM,
        subject=f"【青鹤】{application.posting.title}：投递进度通知",
        body=f"{event.message}\n\n详情请登录青鹤平台，在“我的投递”中查看。",
        key=make_key("application-event", event.pk),
        template=kind,
        data={"url": url, "application": application.pk, "event": event.pk},
    )


def enterprise_hr_users(*, application: Application) -> QuerySet[User]:
    return User.objects.filter(
        organisation_id=application.enterprise.organisation_id,
        role=Role.ENTERPRISE_HR,
        is_active=True,
    ).order_by("pk")


def notify_enterprise_new_application(*, application: Application) -> None:
    """Tells every active HR user of the enterprise that a student applied. No personal
    information in the text: the applicant's details are on the page the link opens."""
    url = reverse("recruitment:applicant", args=[application.pk])
    for user in enterprise_hr_users(application=application):
        notify(
            user=user,
            channels=HR_CHANNELS,
            category=Category.SYSTEM,
            subject=f"【青鹤】“{application.posting.title}”收到新的投递",
            body=f"“{application.posting.title}”收到一份新的投递，请登录青鹤平台查看应聘者。",
            key=make_key("application-new", application.pk),
            template=KIND_NEW_APPLICATION,
            data={"url": url, "application": application.pk},
        )


def message_event(
    *,
    application: Application,
    text: str,
    kind: str = KIND_MESSAGE,
    actor: User | None = None,
    now: dt.datetime | None = None,
) -> ApplicationEvent:
    """An in-app message to the student (shown on their timeline), queued in the outbox."""
    event = ApplicationEvent.objects.create(
        application=application,
        action=ApplicationEvent.Action.MESSAGE,
        from_stage=application.stage,
        to_stage=application.stage,
        message=text,
        message_sent=True,
        actor=actor,
        created_at=now or timezone.now(),
    )
    notify_student(event=event, kind=kind)
    return event


def stage_message(stage: PipelineStage, application: Application) -> str:
    if not stage.notify_student or not stage.message_template:
        return ""
    return pipeline.render_message(
        stage.message_template,
        posting=application.posting.title,
        enterprise=application.enterprise.name,
    )


def interview_event(
    interview: Interview,
    action: str,
    *,
    actor: User | None,
    reason: str = "",
    old: dt.datetime | None = None,
    new: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> InterviewEvent:
    return InterviewEvent.objects.create(
        interview=interview,
        action=action,
        reason=reason[:500],
        old_starts_at=old,
        new_starts_at=new,
        actor=actor,
        created_at=now or timezone.now(),
    )


def interviews_cancel_open(*, application: Application, actor: User | None, reason: str) -> int:
    """Cancels the open interviews of an application that has ended (called by the
    transition service, inside its transaction)."""
    cancelled = 0
    for interview in application.interviews.select_for_update().filter(
        state__in=OPEN_INTERVIEW_STATES
    ):
        interview.state = Interview.State.CANCELLED
        interview.save(update_fields=["state", "updated_at"])
        interview_event(interview, "cancel", actor=actor, reason=reason)
        cancelled += 1
    return cancelled
