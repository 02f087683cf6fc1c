"""The live question box and viewer count of one stream, over ``/ws/live/<stream_id>/``.

Admission: any signed-in user whose policy allows ``ws:live`` and who can see the stream (the
selector decides: students and staff see every stream, an enterprise's HR only streams their
enterprise takes part in). Everyone joins ``live.<id>``; the host's team also joins
``live.<id>.team`` where held questions and new applications arrive.

``live.<id>`` is a broadcast room (``qinghe.realtime.broadcast``): what everyone sees — visible
questions, removals, the viewer count, the stream's state — is encoded once per push by
``viewer_frame`` and written to each socket by its worker's relay, without passing through this
consumer (the reason: bench/bench_live_questions.py, docs/SCALING.md). The team group stays an
ordinary Channels group handled by the methods at the end."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from django.core.exceptions import ValidationError

from qinghe.core.errors import ApplicationError, NotFound, PermissionDenied
from qinghe.realtime import broadcast
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


def viewer_frame(event: dict[str, Any]) -> dict[str, Any] | None:
    """The frame every viewer of a stream gets for an event published to ``live.<id>``."""
    kind = event.get("type")
    if kind == "live.question":
        return {"type": "question", "question": event["question"]}
    if kind == "live.removed":
        return {"type": "removed", "id": event["id"]}
    if kind == "live.viewers":
        return {"type": "viewers", "count": event["count"]}
    if kind == "live.state":
        return {"type": "stream", "state": event["state"]}
    return None


broadcast.register(r"live\.\d+", viewer_frame)


async def _flush_viewers(stream_id: int) -> None:
    count = presence.viewers(stream_id)
    await database_sync_to_async(_record_peak)(stream_id, count)
    await broadcast.publish(
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

    # --- the team group (the room's frames never pass here) -----------------------------------

    async def live_question(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "question", "question": event["question"]})

    async def live_applied(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "applied", "posting": event["posting"]})
