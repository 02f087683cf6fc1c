"""我的消息, live: the unread badge follows new and read messages without a reload."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from qinghe.realtime.consumers import PolicyConsumer
from qinghe.realtime.publish import user_group

from . import selectors


class InboxConsumer(PolicyConsumer):
    """One socket per open page of a signed-in user; joins only that user's own group."""

    route_name = "ws:inbox"

    def authorise(self, user: Any, **kwargs: Any) -> list[str]:
        return [user_group(user.pk)]

    async def on_joined(self, user: Any, **kwargs: Any) -> None:
        await self._send_count(user)

    async def inbox_changed(self, event: dict[str, Any]) -> None:
        await self._send_count(self.scope["user"])

    async def _send_count(self, user: Any) -> None:
        count = await database_sync_to_async(selectors.inbox_unread_count)(user=user)
        await self.send_json({"type": "inbox", "unread": count})

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """The page only listens; anything it sends is ignored."""
