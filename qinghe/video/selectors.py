"""Who is in a video room: the interviewer side, the student, or (where the student agreed)
a staff observer: HR bureau staff and system administrators, or the student's own liaison
officer (an active assignment). For anyone else the room does not exist. Recordings are
downloaded by the two sides and by staff with the permission (``RECORDING_STAFF_ROLES``)."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet

from qinghe.core.errors import NotFound
from qinghe.core.roles import Role

from .models import VideoRecording, VideoRoom

INTERVIEWER = "interviewer"
STUDENT = "student"
OBSERVER = "observer"
# Staff who may watch any interview (only where the student agreed); a liaison officer may
# watch the interviews of the students assigned to them (same condition).
OBSERVER_ROLES = frozenset({Role.HR_STAFF, Role.SYSADMIN})
# Staff who may download any recording (audited), besides the two sides.
RECORDING_STAFF_ROLES = frozenset({Role.HR_STAFF, Role.SYSADMIN})

PARTY_LABELS = {INTERVIEWER: "面试官", STUDENT: "学生", OBSERVER: "旁听"}


def room_party(*, viewer: Any, room: VideoRoom) -> str | None:
    """The viewer's part in the room, or None when the viewer has none."""
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return None
    if viewer.pk == room.student_id:
        return STUDENT
    if viewer.pk == room.interviewer_id:
        return INTERVIEWER
    if (
        viewer.role == Role.ENTERPRISE_HR
        and room.organisation_id is not None
        and viewer.organisation_id == room.organisation_id
    ):
        return INTERVIEWER
    if room.observers_allowed and (
        viewer.role in OBSERVER_ROLES
        or (viewer.role == Role.LIAISON and _is_students_liaison(viewer, room.student_id))
    ):
        return OBSERVER
    return None


def _is_students_liaison(viewer: Any, student_id: int) -> bool:
    from qinghe.outreach.models import LiaisonAssignment

    return LiaisonAssignment.objects.filter(
        liaison=viewer, active=True, talent__user_id=student_id
    ).exists()


def recording_get_for_viewer(
    *, viewer: Any, room_uuid: uuid.UUID | str, recording_uuid: uuid.UUID | str
) -> tuple[VideoRecording, str]:
    """A recording of a room and why the viewer may have it (the viewer's side, or
    ``"staff"``); the same NotFound for a missing recording and for one the viewer may not
    download (an observer may watch a call but not download its recording)."""
    try:
        recording = VideoRecording.objects.select_related("room").get(
            uuid=recording_uuid, room__uuid=room_uuid
        )
    except (VideoRecording.DoesNotExist, ValueError):
        raise NotFound("未找到该录像") from None
    party = room_party(viewer=viewer, room=recording.room)
    if party in (INTERVIEWER, STUDENT):
        return recording, party
    if getattr(viewer, "is_authenticated", False) and viewer.role in RECORDING_STAFF_ROLES:
        return recording, "staff"
    raise NotFound("未找到该录像")


def recordings_of_room(*, room: VideoRoom) -> list[VideoRecording]:
    """The room's recordings still kept (for its two sides' page)."""
    return list(room.recordings.exclude(state=VideoRecording.State.PURGED).order_by("created_at"))


def recording_list_for_staff(*, viewer: Any) -> Any:
    """Every kept recording, newest first, for staff with the permission (else none)."""
    if viewer.role not in RECORDING_STAFF_ROLES:
        return VideoRecording.objects.none()
    return (
        VideoRecording.objects.exclude(state=VideoRecording.State.PURGED)
        .select_related("room", "room__organisation", "room__student")
        .order_by("-created_at", "-id")
    )


def room_get(*, room_uuid: uuid.UUID | str) -> VideoRoom:
    """The room by its number, without a viewer check (the caller checks the party)."""
    try:
        return VideoRoom.objects.select_related("interview").get(uuid=room_uuid)
    except (VideoRoom.DoesNotExist, ValueError):
        raise NotFound("未找到该视频面试间") from None


def room_get_for_viewer(*, viewer: Any, room_uuid: uuid.UUID | str) -> tuple[VideoRoom, str]:
    """The room and the viewer's part in it; NotFound when the room is missing, PermissionDenied
    (a page saying so) when the viewer is not one of its parties."""
    from qinghe.core.errors import PermissionDenied

    room = room_get(room_uuid=room_uuid)
    party = room_party(viewer=viewer, room=room)
    if party is None:
        raise PermissionDenied("你不是本场视频面试的参与者，不能进入")
    return room, party


def rooms_for_viewer(*, viewer: Any) -> QuerySet[VideoRoom]:
    """The rooms the viewer may enter (the same parties as ``room_party``), the coming ones
    first: a student's own, the enterprise side's (every HR user of the organisation), and for
    observer staff the rooms whose student agreed to observers."""
    from django.db.models import Q

    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return VideoRoom.objects.none()
    mine = Q(student_id=viewer.pk) | Q(interviewer_id=viewer.pk)
    if viewer.role == Role.ENTERPRISE_HR and viewer.organisation_id:
        mine |= Q(organisation_id=viewer.organisation_id)
    if viewer.role in OBSERVER_ROLES:
        mine |= Q(observers_allowed=True)
    return (
        VideoRoom.objects.filter(mine)
        .select_related("organisation", "student", "interview__application__posting")
        .order_by("state", "-starts_at", "-pk")
    )


def video_counts_for_plan(year: int) -> int:
    """For the 十个一 board: video interviews of ``year`` whose slot has begun (held or due)."""
    from django.utils import timezone

    return VideoRoom.objects.filter(starts_at__year=year, starts_at__lte=timezone.now()).count()
