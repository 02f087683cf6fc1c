"""E-mail for the messages the pipeline sends a student. The message itself is the
ApplicationEvent (shown on the student's timeline); e-mail is a copy for those with an
address. No personal information beyond the student's own application goes in it."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail

from qinghe.core.masking import scrub_text

from .models import ApplicationEvent


def student_address(event: ApplicationEvent) -> str:
    application = event.application
    user = application.applicant
    if user is None or not user.is_active:
        return ""
    return (user.email or application.talent.email or "").strip()


def student_message_email(*, event_id: int) -> bool:
    event = (
        ApplicationEvent.objects.select_related(
            "application", "application__applicant", "application__talent", "application__posting"
        )
        .filter(pk=event_id)
        .first()
    )
    if event is None or not event.message:
        return False
    address = student_address(event)
    if not address:
        return False
    posting = event.application.posting
    send_mail(
        subject=f"【青鹤】{posting.title}：投递进度通知",
        message=scrub_text(
            f"{event.message}\n\n详情请登录青鹤平台，在“我的投递”中查看。\n"
            "（本邮件由系统发送，请勿直接回复。）"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[address],
        fail_silently=True,
    )
    return True
