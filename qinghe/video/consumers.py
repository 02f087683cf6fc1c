"""The signalling socket of a video room: WebRTC offers, answers and ICE candidates relayed
between the room's parties, the text chat (the fallback when video fails), the interviewer's
notes saved through ``services.room_save_notes``, and the room's recording state pushed to
every page (``room.recording``).

Caller/callee rule: the interviewer always makes the offer, the student answers. Whoever joins
sends ``hello``; the interviewer answers a student's ``hello`` with a fresh offer (a new
connection id), the student answers an interviewer's ``hello`` with its own ``hello``. A page
whose socket dropped sends ``hello`` again on reconnecting, so the call is renegotiated.

Observers (staff, only where the student agreed) receive and never send: each side opens one
more connection to each observer and offers its own camera and microphone send-only; the
observer may only say ``hello``/``bye`` and answer (an answer cannot add media the offer did
not ask for, and one that would send is dropped here), every signal it sends is addressed
(``to``) to one side's socket, and observers never hear each other. Every socket has an opaque
``peer`` id; a signal with ``to`` reaches that socket only. When the student withdraws the
consent the observers' sockets are closed (4403) at once. An observer joining is audited."""

from __future__ import annotations

import secrets
from typing import Any

from channels.db import database_sync_to_async
from django.core.exceptions import ValidationError
from django.utils import timezone

from qinghe.core.audit import audit_record
from qinghe.core.errors import ApplicationError
from qinghe.realtime.consumers import CLOSE_REFUSED, PolicyConsumer, Refused

from . import selectors, services

SIGNAL_KINDS = frozenset({"hello", "offer", "answer", "candidate", "bye"})
OBSERVER_KINDS = frozenset({"hello", "answer", "candidate", "bye"})
# Sent by a side to everyone (observers included): joining and leaving.
BROADCAST_KINDS = frozenset({"hello", "bye"})
MAX_SIGNAL = 20_000
MAX_CHAT = 500


def _answer_sends_media(signal: dict[str, Any]) -> bool:
    """True when an SDP answer would send media (an observer's must be receive-only)."""
    sdp = str(signal.get("sdp") or "")
    return "a=sendrecv" in sdp or "a=sendonly" in sdp


class VideoRoomConsumer(PolicyConsumer):
    route_name = "ws:video_room"

    room_id: int
    party: str
    peer: str

    def authorise(self, user: Any, **kwargs: Any) -> list[str]:
        room = selectors.room_get(room_uuid=kwargs["room_uuid"])
        party = selectors.room_party(viewer=user, room=room)
        if party is None:
            raise Refused()
        self.room_id, self.party = room.pk, party
        self.peer = secrets.token_hex(8)
        if party == selectors.OBSERVER:
            audit_record(
                action="view", actor=user, target=room, summary="工作人员旁听视频面试（学生已同意）"
            )
        return [room.group]

    async def on_joined(self, user: Any, **kwargs: Any) -> None:
        def read() -> tuple[Any, dict[str, Any]]:
            room = selectors.room_get(room_uuid=kwargs["room_uuid"])
            return room, services.recording_state(room)

        room, recording = await database_sync_to_async(read)()
        await self.send_json(
            {
                "type": "welcome",
                "party": self.party,
                "peer": self.peer,
                "starts_at": room.starts_at.isoformat(),
                "ends_at": room.ends_at.isoformat(),
                "now": timezone.now().isoformat(),
            }
        )
        await self.send_json(_recording_message(recording))

    async def disconnect(self, code: int) -> None:
        # An observer gone (left, dropped, or turned out) is a "bye" to both sides, which close
        # the connections they opened to it.
        if getattr(self, "party", None) == selectors.OBSERVER and self.groups_joined:
            await self.channel_layer.group_send(
                self.groups_joined[0],
                {
                    "type": "room.signal",
                    "sender": self.channel_name,
                    "from": self.peer,
                    "to": "",
                    "party": self.party,
                    "signal": {"kind": "bye"},
                },
            )
        await super().disconnect(code)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        if kind == "signal":
            await self._relay_signal(content)
        elif kind == "chat" and self.party != selectors.OBSERVER:
            await self._chat(content)
        elif kind == "notes":
            await self._save_notes(content)
        elif kind == "ping":  # the page's heartbeat (a half-open socket is noticed)
            await self.send_json({"type": "pong"})

    async def _relay_signal(self, content: dict[str, Any]) -> None:
        signal = content.get("signal")
        if not isinstance(signal, dict):
            return
        if signal.get("kind") not in SIGNAL_KINDS or len(str(signal)) > MAX_SIGNAL:
            return
        to = content.get("to")
        if to is not None and not isinstance(to, str):
            return
        if self.party == selectors.OBSERVER:
            if signal["kind"] not in OBSERVER_KINDS:
                return
            if signal["kind"] == "answer" and _answer_sends_media(signal):
                return
            if signal["kind"] not in BROADCAST_KINDS and not to:
                return
        await self.channel_layer.group_send(
            self.groups_joined[0],
            {
                "type": "room.signal",
                "sender": self.channel_name,
                "from": self.peer,
                "to": to or "",
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
        if event["sender"] == self.channel_name:
            return
        sender_observes = event["party"] == selectors.OBSERVER
        if self.party == selectors.OBSERVER:
            # An observer hears a side's hello/bye, and what a side addressed to it.
            if sender_observes:
                return
            if event["to"] != self.peer and not (
                not event["to"] and event["signal"].get("kind") in BROADCAST_KINDS
            ):
                return
        elif event["to"]:
            if event["to"] != self.peer:
                return
        elif sender_observes and event["signal"].get("kind") not in BROADCAST_KINDS:
            return
        await self.send_json(
            {
                "type": "signal",
                "party": event["party"],
                "from": event["from"],
                "signal": event["signal"],
            }
        )

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

    async def room_observers(self, event: dict[str, Any]) -> None:
        """The student changed the observer consent: observers leave when it is withdrawn."""
        if self.party == selectors.OBSERVER and not event["allowed"]:
            await self.close(code=CLOSE_REFUSED)

    async def room_recording(self, event: dict[str, Any]) -> None:
        await self.send_json(_recording_message(event))


def _recording_message(state: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "recording",
        "interviewer": bool(state["interviewer"]),
        "student": bool(state["student"]),
        "recording": bool(state["recording"]),
    }
