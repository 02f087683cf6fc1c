"""Interviews: an enterprise's time slots, invitations, the student's confirmation or request
to reschedule (every reason kept as an InterviewEvent), the enterprise's new time, reminders,
and the notes and result.

Every change of an interview's state after the invitation is a move of ``INTERVIEW_WORKFLOW``
on the one engine (``qinghe.core.workflow``); the public functions below keep their names and
arguments and call ``interview_transition``.

Online interviews link to an outside video service (https only); 视频面试 (``Mode.VIDEO``) are
held in the platform's own video room (qinghe.video): the interview's ``meeting_url`` is the
room's join link, made when the interview is invited or moved to that mode."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.core.audit import audit_record
from qinghe.core.errors import ApplicationError, NotFound, PermissionDenied
from qinghe.core.roles import Role
from qinghe.core.workflow import Move, Step, Workflow, table, transition
from qinghe.jobs.models import Posting

from .. import pipeline
from ..models import (
    Application,
    Interview,
    InterviewEvent,
    InterviewSlot,
    Mode,
    PipelineStage,
)
from ..selectors import OPEN_INTERVIEW_STATES
from .applications import SELF_ROLES, application_transition, require_enterprise_side
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
    if mode == Mode.VIDEO:
        return f"平台视频面试，请准时打开加入链接（可先检测摄像头和麦克风）：{meeting_url}"
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
        elif self.mode == Mode.VIDEO:
            location, url = "", ""
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


def _require_owner(actor: User, posting: Posting) -> None:
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
    actor: User,
    posting: Posting,
    when: When,
    capacity: int = 1,
    now: dt.datetime | None = None,
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
        target=slot,
        summary=f"新增面试时段：{posting.title} {when_text(slot.starts_at, slot.ends_at)}",
    )
    return slot


# --- invitations and the student's answers ---------------------------------------------------------


def _video_link(interview: Interview) -> str:
    """The join link of the interview's video room (made on first use; the room follows the
    interview's time)."""
    from django.conf import settings
    from django.urls import reverse

    from qinghe.video.services import room_for_interview

    room = room_for_interview(interview)
    return settings.SITE_URL.rstrip("/") + reverse("video:room", args=[room.uuid])


def _invitation_text(application: Application, interview: Interview, *, lead: str) -> str:
    return (
        f"{lead}“{application.posting.title}”面试：{when_text(interview.starts_at, interview.ends_at)}，"
        f"{place_text(interview.mode, interview.location, interview.meeting_url)}。"
        "请在“我的投递”中确认，或写明原因申请改期。"
    )


@transaction.atomic
def interview_invite(
    *,
    actor: User,
    application: Application,
    slot: InterviewSlot | None = None,
    when: When | None = None,
    now: dt.datetime | None = None,
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
    if interview.mode == Mode.VIDEO:
        interview.meeting_url = _video_link(interview)
        interview.save(update_fields=["meeting_url"])
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
        )
    else:
        message_event(application=application, text=text, kind=KIND_INVITED, actor=actor, now=now)
    audit_record(
        action="create",
        actor=actor,
        target=interview,
        summary=f"邀请面试：申请 #{application.pk} {when_text(interview.starts_at, interview.ends_at)}",
    )
    return interview


# --- the interview workflow --------------------------------------------------------------------
#
# Every change of an interview's state after the invitation is a move of INTERVIEW_WORKFLOW, run by
# ``qinghe.core.workflow.transition``: it locks the interview, checks the party, the caller's
# arguments (``validate``), the state and the interview's own rules (``guard``), then saves the
# changed fields, writes the InterviewEvent (``event``) and the audit row, and queues the student's
# message (``effects``: ``notify`` writes its outbox rows in the same transaction). A refused move
# raises before anything is written. The cancellation of open interviews when an application ends
# is part of the application's move (``timeline.interviews_cancel_open``), not a move here.

# Who moves an interview: the applicant, or the enterprise (its own applicant, sharing in force).
STUDENT = pipeline.STUDENT
ENTERPRISE = pipeline.ENTERPRISE
S = Interview.State
OPEN = frozenset(OPEN_INTERVIEW_STATES)
# A party making the other party's move (only by calling the service directly: the pages and
# the API fetch the interview through the party's own selector first).
STUDENT_ONLY = "只有应聘学生本人可以确认面试或申请改期"
ENTERPRISE_ONLY = "只有招聘企业可以调整面试时间或记录结果"

INTERVIEW_TRANSITIONS: dict[str, Move] = table(
    # The student confirms the proposed time, or picks another free slot of the posting.
    Move(
        "confirm",
        "确认",
        frozenset({S.PROPOSED, S.RESCHEDULE_REQUESTED}),
        S.CONFIRMED,
        frozenset({STUDENT}),
        denied=STUDENT_ONLY,
        checks=frozenset({"ahead_or_new_slot"}),
    ),
    # The student asks for another time; the reason is kept for good.
    Move(
        "reschedule_request",
        "申请改期",
        frozenset({S.PROPOSED, S.CONFIRMED}),
        S.RESCHEDULE_REQUESTED,
        frozenset({STUDENT}),
        denied=STUDENT_ONLY,
    ),
    # The enterprise proposes a new time (after a request, or of its own accord).
    Move(
        "reschedule", "调整时间", OPEN, S.PROPOSED, frozenset({ENTERPRISE}), denied=ENTERPRISE_ONLY
    ),
    # The enterprise records the result once the interview has begun.
    Move(
        "result",
        "记录结果",
        OPEN,
        S.DONE,
        frozenset({ENTERPRISE}),
        denied=ENTERPRISE_ONLY,
        checks=frozenset({"begun"}),
    ),
)

RESULTS = (Interview.Result.PASSED, Interview.Result.FAILED, Interview.Result.NO_SHOW)
SLOT_FIELDS = [
    "slot",
    "starts_at",
    "ends_at",
    "mode",
    "location",
    "meeting_url",
    "reminder_sent_at",
]


def _interview_party(actor: User | None, interview: Interview) -> str | None:
    """The applicant is the student party; the enterprise acts only on its own applicants whose
    sharing consent is in force. For anyone else the interview is missing. Interviews move
    only by a person's hand (no system party)."""
    if actor is None:
        return None
    application = interview.application
    if actor.role in SELF_ROLES and actor.pk == application.applicant_id:
        return STUDENT
    require_enterprise_side(actor, application)
    return ENTERPRISE


def _interview_validate(step: Step[Interview]) -> None:
    action, params = step.move.action, step.params
    if action == "reschedule_request" and not 2 <= len(step.reason) <= 500:
        raise ValidationError({"reason": "请写明改期原因（2 到 500 字）"})
    if action == "reschedule" and len(step.reason) > 500:
        raise ValidationError({"reason": "说明不能超过 500 字"})
    if action == "result":
        if params["result"] not in RESULTS:
            raise ValidationError({"result": "请选择面试结果"})
        if len(params["notes"]) > 5000:
            raise ValidationError({"notes": "面试记录不能超过 5000 字"})


def _interview_guard(step: Step[Interview]) -> None:
    interview, checks = step.row, step.move.checks
    if "ahead_or_new_slot" in checks and interview.starts_at <= step.now:
        if step.params.get("slot") is None:
            raise ApplicationError("面试时间已过，请申请改期")
    if "begun" in checks and interview.starts_at > step.now:
        raise ApplicationError("面试开始后才能记录结果")


def _set_time_and_place(
    interview: Interview, slot: InterviewSlot | None, fields: dict[str, Any]
) -> list[str]:
    for name, value in fields.items():
        setattr(interview, name, value)
    interview.slot = slot
    interview.reminder_sent_at = None
    if interview.mode == Mode.VIDEO:
        interview.meeting_url = _video_link(interview)
    return SLOT_FIELDS


@dataclass
class _Before:
    starts_at: dt.datetime | None = None


def _interview_apply(step: Step[Interview]) -> list[str]:
    """The fields that change with the move (a slot is locked and checked here, before the
    save, so a full slot refuses the move with nothing written)."""
    interview, action, params = step.row, step.move.action, step.params
    params["before"].starts_at = interview.starts_at
    posting_id = interview.application.posting_id
    if action == "confirm":
        slot: InterviewSlot | None = params.get("slot")
        if slot is None or slot.pk == interview.slot_id:
            return []
        slot = _free_slot(slot, posting_id=posting_id, now=step.now, skip=interview.pk)
        return _set_time_and_place(interview, slot, _slot_fields(slot))
    if action == "reschedule":
        slot, fields = _time_and_place(
            slot=params.get("slot"),
            when=params.get("when"),
            posting_id=posting_id,
            now=step.now,
            skip=interview.pk,
        )
        return _set_time_and_place(interview, slot, fields)
    if action == "result":
        interview.result, interview.notes = params["result"], params["notes"]
        return ["result", "notes"]
    return []


def _interview_event(step: Step[Interview]) -> InterviewEvent:
    interview, action, old = step.row, step.move.action, step.params["before"].starts_at
    moved = interview.starts_at != old
    if action == "confirm":
        return interview_event(
            interview,
            "confirm",
            actor=step.actor,
            old=old if moved else None,
            new=interview.starts_at if moved else None,
            now=step.now,
        )
    if action == "reschedule_request":
        return interview_event(
            interview, action, actor=step.actor, reason=step.reason, old=old, now=step.now
        )
    if action == "reschedule":
        return interview_event(
            interview,
            action,
            actor=step.actor,
            reason=step.reason,
            old=old,
            new=interview.starts_at,
            now=step.now,
        )
    label = Interview.Result(interview.result).label
    return interview_event(
        interview, action, actor=step.actor, reason=f"结果：{label}", now=step.now
    )


def _interview_summary(step: Step[Interview]) -> str:
    interview, action = step.row, step.move.action
    when = when_text(interview.starts_at, interview.ends_at)
    if action == "confirm":
        return f"确认面试：{when}"
    if action == "reschedule_request":
        return "学生申请面试改期"
    if action == "reschedule":
        return f"调整面试时间：{when}"
    label = Interview.Result(interview.result).label
    return f"记录面试结果：申请 #{interview.application_id} {label}"


def _interview_effects(step: Step[Interview]) -> None:
    interview = step.row
    if interview.mode == Mode.VIDEO and step.move.action in ("confirm", "reschedule"):
        _video_link(interview)  # the room takes the interview's new time
    if step.move.action != "reschedule":
        return
    application = interview.application
    text = _invitation_text(application, interview, lead="面试时间已调整，")
    if step.reason:
        text += f"（说明：{step.reason}）"
    message_event(
        application=application, text=text, kind=KIND_RESCHEDULED, actor=step.actor, now=step.now
    )


INTERVIEW_WORKFLOW: Workflow[Interview] = Workflow(
    name="interview",
    model=Interview,
    moves=INTERVIEW_TRANSITIONS,
    party=_interview_party,
    select_related=(
        "application",
        "application__posting",
        "application__enterprise",
        "application__stage",
    ),
    refused="面试当前为“{state}”，不能{label}",
    validate=_interview_validate,
    guard=_interview_guard,
    apply=_interview_apply,
    event=_interview_event,
    summary=_interview_summary,
    effects=_interview_effects,
    audit_action="update",
)


def interview_transition(
    *,
    actor: User,
    interview: Interview,
    action: str,
    reason: str = "",
    now: dt.datetime | None = None,
    **params: Any,
) -> Interview:
    """Moves an interview through ``INTERVIEW_WORKFLOW`` (qinghe.core.workflow.transition).
    The hooks get ``params`` plus ``before``, where ``apply`` keeps the time the locked
    interview had before the move (for the InterviewEvent)."""
    return transition(
        INTERVIEW_WORKFLOW,
        row=interview,
        action=action,
        actor=actor,
        reason=reason,
        now=now,
        before=_Before(),
        **params,
    )


def interview_confirm(
    *,
    actor: User,
    interview: Interview,
    slot: InterviewSlot | None = None,
    now: dt.datetime | None = None,
) -> Interview:
    """The student confirms the proposed time, or picks another free slot of the posting."""
    return interview_transition(
        actor=actor, interview=interview, action="confirm", now=now, slot=slot
    )


def interview_request_reschedule(
    *,
    actor: User,
    interview: Interview,
    reason: str,
    now: dt.datetime | None = None,
) -> Interview:
    """The student asks for another time; the reason is kept for good."""
    return interview_transition(
        actor=actor, interview=interview, action="reschedule_request", reason=reason, now=now
    )


def interview_reschedule(
    *,
    actor: User,
    interview: Interview,
    slot: InterviewSlot | None = None,
    when: When | None = None,
    reason: str = "",
    now: dt.datetime | None = None,
) -> Interview:
    """The enterprise proposes a new time (after a request, or of its own accord). The student
    is asked to confirm again and will be reminded again."""
    return interview_transition(
        actor=actor,
        interview=interview,
        action="reschedule",
        reason=reason,
        now=now,
        slot=slot,
        when=when,
    )


@transaction.atomic
def interview_record_result(
    *,
    actor: User,
    interview: Interview,
    result: str,
    notes: str = "",
    stage: PipelineStage | None = None,
    now: dt.datetime | None = None,
) -> Interview:
    """After the interview has begun: the enterprise's notes (internal, never shown to the
    student) and result; optionally moves the application on (through the one transition
    service), in the same transaction."""
    now = now or timezone.now()
    interview = interview_transition(
        actor=actor,
        interview=interview,
        action="result",
        now=now,
        result=result,
        notes=(notes or "").strip(),
    )
    if stage is not None:
        label = Interview.Result(interview.result).label
        application_transition(
            actor=actor,
            application=interview.application,
            stage=stage,
            note=f"面试结果：{label}",
            now=now,
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
