"""The base of every websocket consumer: policy table first, then the object relationship.

A consumer names its route (``route_name``, the key in ``qinghe.core.policies.POLICIES`` with a
``"WS"`` method) and implements ``authorise`` — the relationship check, through a selector scoped
by the viewer — returning the channel-layer groups the socket joins. A refusal accepts and at once
closes with a private code (4403 refused, 4404 not found) before anything is joined or sent: a
rejected handshake would reach the page only as a network failure (close code 1006), and the
page would retry forever; 4403 tells it to stop. Every check runs in
a thread (``database_sync_to_async``) so the event loop never waits on the database.

A group that is a broadcast room (``qinghe.realtime.broadcast``) is joined through this process's
relay instead of the channel layer: its frames are held until ``on_joined`` has sent the first
state, then written to the socket as published, encoded once for everyone.
"""

from __future__ import annotations

import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from qinghe.core.errors import ApplicationError, NotFound, PermissionDenied

from . import broadcast
from .auth import socket_refusal

logger = logging.getLogger(__name__)

# Close codes in the private range (4000-4999): the page can tell a refusal from a drop.
CLOSE_REFUSED = 4403
CLOSE_NOT_FOUND = 4404


class Refused(Exception):
    """Raised by ``authorise``: the relationship does not allow this room."""


class PolicyConsumer(AsyncJsonWebsocketConsumer):
    route_name: str = ""

    groups_joined: list[str]
    rooms_joined: list[broadcast.Member]

    async def connect(self) -> None:
        self.groups_joined = []
        self.rooms_joined = []
        user = self.scope.get("user")
        session = self.scope.get("session")
        refusal = await database_sync_to_async(socket_refusal)(self.route_name, user, session)
        if refusal is not None:
            logger.info("websocket refused on %s: %s", self.route_name, refusal)
            await self._refuse(CLOSE_REFUSED)
            return
        kwargs = self.scope.get("url_route", {}).get("kwargs", {})
        try:
            groups = await database_sync_to_async(self.authorise)(user, **kwargs)
        except (Refused, PermissionDenied):
            await self._refuse(CLOSE_REFUSED)
            return
        except (NotFound, ApplicationError):
            await self._refuse(CLOSE_NOT_FOUND)
            return
        for group in groups:
            if broadcast.is_room(group):
                send = self.scope.get(broadcast.SERVER_SEND) or self.base_send
                self.rooms_joined.append(await broadcast.join(group, send))
            else:
                await self.channel_layer.group_add(group, self.channel_name)
                self.groups_joined.append(group)
        await self.accept()
        await self.on_joined(user, **kwargs)
        for member in self.rooms_joined:
            member.ready()

    async def _refuse(self, code: int) -> None:
        await self.accept()
        await self.close(code=code)

    async def disconnect(self, code: int) -> None:
        for member in getattr(self, "rooms_joined", []):
            await broadcast.leave(member)
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    def authorise(self, user: Any, **kwargs: Any) -> list[str]:  # pragma: no cover - abstract
        """The groups this user may join for this route's arguments, or raise ``Refused``."""
        raise NotImplementedError

    async def on_joined(self, user: Any, **kwargs: Any) -> None:
        """Sends the socket's first state after accepting; nothing by default."""
