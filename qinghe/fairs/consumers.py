"""The live queue of a booth: a student's socket gets their own position and estimated wait,
the enterprise's socket the whole queue; both read their state again on every change pushed to
the booth's group (``services._changed``) and when they join."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from qinghe.core.errors import NotFound
from qinghe.realtime.consumers import PolicyConsumer, Refused

from . import selectors
from .models import Booth


class BoothConsumer(PolicyConsumer):
    """A student registered for the fair, on an approved booth's page."""

    route_name = "ws:fair_booth"
    booth: Booth

    def authorise(self, user: Any, **kwargs: Any) -> list[str]:
        booth = selectors.booth_get_for_viewer(viewer=user, booth_id=kwargs["booth_id"])
        if booth.state != Booth.State.APPROVED:
            raise NotFound("展位不存在")
        if not selectors.is_registered(user=user, fair=booth.fair):
            raise Refused
        self.booth = booth
        return [selectors.booth_group(booth.pk)]

    async def on_joined(self, user: Any, **kwargs: Any) -> None:
        await self._send_state()

    async def fairs_queue_changed(self, event: dict[str, Any]) -> None:
        await self._send_state()

    async def _send_state(self) -> None:
        state = await database_sync_to_async(selectors.student_queue_state)(
            user=self.scope["user"], booth=self.booth
        )
        await self.send_json(state)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """The page only listens; joining and leaving are POSTs."""


class BoothQueueConsumer(PolicyConsumer):
    """The booth's own enterprise HR, on its queue page."""

    route_name = "ws:fair_queue"
    booth: Booth

    def authorise(self, user: Any, **kwargs: Any) -> list[str]:
        try:
            booth = selectors.booth_get_for_enterprise(viewer=user, booth_id=kwargs["booth_id"])
        except NotFound as exc:
            raise Refused from exc
        self.booth = booth
        return [selectors.booth_group(booth.pk)]

    async def on_joined(self, user: Any, **kwargs: Any) -> None:
        await self._send_state()

    async def fairs_queue_changed(self, event: dict[str, Any]) -> None:
        await self._send_state()

    async def _send_state(self) -> None:
        state = await database_sync_to_async(selectors.enterprise_queue_state)(booth=self.booth)
        await self.send_json(state)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """The page only listens; taking, finishing and inviting are POSTs."""


class HallConsumer(PolicyConsumer):
    """Anyone who may see the fair, on its hall page: every booth's queue length, sent on
    joining and carried in each change (read once by the service after its commit)."""

    route_name = "ws:fair_hall"
    fair_id: int

    def authorise(self, user: Any, **kwargs: Any) -> list[str]:
        fair = selectors.fair_get_for_viewer(viewer=user, fair_id=kwargs["fair_id"])
        self.fair_id = fair.pk
        return [selectors.hall_group(fair.pk)]

    async def on_joined(self, user: Any, **kwargs: Any) -> None:
        state = await database_sync_to_async(selectors.hall_state)(fair_id=self.fair_id)
        await self.send_json(state)

    async def fairs_hall_changed(self, event: dict[str, Any]) -> None:
        await self.send_json({**event, "type": "hall"})

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """The hall only listens."""
