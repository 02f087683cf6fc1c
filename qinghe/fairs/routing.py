from __future__ import annotations

from django.urls import path

from .consumers import BoothConsumer, BoothQueueConsumer, HallConsumer

websocket_urlpatterns = [
    path("ws/fairs/booths/<int:booth_id>/", BoothConsumer.as_asgi(), name="ws:fair_booth"),
    path(
        "ws/fairs/booths/<int:booth_id>/queue/",
        BoothQueueConsumer.as_asgi(),
        name="ws:fair_queue",
    ),
    path("ws/fairs/<int:fair_id>/hall/", HallConsumer.as_asgi(), name="ws:fair_hall"),
]
