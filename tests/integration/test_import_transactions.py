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
