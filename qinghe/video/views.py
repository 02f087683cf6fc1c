"""The video interview room page: a device test (camera, microphone, speaker, connection),
then the call (static/js/video-room.js). Only this page may use the camera and microphone:
it widens the site-wide Permissions-Policy for itself."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from qinghe.core.errors import ApplicationError, PermissionDenied
from qinghe.core.http import AuthedRequest
from qinghe.core.masking import mask_name

from . import selectors, services
from .models import VideoRoom

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
    return render(
        request,
        "video/mine.html",
        {"open_rows": open_rows, "ended_rows": ended_rows},
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
