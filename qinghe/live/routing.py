from __future__ import annotations

from django.urls import path

from .consumers import LiveConsumer

websocket_urlpatterns = [
    path("ws/live/<int:stream_id>/", LiveConsumer.as_asgi(), name="ws:live"),
]
