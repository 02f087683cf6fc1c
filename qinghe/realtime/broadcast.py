"""Broadcast rooms: one frame for every socket of a room (a live stream's viewers), encoded once
and fanned out inside each worker process.

Why (measured by ``bench/bench_live_questions.py``, docs/SCALING.md): a Channels group with one
member per socket costs per socket on every push. ``InMemoryChannelLayer.group_send`` to 500
sockets took ~180 ms, because every ``receive`` scans every channel and every group member (the
cost grows with the square of the audience: ~840 ms for 1,000); ``RedisChannelLayer`` carries
500 messages through Redis (~90 ms); and each consumer then encodes the same JSON again.

Here a room is a channel-layer group whose members are the worker processes' relays, one per
process holding sockets in the room, not the sockets. A push is one channel-layer message per
process carrying the frame already encoded as text; the relay writes that text to each of its
process's sockets in the room. The layer is ``CHANNEL_LAYERS["broadcast"]`` when configured (in
production Redis pub/sub: one PUBLISH per push, docs/OPERATIONS.md), else the default layer.

A consumer joins rooms through ``PolicyConsumer`` (a group name matching a registered pattern is
a room). Frames pushed between joining and ``Member.ready()`` (while the consumer queries and
sends its first state) are held and sent after it, so a page never misses a push made while its
state was read, nor gets one before that state. Each socket has its own queue: a slow phone
(the server's write buffer full) delays only itself; past ``MAX_BACKLOG`` frames it is closed
(4408), and the page reconnects and reads the state again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import weakref
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings

logger = logging.getLogger(__name__)

RELAY_TYPE = "realtime.relay"
BROADCAST_ALIAS = "broadcast"
# A socket further behind than this many frames is closed; its page reconnects for the state.
MAX_BACKLOG = 200
CLOSE_TOO_SLOW = 4408
# Channel layers forget a group member after a day (group_expiry); the relays rejoin hourly.
REJOIN_SECONDS = 3600.0

# The ASGI server's own send for this connection, kept in the scope by ``ServerSend``.
SERVER_SEND = "qinghe.server_send"

Frame = dict[str, Any]
FrameFor = Callable[[dict[str, Any]], Frame | None]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_rooms: list[tuple[re.Pattern[str], FrameFor]] = []


def register(pattern: str, frame_for: FrameFor) -> None:
    """Declares the groups fully matching ``pattern`` broadcast rooms; ``frame_for`` turns an
    event published to such a group into the frame every socket in it receives (None: none)."""
    compiled = re.compile(pattern)
    if all(existing.pattern != compiled.pattern for existing, _ in _rooms):
        _rooms.append((compiled, frame_for))


def frame_for(group: str) -> FrameFor | None:
    """The frame function of the room ``group``, or None when it is an ordinary group."""
    for pattern, fn in _rooms:
        if pattern.fullmatch(group):
            return fn
    return None


def is_room(group: str) -> bool:
    return frame_for(group) is not None


def relay_group(room: str) -> str:
    """The channel-layer group of ``room``'s relays."""
    return f"relay.{room}"


def layer() -> Any:
    """The layer carrying rooms: ``broadcast`` when configured, else ``default``."""
    if BROADCAST_ALIAS in getattr(settings, "CHANNEL_LAYERS", {}):
        return get_channel_layer(BROADCAST_ALIAS)
    return get_channel_layer()


def encode(frame: Frame) -> str:
    """A frame as the text the pages parse (compact, Chinese kept as is)."""
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


def relay_message(room: str, event: dict[str, Any]) -> dict[str, Any] | None:
    """The one channel-layer message carrying ``event`` to ``room``'s relays, or None."""
    fn = frame_for(room)
    if fn is None:
        raise ValueError(f"{room} is not a broadcast room")
    frame = fn(event)
    if frame is None:
        return None
    return {"type": RELAY_TYPE, "room": room, "text": encode(frame)}


async def publish(room: str, event: dict[str, Any]) -> None:
    """Pushes ``event`` to every socket of ``room`` in every worker process."""
    message = relay_message(room, event)
    target = layer()
    if message is not None and target is not None:
        await target.group_send(relay_group(room), message)


class ServerSend:
    """ASGI middleware (outermost on websockets, config/asgi.py): keeps the server's send in
    the scope, so that the relay writes room frames straight to the server. The middlewares in
    between (Channels' session and cookie wrappers) act only on ``http.response.start`` and
    ``websocket.accept``; on each ``websocket.send`` they only look, which cost ~15 % of a
    broadcast's writes."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Send) -> Any:
        return await self.app({**scope, SERVER_SEND: send}, receive, send)


# --- one process's sockets ---------------------------------------------------------------------


class Member:
    """One socket in one room: its send callable and its queue of frames."""

    __slots__ = ("backlog", "closed", "hub", "live", "room", "send", "writing")

    def __init__(self, hub: Hub, room: str, send: Send) -> None:
        self.hub = hub
        self.room = room
        self.send = send
        self.backlog: deque[dict[str, Any]] = deque()
        self.live = False  # False until ready(): frames are held
        self.writing = False
        self.closed = False

    def push(self, message: dict[str, Any]) -> None:
        if self.closed:
            return
        if len(self.backlog) >= MAX_BACKLOG:
            self._drop()
            return
        self.backlog.append(message)
        if self.live and not self.writing:
            self._start()

    def ready(self) -> None:
        """The consumer's first state is sent: held frames follow, then every push."""
        self.live = True
        if self.backlog and not self.writing and not self.closed:
            self._start()

    def _start(self) -> None:
        self.writing = True
        task = self.hub.loop.create_task(self._write())
        self.hub.tasks.add(task)
        task.add_done_callback(self.hub.tasks.discard)

    async def _write(self) -> None:
        try:
            while self.backlog and not self.closed:
                # Usually completes at once: the ASGI server waits only while this socket's
                # write buffer is full (a slow phone), and then only this task waits.
                await self.send(self.backlog.popleft())
        except Exception:  # noqa: BLE001 - the socket is gone; its consumer leaves the room
            self.closed = True
            self.backlog.clear()
        finally:
            self.writing = False

    def _drop(self) -> None:
        logger.info("websocket too slow for room %s: closed", self.room)
        self.closed = True
        self.backlog.clear()
        self.hub.discard(self)
        task = self.hub.loop.create_task(self._close())
        self.hub.tasks.add(task)
        task.add_done_callback(self.hub.tasks.discard)

    async def _close(self) -> None:
        try:
            await self.send({"type": "websocket.close", "code": CLOSE_TOO_SLOW})
        except Exception:  # noqa: BLE001 - already gone
            logger.debug("websocket already closed in room %s", self.room)


class Hub:
    """The relay of one event loop (one worker process): its channel, its rooms' members."""

    def __init__(self, loop: asyncio.AbstractEventLoop, channel_layer: Any) -> None:
        self.loop = loop
        self.layer = channel_layer
        self.channel: str | None = None
        self.rooms: dict[str, dict[Member, None]] = {}
        self.lock = asyncio.Lock()
        self.tasks: set[asyncio.Task[Any]] = set()
        self.runner: asyncio.Task[None] | None = None

    async def join(self, room: str, send: Send) -> Member:
        member = Member(self, room, send)
        async with self.lock:
            if self.channel is None:
                self.channel = await self.layer.new_channel()
                self.runner = self.loop.create_task(self._run())
            members = self.rooms.get(room)
            if members is None:
                await self.layer.group_add(relay_group(room), self.channel)
                members = self.rooms[room] = {}
            members[member] = None
        return member

    def discard(self, member: Member) -> None:
        members = self.rooms.get(member.room)
        if members is not None:
            members.pop(member, None)

    async def leave(self, member: Member) -> None:
        member.closed = True
        member.backlog.clear()
        async with self.lock:
            self.discard(member)
            members = self.rooms.get(member.room)
            if members is not None and not members and self.channel is not None:
                del self.rooms[member.room]
                await self.layer.group_discard(relay_group(member.room), self.channel)

    def fan_out(self, room: str, text: str) -> int:
        """Queues ``text`` for every socket of ``room`` here; returns how many."""
        members = self.rooms.get(room)
        if not members:
            return 0
        message = {"type": "websocket.send", "text": text}
        for member in list(members):
            member.push(message)
        return len(members)

    async def _run(self) -> None:
        assert self.channel is not None
        rejoin = self.loop.create_task(self._rejoin())
        self.tasks.add(rejoin)
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a layer hiccup (Redis restarting): retry
                logger.exception("broadcast relay receive failed")
                await asyncio.sleep(1.0)
                continue
            if message.get("type") == RELAY_TYPE:
                self.fan_out(str(message.get("room")), str(message.get("text")))

    async def _rejoin(self) -> None:
        while True:
            await asyncio.sleep(REJOIN_SECONDS)
            async with self.lock:
                for room in list(self.rooms):
                    try:
                        await self.layer.group_add(relay_group(room), self.channel)
                    except Exception:  # noqa: BLE001 - retried next hour
                        logger.exception("broadcast relay rejoin failed")


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()


def hub() -> Hub:
    """This event loop's hub (one per worker process; tests run a loop per test)."""
    loop = asyncio.get_running_loop()
    found = _hubs.get(loop)
    if found is None:
        found = _hubs[loop] = Hub(loop, layer())
    return found


async def join(room: str, send: Send) -> Member:
    """Adds a socket (its ASGI ``send``) to ``room``; call ``ready()`` once its state is sent."""
    return await hub().join(room, send)


async def leave(member: Member) -> None:
    await member.hub.leave(member)
