"""The live question box and viewer count of one stream, over ``/ws/live/<stream_id>/``.

Admission: any signed-in user whose policy allows ``ws:live`` and who can see the stream (the
selector decides: students and staff see every stream, an enterprise's HR only streams their
enterprise takes part in). Everyone joins ``live.<id>``; the host's team also joins
``live.<id>.team`` where held questions and new applications arrive."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from django.core.exceptions import ValidationError

from qinghe.core.errors import ApplicationError, NotFound, PermissionDenied
from qinghe.realtime.consumers import PolicyConsumer

from . import presence, rules, selectors, services
from .models import Stream

ACTIONS = {
    "ask": "question_ask",
    "answer": "question_answer",
    "pin": "question_pin",
    "unpin": "question_pin",
    "hide": "question_hide",
    "release": "question_release",
}


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "；".join(m for m in exc.messages) or "输入有误"
    return str(exc) or "操作失败"


async def _flush_viewers(stream_id: int) -> None:
    from channels.layers import get_channel_layer

    count = presence.viewers(stream_id)
    await database_sync_to_async(_record_peak)(stream_id, count)
    layer = get_channel_layer()
    if layer is not None:
        await layer.group_send(
            services.stream_group(stream_id), {"type": "live.viewers", "count": count}
        )


def _record_peak(stream_id: int, count: int) -> None:
    Stream.objects.filter(pk=stream_id, state=Stream.State.LIVE, peak_viewers__lt=count).update(
        peak_viewers=count
    )


class LiveConsumer(PolicyConsumer):
    route_name = "ws:live"

    stream_id: int
    team: bool
    counted: bool = False

    def authorise(self, user: Any, **kwargs: Any) -> list[str]:
        stream = selectors.stream_get_for_viewer(viewer=user, stream_id=int(kwargs["stream_id"]))
        self.stream_id = stream.pk
        self.team = selectors.viewer_is_team(viewer=user, stream=stream)
        groups = [services.stream_group(stream.pk)]
        if self.team:
            groups.append(services.team_group(stream.pk))
        return groups

    async def on_joined(self, user: Any, **kwargs: Any) -> None:
        presence.join(self.stream_id, user.pk)
        self.counted = True
        presence.schedule_flush(self.stream_id, _flush_viewers)
        state = await database_sync_to_async(self._state)()
        await self.send_json(state)

    def _state(self) -> dict[str, Any]:
        stream = Stream.objects.get(pk=self.stream_id)
        user = self.scope["user"]
        return {
            "type": "state",
            "state": stream.state,
            "team": self.team,
            "moderator": rules.is_organiser(user),
            "viewers": presence.viewers(self.stream_id),
            "questions": selectors.questions_for(stream=stream, team=self.team),
        }

    async def disconnect(self, code: int) -> None:
        if self.counted:
            self.counted = False
            presence.leave(self.stream_id, self.scope["user"].pk)
            presence.schedule_flush(self.stream_id, _flush_viewers)
        await super().disconnect(code)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or content.get("action") not in ACTIONS:
            await self.send_json({"type": "error", "message": "无法识别的操作"})
            return
        try:
            reply = await database_sync_to_async(self._act)(content)
        except (ValidationError, ApplicationError, PermissionDenied, NotFound) as exc:
            await self.send_json({"type": "error", "message": _message(exc)})
            return
        await self.send_json(reply)

    def _act(self, content: dict[str, Any]) -> dict[str, Any]:
        user = self.scope["user"]
        stream = Stream.objects.get(pk=self.stream_id)
        action = content["action"]
        if action == "ask":
            question = services.question_ask(
                actor=user, stream=stream, text=str(content.get("text", ""))
            )
            return {
                "type": "asked",
                "id": question.pk,
                "held": question.state == question.State.HELD,
            }
        qid = content.get("id")
        if action == "answer":
            services.question_answer(
                actor=user, stream=stream, question_id=qid, text=str(content.get("text", ""))
            )
        elif action in ("pin", "unpin"):
            services.question_pin(
                actor=user, stream=stream, question_id=qid, pinned=action == "pin"
            )
        elif action == "hide":
            services.question_hide(actor=user, stream=stream, question_id=qid)
        else:
            services.question_release(actor=user, stream=stream, question_id=qid)
        return {"type": "done", "action": action, "id": qid}

    # --- group messages -----------------------------------------------------------------------

    async def live_question(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "question", "question": event["question"]})

    async def live_removed(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "removed", "id": event["id"]})

    async def live_viewers(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "viewers", "count": event["count"]})

    async def live_state(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "stream", "state": event["state"]})

    async def live_applied(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "applied", "posting": event["posting"]})
