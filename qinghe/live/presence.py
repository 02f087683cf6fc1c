"""Who is watching, counted in this worker process: sockets per user per stream, so one
student with the page open in two tabs counts once. A worker broadcasts its count at most once
a second (``FLUSH_SECONDS``) so 500 viewers joining do not mean 500 x 500 messages.

One ASGI worker holds every socket of a stream in the embedded set-up and the benchmark; with
several workers behind a load balancer each counts its own viewers (docs/OPERATIONS.md)."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Callable, Coroutine
from typing import Any

FLUSH_SECONDS = 1.0

_sockets: dict[int, Counter[int]] = defaultdict(Counter)
_pending: dict[int, asyncio.TimerHandle] = {}


def join(stream_id: int, user_id: int) -> int:
    _sockets[stream_id][user_id] += 1
    return viewers(stream_id)


def leave(stream_id: int, user_id: int) -> int:
    counts = _sockets[stream_id]
    counts[user_id] -= 1
    if counts[user_id] <= 0:
        del counts[user_id]
    if not counts:
        _sockets.pop(stream_id, None)
    return viewers(stream_id)


def viewers(stream_id: int) -> int:
    return len(_sockets.get(stream_id, ()))


def schedule_flush(stream_id: int, flush: Callable[[int], Coroutine[Any, Any, None]]) -> None:
    """Runs ``flush(stream_id)`` once, ``FLUSH_SECONDS`` from the first change not yet sent."""
    if stream_id in _pending:
        return
    loop = asyncio.get_running_loop()

    def fire() -> None:
        _pending.pop(stream_id, None)
        loop.create_task(flush(stream_id))

    _pending[stream_id] = loop.call_later(FLUSH_SECONDS, fire)


def reset() -> None:
    """Tests: forget every count and pending flush."""
    for handle in _pending.values():
        handle.cancel()
    _pending.clear()
    _sockets.clear()
