"""The unread badge of 我的消息 is kept under each user's inbox version (core/fragments.py,
core/context_processors.py). The services bump it for their bulk writes (``notify_bulk``,
``notify_bulk_count``, marking read: queryset writes announce nothing); these receivers bump it
for every inbox message saved or deleted one at a time (the admin, a user's deletion cascading
to their messages). They write nothing but the cache's version token."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from qinghe.core import fragments


def _inbox_message_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    from .models import Channel

    if instance.channel == Channel.INBOX:
        fragments.bump(fragments.inbox_of(instance.user_id))


def connect() -> None:
    from .models import OutboxMessage

    post_save.connect(
        _inbox_message_changed, sender=OutboxMessage, dispatch_uid="fragments-inbox-save"
    )
    post_delete.connect(
        _inbox_message_changed, sender=OutboxMessage, dispatch_uid="fragments-inbox-delete"
    )
