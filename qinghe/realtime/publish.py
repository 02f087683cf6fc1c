"""Pushing a change to the people watching it, after the change has committed.

The database stays the truth: a push only tells open pages to look again (or carries what they
show). A group that is a broadcast room (``qinghe.realtime.broadcast``: a live stream's viewers)
gets its frame encoded once here and one message per worker process. Pushes are best effort — a page that missed one catches up when it reconnects, since each
consumer sends its current state on joining — so a failure to publish is logged, never raised
into the service that changed the data.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from . import broadcast

logger = logging.getLogger(__name__)


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def publish_now(groups: Iterable[str], message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for group in groups:
        try:
            if broadcast.is_room(group):
                async_to_sync(broadcast.publish)(group, message)
            else:
                async_to_sync(layer.group_send)(group, message)
        except Exception:  # noqa: BLE001 - a push is best effort; the data is already saved
            logger.exception("websocket publish to %s failed", group)


def publish_on_commit(groups: Iterable[str], message: dict[str, Any]) -> None:
    """Publishes when the caller's transaction commits; nothing if it rolls back."""
    targets = list(groups)
    if targets:
        transaction.on_commit(lambda: publish_now(targets, message))
