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

from . import selectors, services
from .models import VideoRoom

MEDIA_POLICY = "camera=(self), microphone=(self), geolocation=(), payment=()"


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
