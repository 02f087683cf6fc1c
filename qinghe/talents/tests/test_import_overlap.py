"""Overlapping chunks on PostgreSQL and SQLite (``run._run_overlapped``): a chunk's look-ups and
matching run while the previous chunk's writes are in flight on another connection, with
that chunk's talents overlaid (``chunks.Overlay``). The tables must end as the chunks one
after another leave them, also for people in two neighbouring chunks, and a failure in
the writes must leave a resumable batch."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from qinghe.talents.importing import chunks, writer
from qinghe.talents.importing import run as run_module
from qinghe.talents.models import (
    Destination,
    Education,
    ImportBatch,
    ImportRow,
    PhoneNumber,
    Talent,
    ValueChange,
)

from .fixtures import surveys
from .test_import_service import (
    SOURCE,
    die_at_third_chunks_import_rows,
    resume_survey,
    run,
    wipe,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor == "sqlite" and run_module.sqlite_in_memory(),
        reason="chunks overlap on PostgreSQL and in an SQLite file (TEST_SQLITE_PATH)",
    ),
]


@pytest.fixture(autouse=True)
def reference(transactional_db: Any) -> None:
    surveys.load_reference_sample()


def _source(value: Any) -> Any:
    """A provenance source without what differs between two runs (batch, time)."""
    if isinstance(value, dict):
        return tuple(sorted((k, v) for k, v in value.items() if k not in ("ref", "at")))
    return value


def full_snapshot() -> dict[str, list[Any]]:
    """Every imported table by value (with provenance, conflicts and each row's outcome),
    without ids, timestamps or batch references."""

    def who(talent: Talent | None) -> tuple[str, str] | None:
        return None if talent is None else (talent.id_number, talent.name)

    return {
        "talents": sorted(
            (
                who(t),
                t.gender,
                t.birth_date,
                t.wechat,
                t.email,
                t.hukou_text,
                t.town_id,
                t.note,
                t.status,
                t.returned_home,
                t.graduation_year,
                t.native_evidence,
                sorted((k, _source(v)) for k, v in t.provenance.items()),
            )
            for t in Talent.objects.all()
        ),
        "phones": sorted(
            (who(p.talent), p.number, p.is_current, p.source)
            for p in PhoneNumber.objects.select_related("talent")
        ),
        "educations": sorted(
            (
                who(e.talent),
                e.university_name,
                e.university_id,
                e.major_name,
                e.level,
                e.enrolment_year,
                e.graduation_year,
                e.source_ref.partition(":")[2],
            )
            for e in Education.objects.select_related("talent")
        ),
        "destinations": sorted(
            (
                who(d.talent),
                d.kind,
                d.employer,
                d.region_text,
                d.area,
                d.year,
                d.source_ref.partition(":")[2],
            )
            for d in Destination.objects.select_related("talent")
        ),
        "changes": sorted(
            (who(c.talent), c.field, c.old_value, c.new_value, c.state)
            for c in ValueChange.objects.select_related("talent")
        ),
        "rows": sorted(
            (r.row_number, r.outcome, who(r.talent), r.reason, r.flagged)
            for r in ImportRow.objects.select_related("talent")
        ),
    }


def writes_wait_for_the_next_lookups(monkeypatch: pytest.MonkeyPatch, chunk_count: int) -> Any:
    """Holds each chunk's writes until the next chunk has been computed, so every chunk looks
    up the database before the previous one commits (the overlay alone knows its talents).
    Returns the list of (chunk, talents the overlay handed in)."""
    computed = {"n": 0}
    changed = threading.Condition()
    overlaid: list[tuple[int, int]] = []
    real_compute, real_write = chunks.chunk_compute, chunks.chunk_write
    written = {"n": 0}

    def compute(ctx: Any, work: Any, overlay: Any) -> Any:
        processor = real_compute(ctx, work, overlay)
        if overlay is not None:
            used = sum(pk in overlay.states for pk in processor.states_by_pk)
            overlaid.append((computed["n"], used))
        with changed:
            computed["n"] += 1
            changed.notify_all()
        return processor

    def write(processor: Any, batch_id: int, **kwargs: Any) -> Any:
        number = written["n"]
        written["n"] += 1
        with changed:
            assert changed.wait_for(
                lambda: computed["n"] >= min(number + 2, chunk_count), timeout=30
            )
        return real_write(processor, batch_id, **kwargs)

    monkeypatch.setattr(run_module, "chunk_compute", compute)
    monkeypatch.setattr(run_module, "chunk_write", write)
    return overlaid


def writer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("survey-writer")]


def test_overlapped_chunks_end_as_chunks_one_after_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = resume_survey(tmp_path)
    with monkeypatch.context() as m:
        m.setattr(run_module, "_can_overlap", lambda: False)
        line, _ = run(path, chunk_size=10)
    assert line == "rows=55 created=46 updated=7 unchanged=0 rejected=2\n"
    one_after_another = full_snapshot()
    wipe()

    overlaid = writes_wait_for_the_next_lookups(monkeypatch, chunk_count=6)
    # The overlapped chunks' rows are built by the importing thread and sent by the writer
    # (on PostgreSQL as COPYs in binary; the chunks one after another: text), and the
    # tables end the same.
    sent: list[str] = []
    later = writer.CopyLater if connection.vendor == "postgresql" else writer.SqliteLater
    real_send = later.__call__

    def send(self: Any) -> None:
        if isinstance(self, writer.CopyLater):
            assert self.sql.endswith(" FROM STDIN (FORMAT BINARY)")
            sent.append(self.sql.split()[1].strip('"'))
        else:
            sent.append(self.model._meta.db_table)
        assert threading.current_thread().name.startswith("survey-writer")
        real_send(self)

    monkeypatch.setattr(later, "__call__", send)
    assert run(path, chunk_size=10)[0] == line
    assert full_snapshot() == one_after_another
    assert {"talents_talent", "talents_phonenumber", "talents_importrow"} <= set(sent)
    # Chunk 5 (rows 40-49) finds person 33 of chunk 4 again by ID; chunk 6 (rows 50-54)
    # finds three people without an ID of chunk 5 by name and phone: all from the overlay,
    # their rows in the database not committed yet.
    assert overlaid == [(1, 0), (2, 0), (3, 0), (4, 1), (5, 3)]
    assert not writer_threads()
    # And again: every row unchanged, found in the database and in the overlays.
    assert run(path, chunk_size=10)[0] == "rows=55 created=0 updated=0 unchanged=53 rejected=2\n"
    assert len(ImportBatch.objects.all()) == 2


def test_a_failed_write_leaves_the_batch_resumable_with_the_same_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = resume_survey(tmp_path)
    clean_line, _ = run(path, chunk_size=10)
    clean = full_snapshot()
    wipe()

    # Chunk 3's writes die after its talents, before its import rows; chunk 4 is being
    # computed meanwhile.
    real_insert = die_at_third_chunks_import_rows(monkeypatch)
    with pytest.raises(RuntimeError, match="killed"):
        run(path, chunk_size=10)
    batch = ImportBatch.objects.get()
    assert (batch.state, batch.rows_done, batch.error) == ("failed", 20, "导入中断：RuntimeError")
    assert ImportRow.objects.filter(batch=batch).count() == 20
    assert Talent.objects.count() == ImportRow.objects.filter(outcome="created").count()
    assert not writer_threads()

    monkeypatch.setattr(chunks, "insert_records", real_insert)
    assert run(path, chunk_size=10)[0] == clean_line
    assert ImportBatch.objects.get().pk == batch.pk
    assert full_snapshot() == clean


def test_two_imports_of_one_batch_conflict_in_the_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = resume_survey(tmp_path)
    real_write = chunks.chunk_write

    def racing_write(processor: Any, batch_id: int, **kwargs: Any) -> Any:
        if kwargs["rows_done_before"] == 20:  # another process wrote chunk 3 meanwhile
            ImportBatch.objects.filter(pk=batch_id).update(rows_done=30)
        return real_write(processor, batch_id, **kwargs)

    monkeypatch.setattr(run_module, "chunk_write", racing_write)
    with pytest.raises(chunks.ImportConflict):
        run_module.survey_import_path(path, source_name=SOURCE, chunk_size=10)
    batch = ImportBatch.objects.get()
    assert (batch.rows_done, ImportRow.objects.filter(batch=batch).count()) == (30, 20)
    assert not writer_threads()


def test_keys_reserved_ahead_are_not_taken_by_another_writer() -> None:
    # Overlapping chunks take their new rows' keys from blocks reserved ahead (SQLite: in the
    # tables' AUTOINCREMENT counters; PostgreSQL: from the sequences): a talent created
    # meanwhile (the web server) gets a key after the block, and the next block starts after
    # that talent.
    from .factories import make_talent

    pool = writer.KeyPool(5)
    pool.fill([Talent])
    first = pool.take(Talent, 3)
    assert first == [first[0], first[0] + 1, first[0] + 2]
    other = make_talent()
    assert other.pk == first[0] + 5
    assert pool.take(Talent, 2) == [first[0] + 3, first[0] + 4]
    assert pool.take(Talent, 1) == [other.pk + 1]
    assert make_talent().pk == other.pk + 6


def test_keys_are_taken_once_the_writer_has_reserved_them() -> None:
    # The writer thread reserves the first block while the first chunk is matched: a chunk
    # that needs its keys sooner waits for that block rather than reserving its own.
    pool = writer.KeyPool(4)
    pool.filling()
    reserved: list[list[range]] = []
    real_reserve = writer.KeyPool.reserve

    def fill_later() -> None:
        time.sleep(0.2)
        try:
            pool.fill([Talent])
        finally:
            connection.close()

    def recording_reserve(model: Any, count: int) -> list[range]:
        ranges = real_reserve(model, count)
        reserved.append(ranges)
        return ranges

    pool.reserve = recording_reserve  # type: ignore[method-assign]
    thread = threading.Thread(target=fill_later)
    started = time.monotonic()
    thread.start()
    keys = pool.take(Talent, 4)
    waited = time.monotonic() - started
    thread.join()
    assert waited >= 0.2
    assert len(reserved) == 1  # the writer's block only
    assert keys == list(reserved[0][0])
    assert keys == [keys[0], keys[0] + 1, keys[0] + 2, keys[0] + 3]
    assert Talent.objects.filter(pk__in=keys).count() == 0
