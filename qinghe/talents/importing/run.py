"""The import as a whole: start (or resume) a batch, run it chunk by chunk from where it
stopped, write the rejected rows file and audit once."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone

from qinghe.core.audit import audit_record
from qinghe.core.errors import ApplicationError
from qinghe.core.gcpause import gc_paused
from qinghe.core.masking import scrub_text

from .. import normalize
from ..models import Destination, Education, ImportBatch, PhoneNumber, Talent
from ..xlsxhead import HeadMismatch
from .chunks import (
    ImportConflict,
    ImportContext,
    Overlay,
    chunk_compute,
    chunk_write,
    process_chunk,
    reference_index,
)
from .files import (
    ImportFileError,
    check_file,
    check_size,
    file_kind,
    load_stored,
    open_table,
    sha256_of,
)
from .reader import ReadAhead, prepare_chunk
from .rejected import write_rejected_file
from .storage import save_private
from .writer import KeyPool

logger = logging.getLogger(__name__)

# Rows per chunk (one transaction). Each commit on SQLite writes every page the chunk touched
# to the WAL, and the indexes on random keys (blind indexes, names) touch most of their leaf
# pages in any chunk: at 10,000 rows, half as many commits write about half as many pages as
# at 5,000 (1.8 -> 0.9 s of CPU for 100,000 rows, measured). A kill loses at most one chunk.
DEFAULT_CHUNK_SIZE = 10_000

# A fresh run of a long .xlsx sheet starts on its first chunks read from the sheet's head
# (``xlsxhead``): as many as the importing process works through while the parsing process
# reads the rest of the sheet.
HEAD_CHUNKS = 3

ProgressCallback = Callable[[ImportBatch], None]


def survey_batch_start(
    *,
    file_name: str,
    file_sha256: str,
    source_name: str,
    created_by: Any = None,
    stored_path: str = "",
) -> tuple[ImportBatch, bool]:
    """The unfinished batch of this file from this source (resumed), or a new one.
    Returns (batch, resumed). A finished file imported again gets a new batch."""
    source_name = normalize.clean_text(source_name)[:120]
    if not source_name:
        raise ImportFileError("请填写数据来源")
    existing = (
        ImportBatch.objects.filter(file_sha256=file_sha256, source_name=source_name)
        .exclude(state=ImportBatch.State.DONE)
        .order_by("-id")
        .first()
    )
    if existing is not None:
        if stored_path and stored_path != existing.stored_path:
            existing.stored_path = stored_path
            existing.save(update_fields=["stored_path", "updated_at"])
        return existing, True
    batch = ImportBatch.objects.create(
        source_name=source_name,
        file_name=Path(file_name).name[:255],
        file_sha256=file_sha256,
        stored_path=stored_path,
        created_by=created_by if getattr(created_by, "pk", None) else None,
    )
    return batch, False


def survey_upload(
    *, upload: Any, source_name: str, created_by: Any = None
) -> tuple[ImportBatch, bool]:
    """Checks an uploaded file, stores it encrypted under ``imports/uploads/`` and
    starts (or resumes) its batch. The caller enqueues ``tasks.run_import``."""
    check_size(upload.size)
    data = upload.read()
    kind = check_file(upload.name, data)
    digest = sha256_of(data)
    # Named by content (the same file is kept once), encrypted at rest.
    stored = save_private(f"imports/uploads/{digest}.{kind}", data)
    return survey_batch_start(
        file_name=upload.name,
        file_sha256=digest,
        source_name=source_name,
        created_by=created_by,
        stored_path=stored,
    )


@dataclass(frozen=True)
class ImportResult:
    batch: ImportBatch
    seconds: float

    @property
    def summary_line(self) -> str:
        return self.batch.summary_line


def survey_import_run(
    *,
    batch_id: int,
    data: bytes | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: ProgressCallback | None = None,
    today: dt.date | None = None,
    overlap_chunks: bool = True,
) -> ImportResult:
    """Imports (or resumes) a batch. ``data`` is the file's content; without it the stored
    upload is read. A finished batch is returned as it is.

    ``overlap_chunks``: on PostgreSQL, outside a transaction, each chunk's look-ups and
    matching run while the previous chunk's writes run on a second connection
    (``_run_overlapped``)."""
    started = time.perf_counter()
    batch = ImportBatch.objects.get(pk=batch_id)
    if batch.state == ImportBatch.State.DONE:
        return ImportResult(batch, 0.0)
    try:
        if data is None:
            data = load_stored(batch)
        if sha256_of(data) != batch.file_sha256:
            raise ImportFileError("文件内容与该批次登记的不一致")
        kind = file_kind(batch.file_name)
        today = today or timezone.localdate()
        run = functools.partial(
            _run_table,
            batch,
            kind,
            data,
            chunk_size=chunk_size,
            today=today,
            overlap_chunks=overlap_chunks,
            progress=progress,
        )
        # A fresh run reads a long sheet's head first (``xlsxhead``), a resumed one the whole.
        head_rows = HEAD_CHUNKS * chunk_size + normalize.HEADER_SEARCH_ROWS
        try:
            run(head_rows=head_rows if batch.rows_done == 0 else None)
        except HeadMismatch:
            # Nothing was committed (``ReadAhead.confirm``): the run again, from the whole.
            logger.info("import batch %s: reading the whole sheet", batch.pk)
            batch.refresh_from_db()
            if batch.rows_done == 0:
                batch.header_map = {}  # the whole sheet's, taken again
            run(head_rows=None)
        batch.refresh_from_db()
        # The rejected rows file allocates tens of thousands of small objects: with the
        # collector on, that set off full collections over everything the process holds
        # (0.61-0.67 s for the 100,000-row survey's 953 rejected rows, 0.24 s without).
        with gc_paused():
            _finish(batch)
    except ImportConflict:
        raise
    except Exception as exc:
        message = (
            exc.message if isinstance(exc, ApplicationError) else f"导入中断：{type(exc).__name__}"
        )
        ImportBatch.objects.filter(pk=batch_id).exclude(state=ImportBatch.State.DONE).update(
            state=ImportBatch.State.FAILED,
            error=scrub_text(message)[:1000],
            updated_at=timezone.now(),
        )
        logger.warning("import batch %s failed: %s", batch_id, type(exc).__name__)
        raise
    seconds = time.perf_counter() - started
    if progress:
        progress(batch)
    return ImportResult(batch, seconds)


def _run_table(
    batch: ImportBatch,
    kind: str,
    data: bytes,
    *,
    head_rows: int | None,
    chunk_size: int,
    today: dt.date,
    overlap_chunks: bool,
    progress: ProgressCallback | None,
) -> None:
    """The file's chunks from the batch's ``rows_done`` on, the batch marked running; a
    sheet longer than ``head_rows`` read from its head first (``xlsxhead``)."""
    with gc_paused():  # the head's rows: tens of thousands of lists
        table = open_table(kind, data, head_rows)
    if not batch.header_map:
        batch.total_rows = table.estimated_rows()
        batch.header_map = {"header_row": table.header_row, **table.header.as_json()}
        batch.extra_columns = list(table.header.extra)
    batch.state = ImportBatch.State.RUNNING
    batch.error = ""
    batch.save(
        update_fields=[
            "total_rows",
            "header_map",
            "extra_columns",
            "state",
            "error",
            "updated_at",
        ]
    )
    if progress:
        progress(batch)
    logger.info(
        "import batch %s: %s rows, resuming after %s",
        batch.pk,
        batch.total_rows,
        batch.rows_done,
    )
    ctx = ImportContext(
        batch_id=batch.pk,
        file_sha256=batch.file_sha256,
        header=table.header,
        reference=reference_index(),
        today=today,
        now=timezone.now(),
    )
    rows_done = batch.rows_done
    chunks = ctx.read_ahead = ReadAhead(table, skip=rows_done, chunk_size=chunk_size, today=today)
    with gc_paused(), contextlib.closing(chunks), _sqlite_bulk_pragmas():
        if overlap_chunks and _can_overlap():
            _run_overlapped(batch, chunks, ctx=ctx, rows_done=rows_done, progress=progress)
        else:
            for rows, work in chunks:
                process_chunk(batch.pk, rows, ctx=ctx, rows_done_before=rows_done, work=work)
                rows_done += len(rows)
                chunks.discard(rows, work)  # freed by the read-ahead thread
                del rows, work
                if progress:
                    batch.refresh_from_db()
                    progress(batch)


def sqlite_in_memory() -> bool:
    """The default database is SQLite in memory (the test suite's)."""
    from django.db.backends.sqlite3.base import DatabaseWrapper

    conn = connections[DEFAULT_DB_ALIAS]
    return isinstance(conn, DatabaseWrapper) and bool(conn.is_in_memory_db())


def _can_overlap() -> bool:
    """Overlapping chunks takes a second connection, which sees only what is committed: not
    inside a transaction (a test's, say); on PostgreSQL, and on SQLite in a database file in
    WAL mode (readers do not wait for the writer; not in memory, where connections share one
    cache, locked table by table)."""
    if connection.in_atomic_block:
        return False
    if connection.vendor == "sqlite":
        if sqlite_in_memory():
            return False
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            return str(cursor.fetchone()[0]).lower() == "wal"
    return connection.vendor == "postgresql"


class _ChunkWriter:
    """A thread writing computed chunks one at a time, in order, on its own connection
    (Django's connections are per thread), at most one chunk behind the caller."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="survey-writer")
        self._pending: Future[Any] | None = None
        # The thread's connection as the importing thread's is for the run (SQLite's cache
        # and checkpoints, ``_sqlite_bulk_pragmas``); it is closed at the end.
        self._pool.submit(_sqlite_writer_pragmas).result()

    def wait(self) -> None:
        """Until the chunk in flight is committed; its error, if any, raised here."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self.wait()
        self._pending = self._pool.submit(fn, *args, **kwargs)

    def close(self) -> None:
        """Waits for the chunk in flight (its error is not raised: the caller is failing or
        has waited already) and closes the thread's connection."""
        if self._pending is not None:
            with contextlib.suppress(Exception):
                self._pending.result()
            self._pending = None
        # In the thread: ``connection`` there is that thread's own.
        self._pool.submit(lambda: connection.close()).result()
        self._pool.shutdown()


# Keys reserved ahead at most at a time, per table (``writer.KeyPool``).
KEY_BLOCK = 100_000

# Seconds: the interpreter's switch interval while chunks overlap. The server is the
# bottleneck: when the writer thread's COPY has drained (the server took the rows) it must get
# the GIL back soon to send more, not after the default 5 ms of the other threads' Python.
OVERLAP_SWITCH_INTERVAL = 0.001


def _run_overlapped(
    batch: ImportBatch,
    chunks: ReadAhead,
    *,
    ctx: ImportContext,
    rows_done: int,
    progress: ProgressCallback | None,
) -> None:
    """The chunk loop with each chunk's writes (server-bound on PostgreSQL: inserting,
    indexing, checking foreign keys) running in a writer thread on its own connection while
    this thread looks up and matches the next chunk (client-bound; the server idle).

    The next chunk's look-ups cannot see the previous chunk's writes, not committed yet (or
    committed half-way through them): the previous chunk's talents, as it leaves them, are
    overlaid on what the database says (``chunks.Overlay``), so each chunk finds exactly what
    it would after the previous commit. At most one chunk is in flight: before handing a chunk
    to the writer, this thread waits for the one before it to be committed. A kill loses the
    chunk in flight, uncommitted, and the batch's ``rows_done`` (committed with each chunk)
    says where a rerun starts, as without overlap."""
    # Keys for the rows still to come (each row creates at most one talent, phone, education
    # and destination; at most KEY_BLOCK at a time), reserved by the writer thread before its
    # first chunk: while the first chunk is matched, and on SQLite before any chunk holds the
    # write lock.
    ctx.keys = KeyPool(min(max(batch.total_rows - rows_done, 0) + 1, KEY_BLOCK))
    ctx.keys.filling()
    writer = _ChunkWriter()
    writer.submit(ctx.keys.fill, (Talent, PhoneNumber, Education, Destination))
    overlay: Overlay | None = None
    previous = sys.getswitchinterval()
    sys.setswitchinterval(OVERLAP_SWITCH_INTERVAL)
    try:
        for rows, work in chunks:
            if work is None:
                work = prepare_chunk(rows, ctx.header, ctx.today)
            # The read-ahead thread parses on meanwhile, taking turns on the GIL: holding it
            # while a chunk is matched (so that it parses only while this thread waits) was
            # measured slower (14.93-15.34 s against 14.02-14.43 s, same client CPU).
            processor = chunk_compute(ctx, work, overlay)
            writer.submit(
                chunk_write, processor, batch.pk, rows_done_before=rows_done, rows=len(rows)
            )
            overlay = Overlay(processor)
            rows_done += len(rows)
            if progress:
                batch.refresh_from_db()
                progress(batch)
        writer.wait()
    finally:
        sys.setswitchinterval(previous)
        writer.close()


# SQLite only, for the run's chunk loop, on this connection, restored afterwards.
# The page cache (2 MB by default) is far smaller than one chunk's pages (the talents' rows
# and the indexes on blind indexes and names, whose random keys touch most of their leaf
# pages every chunk): SQLite spilled dirty pages to the WAL mid-transaction and read them
# back, and checkpointed after every chunk's commit (the WAL passes 1,000 pages each time),
# copying the same index pages into the database file 20 times for 100,000 rows. With a
# 128 MB cache (kept across chunks: in WAL mode SQLite keeps it while no other connection
# writes) and a checkpoint once the WAL passes 128 MB, each page is read once and copied a
# few times; the WAL file stays bounded.
SQLITE_IMPORT_CACHE_KIB = 128 * 1024
SQLITE_IMPORT_CHECKPOINT_PAGES = 32768


def _sqlite_writer_pragmas() -> None:
    """This thread's SQLite connection set for the run (``_sqlite_bulk_pragmas``)."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {-SQLITE_IMPORT_CACHE_KIB}")
            cursor.execute(f"PRAGMA wal_autocheckpoint = {SQLITE_IMPORT_CHECKPOINT_PAGES}")


@contextlib.contextmanager
def _sqlite_bulk_pragmas() -> Iterator[None]:
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        cache_size = int(cursor.fetchone()[0])
        cursor.execute("PRAGMA wal_autocheckpoint")
        checkpoint = int(cursor.fetchone()[0])
    _sqlite_writer_pragmas()
    try:
        yield
    finally:
        if connection.connection is not None:  # not closed meanwhile
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA cache_size = {cache_size}")
                cursor.execute(f"PRAGMA wal_autocheckpoint = {checkpoint}")


def _finish(batch: ImportBatch) -> None:
    with transaction.atomic():
        batch.total_rows = batch.rows_done
        batch.rejected_file = write_rejected_file(batch)
        batch.state = ImportBatch.State.DONE
        batch.finished_at = timezone.now()
        batch.save(
            update_fields=["total_rows", "rejected_file", "state", "finished_at", "updated_at"]
        )
        audit_record(
            action="import",
            actor=batch.created_by,
            target=batch,
            summary=f"{batch.source_name} {batch.file_name}: {batch.reconciliation}",
            count=batch.total_rows,
            data={
                "rows": batch.total_rows,
                "created": batch.created,
                "updated": batch.updated,
                "unchanged": batch.unchanged,
                "rejected": batch.rejected,
                "flagged": batch.flagged,
                "extra_columns": batch.extra_columns,
            },
        )
    logger.info("import batch %s done: %s", batch.pk, batch.summary_line)


def survey_import_path(
    path: str | Path,
    *,
    source_name: str,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: ProgressCallback | None = None,
    created_by: Any = None,
    today: dt.date | None = None,
) -> ImportResult:
    """Imports a file from disk (the management command and the benchmark)."""
    path = Path(path)
    if not path.is_file():
        raise ImportFileError(f"找不到文件：{path}")
    file_kind(path.name)
    check_size(path.stat().st_size)
    data = path.read_bytes()
    check_file(path.name, data)
    batch, _ = survey_batch_start(
        file_name=path.name,
        file_sha256=sha256_of(data),
        source_name=source_name,
        created_by=created_by,
    )
    return survey_import_run(
        batch_id=batch.pk, data=data, chunk_size=chunk_size, progress=progress, today=today
    )
