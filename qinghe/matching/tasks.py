"""Thin task wrappers: take ids (or nothing), call one service."""

from __future__ import annotations

from django_tasks import task

from .services import recompute


@task()
def recompute_recommendations() -> int:
    """Every recommendation and candidate list from scratch (nightly, or after a change of
    weights or of the majors' occupations). Returns how many recommendations were stored."""
    return recompute.recommendations_recompute_all().recommendations


@task()
def posting_published(posting_id: int) -> int:
    """A posting event (published, closed, changed): this posting with every stale one, so
    that events queued close together are done in one go; see ``postings_refresh``."""
    return recompute.posting_refresh(posting_id)


@task()
def posting_closed(posting_id: int) -> int:
    return recompute.posting_refresh(posting_id)


@task()
def refresh_posting(posting_id: int) -> int:
    return recompute.posting_refresh(posting_id)


@task()
def refresh_talent(talent_id: int) -> int:
    return recompute.recommendations_refresh_talent(talent_id=talent_id)
