"""The staff talent list's kept counts (talents/views.py, core/fragments.py) are given a new
version whenever a record, an education, a phone number or a value awaiting a choice is saved
or deleted one at a time: Django announces each such write, whichever service makes it. Bulk
writes (an import's ``bulk_create``/``bulk_update``, queryset ``update()``) announce nothing:
the counts then show them within ``views.TALENT_COUNTS_SECONDS``. The receivers write nothing
but the cache's version token."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from qinghe.core import fragments


def _talents_changed(sender: Any, **kwargs: Any) -> None:
    fragments.bump(fragments.TALENTS)


def connect() -> None:
    from .models import Education, PhoneNumber, Talent, ValueChange

    for model in (Talent, Education, PhoneNumber, ValueChange):
        uid = model.__name__
        post_save.connect(_talents_changed, sender=model, dispatch_uid=f"fragments-save-{uid}")
        post_delete.connect(_talents_changed, sender=model, dispatch_uid=f"fragments-del-{uid}")
