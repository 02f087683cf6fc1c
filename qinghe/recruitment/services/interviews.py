"""Interviews: an enterprise's time slots, invitations, the student's confirmation or request
to reschedule (every reason kept as an InterviewEvent), the enterprise's new time, reminders,
and the notes and result.

Online interviews link to an outside video service (https only); the platform does not carry
video itself."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from qinghe.core.audit import audit_record
from qinghe.core.errors import ApplicationError, NotFound, PermissionDenied
from qinghe.core.roles import Role
from qinghe.jobs.models import Posting

from .. import pipeline
from ..models import Application, Interview, InterviewSlot, Mode, PipelineStage
from ..selectors import OPEN_INTERVIEW_STATES
from .applications import application_transition, require_enterprise_side
from .stages import default_stage
from .timeline import (
    KIND_INVITED,
    KIND_REMINDER,
    KIND_RESCHEDULED,
    interview_event,
    message_event,
)

MAX_DURATION = dt.timedelta(hours=8)
REMINDER_WINDOW = dt.timedelta(hours=24)
https_only = URLValidator(schemes=["https"], message="请填写以 https:// 开头的有效视频会议链接")


def when_text(starts_at: dt.datetime, ends_at: dt.datetime) -> str:
    start, end = timezone.localtime(starts_at), timezone.localtime(ends_at)
    if start.date() == end.date():
        return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}"
    return f"{start:%Y-%m-%d %H:%M}–{end:%Y-%m-%d %H:%M}"


def place_text(mode: str, location: str, meeting_url: str) -> str:
    if mode == Mode.ONLINE:
        return f"线上视频，链接：{meeting_url}"
    return f"现场面试，地点：{location}"


@dataclass
class When:
    """A time and a place, as typed by the enterprise (for a slot, an invitation or a new
    time)."""

    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    mode: str = Mode.ONSITE
    location: str = ""
    meeting_url: str = ""

    def clean(self, *, now: dt.datetime) -> dict[str, Any]:
        errors: dict[str, str] = {}
        location = (self.location or "").strip()
        url = (self.meeting_url or "").strip()
        if self.starts_at is None:
            errors["starts_at"] = "请填写开始时间"
        elif self.starts_at <= now:
            errors["starts_at"] = "开始时间须晚于现在"
        if self.ends_at is None:
            errors["ends_at"] = "请填写结束时间"
        elif self.starts_at is not None and not (
            self.starts_at < self.ends_at <= self.starts_at + MAX_DURATION
        ):
            errors["ends_at"] = "结束时间须晚于开始时间，且一次面试不超过 8 小时"
        if self.mode not in Mode.values:
            errors["mode"] = "请选择面试方式"
        elif self.mode == Mode.ONLINE:
            if not url:
                errors["meeting_url"] = "线上面试请填写视频会议链接"
            else:
                try:
                    https_only(url)
                except ValidationError:
                    errors["meeting_url"] = str(https_only.message)
                if len(url) > 200:
                    errors["meeting_url"] = "链接不能超过 200 个字符"
            location = ""
        else:
            if not location:
                errors["location"] = "现场面试请填写地点"
            elif len(location) > 200:
                errors["location"] = "地点不能超过 200 字"
            url = ""
        if errors:
            raise ValidationError(errors)
        return {
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
            "mode": self.mode,
            "location": location,
            "meeting_url": url,
        }


def _require_owner(actor: Any, posting: Posting) -> None:
    if not (
        getattr(actor, "role", None) == Role.ENTERPRISE_HR
        and actor.organisation_id == posting.enterprise.organisation_id
    ):
        raise PermissionDenied("只能管理本企业岗位的面试")


def _free_slot(
    slot: InterviewSlot, *, posting_id: int, now: dt.datetime, skip: int | None = None
) -> InterviewSlot:
    """Locks a slot and checks it belongs to the posting, lies ahead and has room."""
    slot = InterviewSlot.objects.select_for_update().get(pk=slot.pk)
    if slot.posting_id != posting_id:
        raise NotFound("未找到该面试时段")
    if slot.starts_at <= now:
        raise ApplicationError("该面试时段已过")
    booked = (
        Interview.objects.filter(slot=slot, state__in=OPEN_INTERVIEW_STATES)
        .exclude(pk=skip or 0)
        .count()
    )
    if booked >= slot.capacity:
        raise ApplicationError("该面试时段已约满，请选择其他时段")
    return slot


def _slot_fields(slot: InterviewSlot) -> dict[str, Any]:
    return {
        "starts_at": slot.starts_at,
        "ends_at": slot.ends_at,
        "mode": slot.mode,
        "location": slot.location,
        "meeting_url": slot.meeting_url,
    }


def _time_and_place(
    *,
    slot: InterviewSlot | None,
    when: When | None,
    posting_id: int,
    now: dt.datetime,
    skip: int | None = None,
) -> tuple[InterviewSlot | None, dict[str, Any]]:
    if slot is not None:
        slot = _free_slot(slot, posting_id=posting_id, now=now, skip=skip)
        return slot, _slot_fields(slot)
    if when is None:
        raise ValidationError({"slot": "请选择面试时段，或填写面试时间与地点"})
    return None, when.clean(now=now)


# --- slots --------------------------------------------------------------------------------------


@transaction.atomic
def slot_create(
    *,
    actor: Any,
    posting: Posting,
    when: When,
    capacity: int = 1,
    now: dt.datetime | None = None,
    request: HttpRequest | None = None,
) -> InterviewSlot:
    now = now or timezone.now()
    posting = Posting.objects.select_related("enterprise").get(pk=posting.pk)
    _require_owner(actor, posting)
    if posting.state not in (Posting.State.PUBLISHED, Posting.State.CLOSED, Posting.State.EXPIRED):
        raise ApplicationError("岗位发布后才能安排面试时段")
    fields = when.clean(now=now)
    if not 1 <= int(capacity or 0) <= 200:
        raise ValidationError({"capacity": "可约人数应在 1 到 200 之间"})
    slot = InterviewSlot.objects.create(
        posting=posting, capacity=int(capacity), created_by=actor, **fields
    )
    audit_record(
        action="create",
        actor=actor,
        request=request,
        target=slot,
        summary=f"新增面试时段：{posting.title} {when_text(slot.starts_at, slot.ends_at)}",
    )
    return slot


# --- invitations and the student's answers ---------------------------------------------------------


def _invitation_text(application: Application, interview: Interview, *, lead: str) -> str:
    return (
        f"{lead}“{application.posting.title}”面试：{when_text(interview.starts_at, interview.ends_at)}，"
        f"{place_text(interview.mode, interview.location, interview.meeting_url)}。"
        "请在“我的投递”中确认，或写明原因申请改期。"
    )


@transaction.atomic
def interview_invite(
    *,
    actor: Any,
    application: Application,
    slot: InterviewSlot | None = None,
    when: When | None = None,
    now: dt.datetime | None = None,
    request: HttpRequest | None = None,
) -> Interview:
    """Invites an applicant to an interview (state 待确认) at a slot of the posting or at a
    time given here. Moves the application to 面试 when it is at an earlier stage; the student
    gets the invitation as a message either way."""
    now = now or timezone.now()
    application = (
        Application.objects.select_for_update(of=("self",))
        .select_related("stage", "posting", "enterprise")
        .get(pk=application.pk)
    )
    require_enterprise_side(actor, application)
    if application.stage.is_terminal:
        raise ApplicationError(f"申请已结束（{application.stage.name}），不能再安排面试")
    if application.interviews.filter(state__in=OPEN_INTERVIEW_STATES).exists():
        raise ApplicationError("该应聘者已有待进行的面试，请调整时间或先记录结果")
    slot, fields = _time_and_place(slot=slot, when=when, posting_id=application.posting_id, now=now)
    interview = Interview.objects.create(
        application=application,
        slot=slot,
        state=Interview.State.PROPOSED,
        created_by=actor,
        **fields,
    )
    interview_event(interview, "invite", actor=actor, new=interview.starts_at, now=now)
    text = _invitation_text(application, interview, lead="邀请你参加")
    interview_stage = default_stage(pipeline.INTERVIEW)
    if application.stage.position < interview_stage.position and application.hired_at is None:
        application_transition(
            actor=actor,
            application=application,
            stage=interview_stage,
            note="安排面试",
            extra_message=text,
            kind=KIND_INVITED,
            now=now,
            request=request,
        )
    else:
        message_event(application=application, text=text, kind=KIND_INVITED, actor=actor, now=now)
    audit_record(
        action="create",
        actor=actor,
        request=request,
        target=interview,
        summary=f"邀请面试：申请 #{application.pk} {when_text(interview.starts_at, interview.ends_at)}",
    )
    return interview


def _student_interview(actor: Any, interview: Interview) -> Interview:
    interview = (
        Interview.objects.select_for_update(of=("self",))
        .select_related("application", "application__posting", "application__enterprise")
        .get(pk=interview.pk)
    )
    application = interview.application
    if not (
        getattr(actor, "role", None) in (Role.STUDENT, Role.AMBASSADOR)
        and actor.pk == application.applicant_id
    ):
        raise NotFound()
    return interview


@transaction.atomic
def interview_confirm(
    *,
    actor: Any,
    interview: Interview,
    slot: InterviewSlot | None = None,
    now: dt.datetime | None = None,
    request: HttpRequest | None = None,
) -> Interview:
    """The student confirms the proposed time, or picks another free slot of the posting."""
    now = now or timezone.now()
    interview = _student_interview(actor, interview)
    if interview.state not in (Interview.State.PROPOSED, Interview.State.RESCHEDULE_REQUESTED):
        raise ApplicationError(f"面试当前为“{interview.get_state_display()}”，不能确认")
    if interview.starts_at <= now and slot is None:
        raise ApplicationError("面试时间已过，请申请改期")
    old = interview.starts_at
    update = ["state", "updated_at"]
    if slot is not None and slot.pk != interview.slot_id:
        slot = _free_slot(
            slot, posting_id=interview.application.posting_id, now=now, skip=interview.pk
        )
        for name, value in _slot_fields(slot).items():
            setattr(interview, name, value)
        interview.slot = slot
        interview.reminder_sent_at = None
        update += [
            "slot",
            "starts_at",
            "ends_at",
            "mode",
            "location",
            "meeting_url",
            "reminder_sent_at",
        ]
    interview.state = Interview.State.CONFIRMED
    interview.save(update_fields=update)
    moved = interview.starts_at != old
    interview_event(
        interview,
        "confirm",
        actor=actor,
        old=old if moved else None,
        new=interview.starts_at if moved else None,
        now=now,
    )
    audit_record(
        action="update",
        actor=actor,
        request=request,
        target=interview,
        summary=f"确认面试：{when_text(interview.starts_at, interview.ends_at)}",
    )
    return interview


@transaction.atomic
def interview_request_reschedule(
    *,
    actor: Any,
    interview: Interview,
    reason: str,
    now: dt.datetime | None = None,
    request: HttpRequest | None = None,
) -> Interview:
    """The student asks for another time; the reason is kept for good."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not 2 <= len(reason) <= 500:
        raise ValidationError({"reason": "请写明改期原因（2 到 500 字）"})
    interview = _student_interview(actor, interview)
    if interview.state not in (Interview.State.PROPOSED, Interview.State.CONFIRMED):
        raise ApplicationError(f"面试当前为“{interview.get_state_display()}”，不能申请改期")
    interview.state = Interview.State.RESCHEDULE_REQUESTED
    interview.save(update_fields=["state", "updated_at"])
    interview_event(
        interview,
        "reschedule_request",
        actor=actor,
        reason=reason,
        old=interview.starts_at,
        now=now,
    )
    audit_record(
        action="update",
        actor=actor,
        request=request,
        target=interview,
        summary="学生申请面试改期",
        reason=reason,
    )
    return interview


# --- the enterprise's side -----------------------------------------------------------------------


def _enterprise_interview(actor: Any, interview: Interview) -> Interview:
    interview = (
        Interview.objects.select_for_update(of=("self",))
        .select_related(
            "application", "application__posting", "application__enterprise", "application__stage"
        )
        .get(pk=interview.pk)
    )
    require_enterprise_side(actor, interview.application)
    return interview


@transaction.atomic
def interview_reschedule(
    *,
    actor: Any,
    interview: Interview,
    slot: InterviewSlot | None = None,
    when: When | None = None,
    reason: str = "",
    now: dt.datetime | None = None,
    request: HttpRequest | None = None,
) -> Interview:
    """The enterprise proposes a new time (after a request, or of its own accord). The student
    is asked to confirm again and will be reminded again."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if len(reason) > 500:
        raise ValidationError({"reason": "说明不能超过 500 字"})
    interview = _enterprise_interview(actor, interview)
    if interview.state not in OPEN_INTERVIEW_STATES:
        raise ApplicationError(f"面试当前为“{interview.get_state_display()}”，不能调整时间")
    application = interview.application
    slot, fields = _time_and_place(
        slot=slot, when=when, posting_id=application.posting_id, now=now, skip=interview.pk
    )
    old = interview.starts_at
    for name, value in fields.items():
        setattr(interview, name, value)
    interview.slot = slot
    interview.state = Interview.State.PROPOSED
    interview.reminder_sent_at = None
    interview.save()
    interview_event(
        interview,
        "reschedule",
        actor=actor,
        reason=reason,
        old=old,
        new=interview.starts_at,
        now=now,
    )
    text = _invitation_text(application, interview, lead="面试时间已调整，")
    if reason:
        text += f"（说明：{reason}）"
    message_event(application=application, text=text, kind=KIND_RESCHEDULED, actor=actor, now=now)
    audit_record(
        action="update",
        actor=actor,
        request=request,
        target=interview,
        summary=f"调整面试时间：{when_text(interview.starts_at, interview.ends_at)}",
        reason=reason,
    )
    return interview


RESULTS = (Interview.Result.PASSED, Interview.Result.FAILED, Interview.Result.NO_SHOW)


@transaction.atomic
def interview_record_result(
    *,
    actor: Any,
    interview: Interview,
    result: str,
    notes: str = "",
    stage: PipelineStage | None = None,
    now: dt.datetime | None = None,
    request: HttpRequest | None = None,
) -> Interview:
    """After the interview has begun: the enterprise's notes (internal, never shown to the
    student) and result; optionally moves the application on (through the one transition
    service)."""
    now = now or timezone.now()
    notes = (notes or "").strip()
    if result not in RESULTS:
        raise ValidationError({"result": "请选择面试结果"})
    if len(notes) > 5000:
        raise ValidationError({"notes": "面试记录不能超过 5000 字"})
    interview = _enterprise_interview(actor, interview)
    if interview.state not in OPEN_INTERVIEW_STATES:
        raise ApplicationError(f"面试当前为“{interview.get_state_display()}”，不能记录结果")
    if interview.starts_at > now:
        raise ApplicationError("面试开始后才能记录结果")
    interview.result = result
    interview.notes = notes
    interview.state = Interview.State.DONE
    interview.save(update_fields=["result", "notes", "state", "updated_at"])
    label = Interview.Result(result).label
    interview_event(interview, "result", actor=actor, reason=f"结果：{label}", now=now)
    audit_record(
        action="update",
        actor=actor,
        request=request,
        target=interview,
        summary=f"记录面试结果：申请 #{interview.application_id} {label}",
    )
    if stage is not None:
        application_transition(
            actor=actor,
            application=interview.application,
            stage=stage,
            note=f"面试结果：{label}",
            now=now,
            request=request,
        )
    return interview


# --- reminders ------------------------------------------------------------------------------------


def interview_reminders_send(*, now: dt.datetime | None = None) -> int:
    """Reminds the student of each interview (待确认 or 已确认) that starts within 24 hours and
    has not been reminded: an in-app message (e-mailed too) and an InterviewEvent. Never twice:
    ``reminder_sent_at`` is claimed by a conditional UPDATE before anything is written, so two
    workers running at once remind once. A new time (reschedule) clears it."""
    now = now or timezone.now()
    due = list(
        Interview.objects.filter(
            state__in=(Interview.State.PROPOSED, Interview.State.CONFIRMED),
            reminder_sent_at__isnull=True,
            starts_at__gt=now,
            starts_at__lte=now + REMINDER_WINDOW,
        )
        .filter(~Q(application__stage__is_terminal=True))
        .values_list("pk", flat=True)
    )
    sent = 0
    for pk in due:
        with transaction.atomic():
            claimed = Interview.objects.filter(pk=pk, reminder_sent_at__isnull=True).update(
                reminder_sent_at=now
            )
            if not claimed:
                continue
            interview = Interview.objects.select_related("application", "application__posting").get(
                pk=pk
            )
            application = interview.application
            interview_event(interview, "reminder", actor=None, now=now)
            confirm = (
                ""
                if interview.state == Interview.State.CONFIRMED
                else "你尚未确认，请尽快确认或申请改期。"
            )
            message_event(
                application=application,
                text=(
                    f"提醒：你在“{application.posting.title}”的面试将于 "
                    f"{when_text(interview.starts_at, interview.ends_at)} 进行，"
                    f"{place_text(interview.mode, interview.location, interview.meeting_url)}。{confirm}"
                ),
                kind=KIND_REMINDER,
                now=now,
            )
            sent += 1
    return sent
