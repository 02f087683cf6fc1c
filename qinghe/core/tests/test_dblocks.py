"""A name held with ``dblocks.held`` keeps every other session out until the block ends, and
the matching services that replace stored lists hold ``MATCHING_LISTS`` while they run."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.db import connection

from qinghe.core import dblocks

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="advisory locks: PostgreSQL"),
]


@pytest.fixture
def other() -> Iterator[psycopg.Connection[Any]]:
    """A second session on the same database, as another process would have."""
    s = connection.settings_dict
    conn = psycopg.connect(
        dbname=s["NAME"],
        user=s["USER"],
        password=s["PASSWORD"],
        host=s["HOST"] or None,
        port=s["PORT"] or None,
        autocommit=True,
    )
    yield conn
    conn.close()


def free_for(other: psycopg.Connection[Any], name: str) -> bool:
    """Whether the other session can take ``name`` now (it gives it back at once)."""
    key = dblocks.lock_key(name)
    row = other.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone()
    assert row is not None
    if row[0]:
        other.execute("SELECT pg_advisory_unlock(%s)", [key])
    return bool(row[0])


def test_a_held_name_keeps_other_sessions_out_until_the_block_ends(
    other: psycopg.Connection[Any],
) -> None:
    assert free_for(other, dblocks.MATCHING_LISTS)
    with dblocks.held(dblocks.MATCHING_LISTS):
        assert not free_for(other, dblocks.MATCHING_LISTS)
        assert free_for(other, "another name")
    assert free_for(other, dblocks.MATCHING_LISTS)


def test_an_error_in_the_block_gives_the_name_back(other: psycopg.Connection[Any]) -> None:
    with pytest.raises(RuntimeError, match="boom"), dblocks.held(dblocks.MATCHING_LISTS):
        raise RuntimeError("boom")
    assert free_for(other, dblocks.MATCHING_LISTS)


@pytest.mark.parametrize(
    ("service", "inner", "kwargs"),
    [
        ("recommendations_recompute_all", "_recompute_all", {}),
        ("postings_refresh", "_postings_refresh", {"posting_ids": [1]}),
        ("recommendations_refresh_talent", "_refresh_talent", {"talent_id": 1}),
    ],
)
def test_the_services_that_replace_lists_hold_the_matching_lock(
    other: psycopg.Connection[Any],
    monkeypatch: pytest.MonkeyPatch,
    service: str,
    inner: str,
    kwargs: dict[str, Any],
) -> None:
    from qinghe.matching.services import recompute

    seen: list[bool] = []
    # What the work returns when it changed nothing (postings_refresh reads its result after
    # giving the lock back, to renew the kept lists' version).
    nothing = recompute.PostingsRefreshed([], [], {}) if service == "postings_refresh" else None

    def work(*args: Any, **kw: Any) -> Any:
        seen.append(free_for(other, dblocks.MATCHING_LISTS))
        return nothing

    monkeypatch.setattr(recompute, inner, work)
    getattr(recompute, service)(**kwargs)
    assert seen == [False]  # held while the work ran
    assert free_for(other, dblocks.MATCHING_LISTS)  # and given back
