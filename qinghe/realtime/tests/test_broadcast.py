"""Broadcast rooms (qinghe/realtime/broadcast.py): one encoded frame per push reaches every
socket of the room, in order, held until the socket's state is out; a slow socket delays only
itself and is closed when too far behind; the relay leaves the layer's group with its last
socket. Runs on the real in-memory channel layer with plain ASGI send callables."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from channels.layers import InMemoryChannelLayer

from qinghe.live.consumers import viewer_frame
from qinghe.realtime import broadcast
from qinghe.realtime.testing import run_async


class Socket:
    """An ASGI send that records what it was given; ``gate`` (when set) blocks it."""

    def __init__(self, gate: asyncio.Event | None = None) -> None:
        self.sent: list[dict[str, Any]] = []
        self.gate = gate

    async def __call__(self, message: dict[str, Any]) -> None:
        if self.gate is not None:
            await self.gate.wait()
        self.sent.append(message)

    def texts(self) -> list[Any]:
        return [json.loads(m["text"]) for m in self.sent if m["type"] == "websocket.send"]


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


def test_the_live_room_is_registered_and_team_groups_are_not() -> None:
    assert broadcast.frame_for("live.12") is viewer_frame
    assert broadcast.is_room("live.12.team") is False
    assert broadcast.is_room("user.12") is False
    with pytest.raises(ValueError, match="not a broadcast room"):
        broadcast.relay_message("user.12", {"type": "live.viewers", "count": 1})


def test_frames_are_encoded_once_held_until_ready_and_delivered_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    layer = InMemoryChannelLayer()
    monkeypatch.setattr(broadcast, "layer", lambda: layer)
    encoded: list[str] = []
    real_encode = broadcast.encode

    def counting_encode(frame: dict[str, Any]) -> str:
        text = real_encode(frame)
        encoded.append(text)
        return text

    monkeypatch.setattr(broadcast, "encode", counting_encode)

    async def scenario() -> tuple[list[Any], list[Any], list[Any]]:
        early, late = Socket(), Socket()
        first = await broadcast.join("live.7", early)
        second = await broadcast.join("live.7", late)
        first.ready()
        await broadcast.publish("live.7", {"type": "live.viewers", "count": 2})
        await broadcast.publish("live.7", {"type": "live.removed", "id": 5})
        await broadcast.publish("live.7", {"type": "live.applied", "posting": 1})  # no frame
        await _settle()
        held = list(late.sent)
        second.ready()
        await _settle()
        await broadcast.leave(first)
        await broadcast.leave(second)
        return held, early.texts(), late.texts()

    held, early, late = run_async(scenario)()
    expected = [{"type": "viewers", "count": 2}, {"type": "removed", "id": 5}]
    assert held == []
    assert early == expected
    assert late == expected
    assert encoded == ['{"type":"viewers","count":2}', '{"type":"removed","id":5}']


def test_a_slow_socket_delays_only_itself_and_is_closed_past_the_backlog(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    layer = InMemoryChannelLayer(capacity=1000)
    monkeypatch.setattr(broadcast, "layer", lambda: layer)
    monkeypatch.setattr(broadcast, "MAX_BACKLOG", 5)

    async def scenario() -> tuple[list[Any], list[Any], list[Any], int, list[Any]]:
        gate = asyncio.Event()
        quick, slow = Socket(), Socket(gate)
        members = [await broadcast.join("live.8", quick), await broadcast.join("live.8", slow)]
        for member in members:
            member.ready()
        for n in range(3):
            await broadcast.publish("live.8", {"type": "live.viewers", "count": n})
        await _settle()
        quick_first = quick.texts()
        slow_first = list(slow.sent)
        for n in range(3, 12):
            await broadcast.publish("live.8", {"type": "live.viewers", "count": n})
        await _settle()
        gate.set()
        await _settle()
        in_room = len(broadcast.hub().rooms["live.8"])
        for member in members:
            await broadcast.leave(member)
        return quick_first, slow_first, quick.texts(), in_room, slow.sent

    quick_first, slow_first, quick_all, in_room, slow_sent = run_async(scenario)()
    assert quick_first == [{"type": "viewers", "count": n} for n in range(3)]
    assert slow_first == []
    assert quick_all == [{"type": "viewers", "count": n} for n in range(12)]
    # The slow socket got the frame it was writing when it fell behind, then the close.
    assert slow_sent == [
        {"type": "websocket.send", "text": '{"type":"viewers","count":0}'},
        {"type": "websocket.close", "code": broadcast.CLOSE_TOO_SLOW},
    ]
    assert in_room == 1


def test_the_relay_leaves_the_layer_group_with_its_last_socket(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    layer = InMemoryChannelLayer()
    monkeypatch.setattr(broadcast, "layer", lambda: layer)

    async def scenario() -> tuple[list[str], list[str], list[str]]:
        one, two = Socket(), Socket()
        a = await broadcast.join("live.9", one)
        b = await broadcast.join("live.9", two)
        both = list(layer.groups.get("relay.live.9", {}))
        await broadcast.leave(a)
        after_one = list(layer.groups.get("relay.live.9", {}))
        await broadcast.leave(b)
        after_both = list(layer.groups.get("relay.live.9", {}))
        return both, after_one, after_both

    both, after_one, after_both = run_async(scenario)()
    assert len(both) == 1  # one relay for the process, not one member per socket
    assert after_one == both
    assert after_both == []


def test_a_push_reaches_the_room_in_two_processes_through_redis_pubsub(redis_url: str) -> None:
    """Production: two worker processes (two hubs, each with its own pub/sub layer instance)
    hold sockets of one room; a push published from a third process reaches both, once."""
    from channels_redis.pubsub import RedisPubSubChannelLayer

    async def scenario() -> tuple[list[Any], list[Any]]:
        loop = asyncio.get_running_loop()
        layers = [
            RedisPubSubChannelLayer(hosts=[redis_url], prefix="qinghe-test") for _ in range(3)
        ]
        hubs = [broadcast.Hub(loop, layers[0]), broadcast.Hub(loop, layers[1])]
        one, two = Socket(), Socket()
        members = [await hubs[0].join("live.3", one), await hubs[1].join("live.3", two)]
        for member in members:
            member.ready()
        message = broadcast.relay_message("live.3", {"type": "live.removed", "id": 9})
        await layers[2].group_send(broadcast.relay_group("live.3"), message)
        for _ in range(100):
            if one.sent and two.sent:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)  # nothing more arrives
        for hub, member in zip(hubs, members, strict=True):
            await hub.leave(member)
            assert hub.runner is not None
            hub.runner.cancel()
        for layer in layers:
            await layer.flush()
        return one.texts(), two.texts()

    one, two = run_async(scenario)()
    assert one == [{"type": "removed", "id": 9}]
    assert two == [{"type": "removed", "id": 9}]
