"""Thin task wrappers: take plain arguments, call one service."""

from __future__ import annotations

from django_tasks import task

from .audit import audit_purge_expired


@task()
def purge_expired_audit() -> int:
    return audit_purge_expired()
