"""The signalling socket of a video room: WebRTC offers, answers and ICE candidates relayed
between the room's two parties, the text chat (the fallback when video fails), and the
interviewer's notes saved through ``services.room_save_notes``.

Caller/callee rule: the interviewer always makes the offer, the student answers. Whoever joins
sends ``hello``; the interviewer answers a student's ``hello`` with a fresh offer (a new
connection id), the student answers an interviewer's ``hello`` with its own ``hello``. A page
whose socket dropped sends ``hello`` again on reconnecting, so the call is renegotiated."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from django.core.exceptions import ValidationError
from django.utils import timezone

from qinghe.core.errors import ApplicationError
from qinghe.realtime.consumers import PolicyConsumer, Refused

from . import selectors, services

SIGNAL_KINDS = frozenset({"hello", "offer", "answer", "candidate", "bye"})
MAX_SIGNAL = 20_000
MAX_CHAT = 500


class VideoRoomConsumer(PolicyConsumer):
    route_name = "ws:video_room"

    room_id: int
    party: str

    def authorise(self, user: Any, **kwargs: Any) -> list[str]:
        room = selectors.room_get(room_uuid=kwargs["room_uuid"])
        party = selectors.room_party(viewer=user, room=room)
        if party is None:
            raise Refused()
        self.room_id, self.party = room.pk, party
        return [room.group]

    async def on_joined(self, user: Any, **kwargs: Any) -> None:
        room = await database_sync_to_async(selectors.room_get)(room_uuid=kwargs["room_uuid"])
        await self.send_json(
            {
                "type": "welcome",
                "party": self.party,
                "starts_at": room.starts_at.isoformat(),
                "ends_at": room.ends_at.isoformat(),
                "now": timezone.now().isoformat(),
            }
        )

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        if kind == "signal":
            await self._relay_signal(content)
        elif kind == "chat":
            await self._chat(content)
        elif kind == "notes":
            await self._save_notes(content)

    async def _relay_signal(self, content: dict[str, Any]) -> None:
        signal = content.get("signal")
        if self.party == selectors.OBSERVER or not isinstance(signal, dict):
            return
        if signal.get("kind") not in SIGNAL_KINDS or len(str(signal)) > MAX_SIGNAL:
            return
        await self.channel_layer.group_send(
            self.groups_joined[0],
            {
                "type": "room.signal",
                "sender": self.channel_name,
                "party": self.party,
                "signal": signal,
            },
        )

    async def _chat(self, content: dict[str, Any]) -> None:
        text = str(content.get("text") or "").strip()
        if not text:
            return
        if len(text) > MAX_CHAT:
            await self.send_json({"type": "error", "message": f"消息不能超过 {MAX_CHAT} 字"})
            return
        await self.channel_layer.group_send(
            self.groups_joined[0],
            {
                "type": "room.chat",
                "party": self.party,
                "text": text,
                "at": timezone.localtime().strftime("%H:%M"),
            },
        )

    async def _save_notes(self, content: dict[str, Any]) -> None:
        user = self.scope["user"]

        def save() -> None:
            room = selectors.room_get(room_uuid=self.scope["url_route"]["kwargs"]["room_uuid"])
            services.room_save_notes(
                actor=user,
                room=room,
                notes=str(content.get("notes") or ""),
                result=str(content.get("result") or ""),
            )

        try:
            await database_sync_to_async(save)()
        except ValidationError as exc:
            message = "；".join(m for ms in exc.message_dict.values() for m in ms)
            await self.send_json({"type": "error", "message": message})
            return
        except ApplicationError as exc:
            await self.send_json({"type": "error", "message": str(exc) or "保存失败"})
            return
        await self.send_json({"type": "saved", "at": timezone.localtime().strftime("%H:%M:%S")})

    async def room_signal(self, event: dict[str, Any]) -> None:
        if event["sender"] == self.channel_name or self.party == selectors.OBSERVER:
            return
        await self.send_json({"type": "signal", "party": event["party"], "signal": event["signal"]})

    async def room_chat(self, event: dict[str, Any]) -> None:
        await self.send_json(
            {
                "type": "chat",
                "party": event["party"],
                "who": selectors.PARTY_LABELS[event["party"]],
                "text": event["text"],
                "at": event["at"],
                "mine": event["party"] == self.party,
            }
        )
