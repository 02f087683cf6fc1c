"""Kept page parts that show alliance stories (a posting's page lists related ones: core/
fragments.py) are given new versions whenever a story is saved or deleted, whichever service
writes it. The receivers write nothing but the cache's version token."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from qinghe.core import fragments

from .models import Story


def _stories_changed(sender: Any, **kwargs: Any) -> None:
    fragments.bump(fragments.STORIES)


def connect() -> None:
    post_save.connect(_stories_changed, sender=Story, dispatch_uid="fragments-save-Story")
    post_delete.connect(_stories_changed, sender=Story, dispatch_uid="fragments-delete-Story")
