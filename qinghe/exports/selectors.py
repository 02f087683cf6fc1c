"""Reads of exports: a person sees only their own."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from qinghe.core.errors import NotFound

from .models import Export

if TYPE_CHECKING:
    from qinghe.accounts.models import User


def export_list(*, viewer: User) -> QuerySet[Export]:
    if getattr(viewer, "pk", None) is None:
        return Export.objects.none()
    return Export.objects.filter(owner=viewer).order_by("-created_at", "-id")


def export_get_for_viewer(*, viewer: User, export_id: int) -> Export:
    """The viewer's own export; anyone else's is the same 404 as a missing one."""
    export = export_list(viewer=viewer).filter(pk=export_id).first()
    if export is None:
        raise NotFound("未找到该导出")
    return export
