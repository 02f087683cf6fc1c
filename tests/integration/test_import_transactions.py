"""Tests that need real transactions (each chunk's own commit), outside a test's wrapping
transaction. They flush the database when they end, which removes the rows that migrations
seed, so they live here, collected after the app tests (as the browser tests are)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection

from qinghe.talents.tests.test_import_service import resume_survey, run


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL planner setting")
def test_the_chunks_planner_setting_ends_with_their_transactions(tmp_path: Path) -> None:
    # Each chunk turns sequential scans off for its own look-ups (SET LOCAL): the connection
    # is left as it was, and the look-ups still find people already in the database.
    path = resume_survey(tmp_path)
    run(path, chunk_size=10)
    with connection.cursor() as cursor:
        cursor.execute("SHOW enable_seqscan")
        assert cursor.fetchone() == ("on",)
    out, _ = run(path, source="另一来源", chunk_size=10)
    assert out == "rows=55 created=0 updated=0 unchanged=53 rejected=2\n"
    with connection.cursor() as cursor:
        cursor.execute("SHOW enable_seqscan")
        assert cursor.fetchone() == ("on",)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL planner settings")
def test_a_chunks_lookups_run_without_parallel_workers_inside_its_transaction_only() -> None:
    # The look-ups' cost without sequential scans made the planner start parallel workers
    # for them (a plan sent to two new processes per query); a chunk turns that off.
    from django.db import transaction

    from qinghe.talents.importing.chunks import _chunk_settings

    def settings() -> tuple[str, str]:
        with connection.cursor() as cursor:
            cursor.execute("SHOW enable_seqscan")
            seqscan = cursor.fetchone()[0]
            cursor.execute("SHOW max_parallel_workers_per_gather")
            return seqscan, cursor.fetchone()[0]

    before = settings()
    with transaction.atomic():
        _chunk_settings(writes=False)
        assert settings() == ("off", "0")
    assert settings() == before
    assert before[0] == "on"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="keys from a sequence")
def test_reserved_keys_come_from_the_tables_sequence() -> None:
    from qinghe.talents.importing.writer import reserve_ids
    from qinghe.talents.models import Talent
    from qinghe.talents.tests.factories import make_talent

    first = reserve_ids(Talent, 3)
    second = reserve_ids(Talent, 2)
    assert first is not None and second is not None
    assert first == list(range(first[0], first[0] + 3))
    assert second == list(range(second[0], second[0] + 2))
    assert second[0] > first[-1]
    # The ORM's next talent gets a key after them: the keys were taken from the sequence.
    assert make_talent().pk > second[-1]
