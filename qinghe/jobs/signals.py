"""Kept page parts that show postings (core/fragments.py) are given new versions whenever a
posting or an enterprise is saved or deleted, or a posting's required majors change: Django
announces every such write, whichever service makes it, so none can be missed. The receivers
write nothing but the cache's version tokens. (A queryset ``update()`` announces nothing: the
one on postings, in ``services._set_majors``, bumps the version itself.)"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import m2m_changed, post_delete, post_save

from qinghe.core import fragments
from qinghe.enterprises.models import Enterprise

from .models import Posting


def _postings_changed(sender: Any, **kwargs: Any) -> None:
    if kwargs.get("action", "post_").startswith("pre_"):
        return
    fragments.bump(fragments.POSTINGS)


def connect() -> None:
    for model in (Posting, Enterprise):
        post_save.connect(
            _postings_changed, sender=model, dispatch_uid=f"fragments-save-{model.__name__}"
        )
        post_delete.connect(
            _postings_changed, sender=model, dispatch_uid=f"fragments-delete-{model.__name__}"
        )
    for through in (Posting.required_majors.through, Posting.required_categories.through):
        m2m_changed.connect(
            _postings_changed, sender=through, dispatch_uid=f"fragments-m2m-{through.__name__}"
        )
