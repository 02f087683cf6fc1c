from __future__ import annotations

from django.urls import path

from .consumers import VideoRoomConsumer

websocket_urlpatterns = [
    path("ws/video/<uuid:room_uuid>/", VideoRoomConsumer.as_asgi(), name="ws:video_room"),
]
