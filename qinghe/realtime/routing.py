"""Every websocket route of the project, in one list (served by ``config.asgi``).

Each app declares its own ``websocket_urlpatterns`` in ``<app>/routing.py`` with names starting
``ws:``; each name has a ``{"WS": ...}`` entry in ``qinghe.core.policies.POLICIES``
(``qinghe/realtime/tests/test_routes.py`` fails otherwise)."""

from __future__ import annotations

from django.urls import URLPattern

from qinghe.fairs.routing import websocket_urlpatterns as fairs_ws
from qinghe.live.routing import websocket_urlpatterns as live_ws
from qinghe.notifications.routing import websocket_urlpatterns as notifications_ws
from qinghe.video.routing import websocket_urlpatterns as video_ws

websocket_urlpatterns: list[URLPattern] = [
    *notifications_ws,
    *video_ws,
    *live_ws,
    *fairs_ws,
]
