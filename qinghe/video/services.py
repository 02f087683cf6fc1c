"""Every write of the video interview rooms: opening a room (for a scheduled interview, or for
the fairs app's queue), the student's consent to staff observers, the two sides' consent to
recording and the recordings themselves (stored encrypted, chunk by chunk), and the
interviewer's notes and result (recorded on the linked recruitment Interview too).

Room changes the open pages must see at once (consent given or withdrawn, a recording begun
or ended) are pushed to the room's socket group when the transaction commits."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from qinghe.core.audit import audit_record
from qinghe.core.errors import ApplicationError, PermissionDenied
from qinghe.core.roles import Role
from qinghe.realtime.publish import publish_on_commit
from qinghe.talents.importing import storage

from .models import VideoRecording, VideoRecordingChunk, VideoRoom
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
    # An observer already in the call leaves it at once when the consent is withdrawn.
    publish_on_commit([room.group], {"type": "room.observers", "allowed": room.observers_allowed})
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


# ---------------------------------------------------------------------------- recording

RECORDING_ROOT = "video"
MAX_CHUNK_BYTES = 4 * 1024 * 1024
# A WebM file (MediaRecorder's first chunk) begins with the EBML magic; later chunks are
# continuations of it and have no magic of their own.
WEBM_MAGIC = b"\x1a\x45\xdf\xa3"
RECORDING_REFUSED_NO_CONSENT = "双方都同意录制后才能录制"


class RecordingRefused(ApplicationError):
    """A recording action that the consent or the recording's state does not allow (422)."""

    status_code = 422


def recording_retention() -> dt.timedelta:
    return dt.timedelta(days=int(settings.QINGHE_VIDEO_RECORDING_RETENTION_DAYS))


def recording_max_bytes() -> int:
    return int(settings.QINGHE_VIDEO_RECORDING_MAX_MB) * 1024 * 1024


def _consent_state(room: VideoRoom) -> dict[str, Any]:
    return {
        "type": "room.recording",
        "interviewer": room.interviewer_recording_consent_at is not None,
        "student": room.student_recording_consent_at is not None,
        "recording": room.recordings.filter(state=VideoRecording.State.RECORDING).exists(),
    }


def recording_state(room: VideoRoom) -> dict[str, Any]:
    """What the room's pages show about recording: each side's consent and whether a
    recording is running (sent on joining and pushed on every change)."""
    return _consent_state(room)


def _stop_running(room: VideoRoom, *, actor: Any, why: str) -> int:
    running = list(
        VideoRecording.objects.select_for_update().filter(
            room=room, state=VideoRecording.State.RECORDING
        )
    )
    for recording in running:
        recording.state = VideoRecording.State.COMPLETE
        recording.finished_at = timezone.now()
        recording.save(update_fields=["state", "finished_at", "updated_at"])
        audit_record(action="update", actor=actor, target=recording, summary=why)
    return len(running)


@transaction.atomic
def room_set_recording_consent(*, actor: Any, room: VideoRoom, agreed: bool) -> VideoRoom:
    """One side agrees to recording, or withdraws its agreement; withdrawing stops a running
    recording at once (what was recorded before is kept until the retention period ends)."""
    room = VideoRoom.objects.select_for_update().get(pk=room.pk)
    party = room_party(viewer=actor, room=room)
    if party not in (INTERVIEWER, STUDENT):
        raise PermissionDenied("只有面试双方可以决定是否同意录制")
    field = (
        "interviewer_recording_consent_at"
        if party == INTERVIEWER
        else "student_recording_consent_at"
    )
    if agreed and getattr(room, field) is None:
        setattr(room, field, timezone.now())
    elif not agreed:
        setattr(room, field, None)
        _stop_running(room, actor=actor, why="一方撤回录制同意，录制停止")
    room.save(update_fields=[field, "updated_at"])
    side = "面试官" if party == INTERVIEWER else "学生"
    audit_record(
        action="update",
        actor=actor,
        target=room,
        summary=f"{side}同意录制视频面试" if agreed else f"{side}撤回录制视频面试的同意",
    )
    publish_on_commit([room.group], _consent_state(room))
    return room


@transaction.atomic
def recording_start(*, actor: Any, room: VideoRoom) -> VideoRecording:
    """A new recording of the call, by the interviewer side, only when both sides agreed
    (one running recording per room: a second start continues nothing and is refused)."""
    room = VideoRoom.objects.select_for_update().get(pk=room.pk)
    if room_party(viewer=actor, room=room) != INTERVIEWER:
        raise PermissionDenied("只有面试官一方可以开始录制")
    if not room.recording_agreed:
        raise RecordingRefused(RECORDING_REFUSED_NO_CONSENT)
    if room.recordings.filter(state=VideoRecording.State.RECORDING).exists():
        raise RecordingRefused("本场面试正在录制")
    now = timezone.now()
    recording = VideoRecording.objects.create(
        room=room, started_by=actor, expires_at=now + recording_retention()
    )
    audit_record(action="create", actor=actor, target=recording, summary="开始录制视频面试")
    publish_on_commit([room.group], _consent_state(room))
    return recording


def chunk_name(recording: VideoRecording, seq: int) -> str:
    """The chunk's storage name before ``save_private`` adds ``.enc``."""
    return f"{RECORDING_ROOT}/{recording.room_id}/{recording.uuid.hex}/{seq:06d}.webm"


def recording_add_chunk(
    *, actor: Any, recording: VideoRecording, seq: int, data: bytes
) -> VideoRecordingChunk:
    """Stores one chunk encrypted. Refused (nothing stored) when the actor is not the one
    recording, when either side has withdrawn consent, when the recording has ended, when the
    chunk is empty, too large, out of order, or would pass the size limit."""
    with transaction.atomic():
        recording = VideoRecording.objects.select_for_update().get(pk=recording.pk)
        room = VideoRoom.objects.get(pk=recording.room_id)
        if (
            actor.pk != recording.started_by_id
            or room_party(viewer=actor, room=room) != INTERVIEWER
        ):
            raise PermissionDenied("只有开始录制的面试官可以上传录像")
        if not room.recording_agreed:
            raise RecordingRefused(RECORDING_REFUSED_NO_CONSENT)
        if recording.state != VideoRecording.State.RECORDING:
            raise RecordingRefused("本次录制已结束")
        if not data:
            raise RecordingRefused("录像片段为空")
        if len(data) > MAX_CHUNK_BYTES:
            raise RecordingRefused("录像片段不能超过 4 MB")
        if seq != recording.chunks:
            raise RecordingRefused(f"录像片段顺序不对：应为第 {recording.chunks} 段")
        if seq == 0 and not data.startswith(WEBM_MAGIC):
            raise RecordingRefused("只接受 WebM 格式的录像")
        if recording.size + len(data) > recording_max_bytes():
            raise RecordingRefused("录像超过大小上限，已停止")
        # The file is written before the row; if the row then fails, the name is the
        # recording's own and the purge removes it with the recording.
        stored = storage.save_private(
            chunk_name(recording, seq), data, replace=True, root_folder=RECORDING_ROOT
        )
        chunk = VideoRecordingChunk.objects.create(
            recording=recording, seq=seq, storage_name=stored, size=len(data)
        )
        VideoRecording.objects.filter(pk=recording.pk).update(
            chunks=F("chunks") + 1, size=F("size") + len(data), updated_at=timezone.now()
        )
    return chunk


@transaction.atomic
def recording_stop(*, actor: Any, recording: VideoRecording) -> VideoRecording:
    """Ends a recording (the interviewer side; the recording's chunks are kept)."""
    recording = VideoRecording.objects.select_for_update().get(pk=recording.pk)
    room = VideoRoom.objects.get(pk=recording.room_id)
    if room_party(viewer=actor, room=room) != INTERVIEWER:
        raise PermissionDenied("只有面试官一方可以停止录制")
    if recording.state != VideoRecording.State.RECORDING:
        return recording
    recording.state = VideoRecording.State.COMPLETE
    recording.finished_at = timezone.now()
    recording.save(update_fields=["state", "finished_at", "updated_at"])
    audit_record(
        action="update",
        actor=actor,
        target=recording,
        summary=f"结束录制视频面试（{recording.chunks} 段，{recording.size} 字节）",
    )
    publish_on_commit([room.group], _consent_state(room))
    return recording


def recording_read(*, actor: Any, recording: VideoRecording, why: str) -> list[str]:
    """The storage names of the recording's chunks in order, for a download; the download is
    audited (``why``: the viewer's side or staff)."""
    if recording.state == VideoRecording.State.PURGED:
        raise ApplicationError("该录像已过保留期并已删除")
    names = list(recording.pieces.order_by("seq").values_list("storage_name", flat=True))
    audit_record(
        action="export",
        actor=actor,
        target=recording,
        summary=f"下载视频面试录像（{why}）",
        data={"room": str(recording.room.uuid), "chunks": len(names)},
    )
    return names
