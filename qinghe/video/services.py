"""Every write of the video interview rooms: opening a room (for a scheduled interview, or for
the fairs app's queue), the student's consent to staff observers, and the interviewer's notes
and result (recorded on the linked recruitment Interview too)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from qinghe.core.audit import audit_record
from qinghe.core.errors import ApplicationError, PermissionDenied
from qinghe.core.roles import Role

from .models import VideoRoom
from .selectors import INTERVIEWER, STUDENT, room_party

MIN_MINUTES = 5
MAX_MINUTES = 240
MAX_NOTES = 5000
STUDENT_ROLES = frozenset({Role.STUDENT, Role.AMBASSADOR})


def _check_minutes(minutes: int) -> int:
    if not MIN_MINUTES <= int(minutes) <= MAX_MINUTES:
        raise ValidationError({"minutes": f"面试时长应在 {MIN_MINUTES} 到 {MAX_MINUTES} 分钟之间"})
    return int(minutes)


@transaction.atomic
def room_create(
    *,
    interviewer: Any,
    student: Any,
    minutes: int,
    source: str,
    starts_at: dt.datetime | None = None,
) -> VideoRoom:
    """A room for one enterprise interviewer (every HR user of the same enterprise is on the
    interviewer side) and one student, starting now unless ``starts_at`` is given."""
    if getattr(interviewer, "role", None) != Role.ENTERPRISE_HR:
        raise PermissionDenied("只有企业人事可以发起视频面试")
    if getattr(student, "role", None) not in STUDENT_ROLES:
        raise ApplicationError("视频面试的对象须是学生用户")
    if source not in VideoRoom.Source.values:
        raise ValidationError({"source": "未知的面试来源"})
    room = VideoRoom.objects.create(
        interviewer=interviewer,
        organisation_id=interviewer.organisation_id,
        student=student,
        source=source,
        starts_at=starts_at or timezone.now(),
        minutes=_check_minutes(minutes),
    )
    audit_record(action="create", actor=interviewer, target=room, summary="开设视频面试间")
    return room


@transaction.atomic
def room_for_interview(interview: Any) -> VideoRoom:
    """The video room of a scheduled recruitment interview (made on first use; its time follows
    the interview's, which may have been rescheduled)."""
    from qinghe.recruitment.models import Interview

    interview = Interview.objects.select_related(
        "application", "application__enterprise", "created_by"
    ).get(pk=interview.pk)
    application = interview.application
    minutes = max(
        MIN_MINUTES,
        min(MAX_MINUTES, int((interview.ends_at - interview.starts_at).total_seconds() // 60)),
    )
    room = VideoRoom.objects.select_for_update().filter(interview=interview).first()
    if room is not None:
        if room.starts_at != interview.starts_at or room.minutes != minutes:
            room.starts_at, room.minutes = interview.starts_at, minutes
            room.save(update_fields=["starts_at", "minutes", "updated_at"])
        return room
    organisation_id = application.enterprise.organisation_id
    interviewer = interview.created_by
    if interviewer is None or interviewer.organisation_id != organisation_id:
        from qinghe.accounts.models import User

        interviewer = (
            User.objects.filter(role=Role.ENTERPRISE_HR, organisation_id=organisation_id)
            .order_by("pk")
            .first()
        )
    if interviewer is None:
        raise ApplicationError("该企业没有人事账号，无法开设视频面试")
    room = VideoRoom.objects.create(
        interviewer=interviewer,
        organisation_id=organisation_id,
        student_id=application.applicant_id,
        interview=interview,
        source=VideoRoom.Source.INTERVIEW,
        starts_at=interview.starts_at,
        minutes=minutes,
    )
    audit_record(
        action="create",
        actor=interviewer,
        target=room,
        summary=f"为申请 #{application.pk} 的面试开设视频面试间",
    )
    return room


@transaction.atomic
def room_set_observers(*, actor: Any, room: VideoRoom, allowed: bool) -> VideoRoom:
    """The student agrees (or no longer agrees) that staff may observe the interview."""
    room = VideoRoom.objects.select_for_update().get(pk=room.pk)
    if room_party(viewer=actor, room=room) != STUDENT:
        raise PermissionDenied("只有参加面试的学生本人可以决定是否允许旁听")
    room.observers_allowed = bool(allowed)
    room.save(update_fields=["observers_allowed", "updated_at"])
    audit_record(
        action="update",
        actor=actor,
        target=room,
        summary="学生同意工作人员旁听视频面试" if allowed else "学生不同意工作人员旁听视频面试",
    )
    return room


@transaction.atomic
def room_save_notes(*, actor: Any, room: VideoRoom, notes: str, result: str = "") -> VideoRoom:
    """The interviewer's notes (internal, never shown to the student) and result. A result on a
    room linked to a recruitment interview still open is recorded there too (once, through
    ``interview_record_result``, which closes the interview as 已完成)."""
    room = VideoRoom.objects.select_for_update().get(pk=room.pk)
    if room_party(viewer=actor, room=room) != INTERVIEWER:
        raise PermissionDenied("只有面试官可以填写面试记录")
    notes = (notes or "").strip()
    result = (result or "").strip()
    if len(notes) > MAX_NOTES:
        raise ValidationError({"notes": f"面试记录不能超过 {MAX_NOTES} 字"})
    if result not in VideoRoom.Result.values:
        raise ValidationError({"result": "请选择面试结果"})
    room.notes, room.result = notes, result
    room.save(update_fields=["notes", "result", "updated_at"])
    if room.interview_id is not None and result:
        from qinghe.recruitment.models import Interview
        from qinghe.recruitment.selectors import OPEN_INTERVIEW_STATES
        from qinghe.recruitment.services.interviews import interview_record_result

        interview = Interview.objects.get(pk=room.interview_id)
        if interview.state in OPEN_INTERVIEW_STATES:
            interview_record_result(actor=actor, interview=interview, result=result, notes=notes)
    audit_record(action="update", actor=actor, target=room, summary="保存视频面试记录")
    return room
