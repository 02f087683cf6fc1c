"""The video interview room page: a device test (camera, microphone, speaker, connection),
then the call (static/js/video-room.js). Only this page may use the camera and microphone:
it widens the site-wide Permissions-Policy for itself.

Recording (only when both sides agreed): each side's consent (a form, or the page's fetch),
the interviewer's browser starting a recording, uploading it chunk by chunk and stopping it
(JSON answers, the refusal in Chinese with 403/422), and the download by the two sides or by
staff with the permission (audited), with a staff list of kept recordings."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import messages
from django.core.handlers.asgi import ASGIRequest
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from qinghe.core.errors import ApplicationError, NotFound, PermissionDenied
from qinghe.core.http import AuthedRequest
from qinghe.core.masking import mask_name
from qinghe.core.policies import access_for
from qinghe.talents.importing import storage

from . import selectors, services
from .models import VideoRecording, VideoRoom

MEDIA_POLICY = "camera=(self), microphone=(self), geolocation=(), payment=()"


ROOMS_SHOWN = 50


@require_GET
def mine(request: AuthedRequest) -> HttpResponse:
    """我的视频面试: the rooms the viewer may enter, those still to be held first."""
    rooms = list(selectors.rooms_for_viewer(viewer=request.user)[:ROOMS_SHOWN])
    open_rows: list[dict[str, object]] = []
    ended_rows: list[dict[str, object]] = []
    for r in rooms:
        party = selectors.room_party(viewer=request.user, room=r)
        who = (
            (r.organisation.name if r.organisation else "企业面试官")
            if party == selectors.STUDENT
            else mask_name(r.student.display_name or r.student.username)
        )
        (open_rows if r.state == VideoRoom.State.OPEN else ended_rows).append(
            {"room": r, "party": party, "who": who}
        )
    recordings = access_for("video:recording_list", "GET")
    return render(
        request,
        "video/mine.html",
        {
            "open_rows": open_rows,
            "ended_rows": ended_rows,
            # staff who may see the recordings list reach it from here
            "show_recordings": bool(
                recordings and recordings.allows(authenticated=True, role=request.user.role)
            ),
        },
    )


@require_GET
def room(request: AuthedRequest, room_uuid: uuid.UUID) -> HttpResponse:
    try:
        video_room, party = selectors.room_get_for_viewer(viewer=request.user, room_uuid=room_uuid)
    except PermissionDenied as exc:
        return render(request, "video/refused.html", {"reason": str(exc)}, status=403)
    response = render(
        request,
        "video/room.html",
        {
            "room": video_room,
            "party": party,
            "party_label": selectors.PARTY_LABELS[party],
            "results": VideoRoom.Result.choices,
            "ice_servers": settings.QINGHE_ICE_SERVERS,
            "socket_path": f"/ws/video/{video_room.uuid}/",
            "recordings": (
                selectors.recordings_of_room(room=video_room)
                if party in (selectors.INTERVIEWER, selectors.STUDENT)
                else []
            ),
            "retention_days": settings.QINGHE_VIDEO_RECORDING_RETENTION_DAYS,
        },
    )
    response["Permissions-Policy"] = MEDIA_POLICY
    return response


@require_POST
def room_observers(request: AuthedRequest, room_uuid: uuid.UUID) -> HttpResponse:
    video_room, _ = selectors.room_get_for_viewer(viewer=request.user, room_uuid=room_uuid)
    allowed = request.POST.get("allowed") == "1"
    try:
        services.room_set_observers(actor=request.user, room=video_room, allowed=allowed)
    except ApplicationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "已允许工作人员旁听" if allowed else "已不允许工作人员旁听")
    return redirect("video:room", room_uuid=video_room.uuid)


def _wants_json(request: AuthedRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _refusal(exc: ApplicationError) -> JsonResponse:
    return JsonResponse({"detail": exc.message}, status=exc.status_code)


@require_POST
def room_recording_consent(request: AuthedRequest, room_uuid: uuid.UUID) -> HttpResponse:
    """One side agrees to recording (agreed=1) or withdraws (agreed=0)."""
    agreed = request.POST.get("agreed") == "1"
    try:
        video_room, _ = selectors.room_get_for_viewer(viewer=request.user, room_uuid=room_uuid)
        video_room = services.room_set_recording_consent(
            actor=request.user, room=video_room, agreed=agreed
        )
    except ApplicationError as exc:
        if _wants_json(request):
            return _refusal(exc)
        raise
    if _wants_json(request):
        return JsonResponse(services.recording_state(video_room))
    messages.success(request, "你已同意录制" if agreed else "你已撤回录制同意")
    return redirect("video:room", room_uuid=video_room.uuid)


@require_POST
def recording_start(request: AuthedRequest, room_uuid: uuid.UUID) -> JsonResponse:
    try:
        video_room, _ = selectors.room_get_for_viewer(viewer=request.user, room_uuid=room_uuid)
        recording = services.recording_start(actor=request.user, room=video_room)
    except ApplicationError as exc:
        return _refusal(exc)
    return JsonResponse(
        {
            "recording": str(recording.uuid),
            "chunks": reverse(
                "video:recording_chunk",
                kwargs={"room_uuid": video_room.uuid, "recording_uuid": recording.uuid, "seq": 0},
            )[: -len("0/")],
            "stop": reverse(
                "video:recording_stop",
                kwargs={"room_uuid": video_room.uuid, "recording_uuid": recording.uuid},
            ),
        },
        status=201,
    )


def _own_recording(
    request: AuthedRequest, room_uuid: uuid.UUID, recording_uuid: uuid.UUID
) -> VideoRecording:
    recording, why = selectors.recording_get_for_viewer(
        viewer=request.user, room_uuid=room_uuid, recording_uuid=recording_uuid
    )
    if why != selectors.INTERVIEWER:
        raise PermissionDenied("只有面试官一方可以上传或停止录制")
    return recording


@require_POST
def recording_chunk(
    request: AuthedRequest, room_uuid: uuid.UUID, recording_uuid: uuid.UUID, seq: int
) -> JsonResponse:
    """One chunk of the recording as the raw request body (video/webm)."""
    try:
        recording = _own_recording(request, room_uuid, recording_uuid)
        chunk = services.recording_add_chunk(
            actor=request.user, recording=recording, seq=seq, data=request.body
        )
    except ApplicationError as exc:
        return _refusal(exc)
    return JsonResponse({"seq": chunk.seq, "size": chunk.size}, status=201)


@require_POST
def recording_stop(
    request: AuthedRequest, room_uuid: uuid.UUID, recording_uuid: uuid.UUID
) -> JsonResponse:
    try:
        recording = _own_recording(request, room_uuid, recording_uuid)
        recording = services.recording_stop(actor=request.user, recording=recording)
    except ApplicationError as exc:
        return _refusal(exc)
    return JsonResponse(
        {"state": recording.state, "chunks": recording.chunks, "size": recording.size}
    )


@require_GET
def recording_download(
    request: AuthedRequest, room_uuid: uuid.UUID, recording_uuid: uuid.UUID
) -> StreamingHttpResponse:
    """The recording decrypted chunk by chunk as one WebM file (the two sides, or staff with
    the permission; audited)."""
    recording, why = selectors.recording_get_for_viewer(
        viewer=request.user, room_uuid=room_uuid, recording_uuid=recording_uuid
    )
    names = services.recording_read(
        actor=request.user, recording=recording, why=selectors.PARTY_LABELS.get(why, "工作人员")
    )
    if not names:
        raise NotFound("该录像没有内容")

    def pieces() -> Iterator[bytes]:
        for name in names:
            yield storage.read_private(name)

    async def pieces_async() -> AsyncIterator[bytes]:
        for name in names:
            yield await sync_to_async(storage.read_private)(name)

    # One chunk in memory at a time: under ASGI (production) an async iterator, else Django
    # would first read the whole recording into a list.
    content = pieces_async() if isinstance(request, ASGIRequest) else pieces()
    response = StreamingHttpResponse(content, content_type="video/webm")
    stamp = timezone.localtime(recording.created_at).strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="interview-{stamp}.webm"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def recording_list(request: AuthedRequest) -> HttpResponse:
    """Kept recordings for staff with the permission (HR bureau staff, administrators)."""
    page = Paginator(selectors.recording_list_for_staff(viewer=request.user), 50).get_page(
        request.GET.get("page")
    )
    rows = [
        {
            "recording": recording,
            "student": mask_name(recording.room.student.display_name) or "学生",
            "enterprise": recording.room.organisation.name if recording.room.organisation else "",
        }
        for recording in page
    ]
    return render(request, "video/recordings.html", {"page": page, "rows": rows})
