"""The import as a whole: start (or resume) a batch, run it chunk by chunk from where it
stopped, write the rejected rows file and audit once."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from qinghe.core.audit import audit_record
from qinghe.core.errors import ApplicationError
from qinghe.core.gcpause import gc_paused
from qinghe.core.masking import scrub_text

from .. import normalize
from ..models import (
    ImportBatch,
)
from .chunks import ImportConflict, ImportContext, process_chunk, reference_index
from .files import (
    ImportFileError,
    check_file,
    check_size,
    file_kind,
    load_stored,
    open_table,
    sha256_of,
)
from .reader import ReadAhead
from .rejected import write_rejected_file
from .storage import save_private

logger = logging.getLogger(__name__)

# Rows per chunk (one transaction). Each commit on SQLite writes every page the chunk touched
# to the WAL, and the indexes on random keys (blind indexes, names) touch most of their leaf
# pages in any chunk: at 10,000 rows, half as many commits write about half as many pages as
# at 5,000 (1.8 -> 0.9 s of CPU for 100,000 rows, measured). A kill loses at most one chunk.
DEFAULT_CHUNK_SIZE = 10_000

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
) -> ImportResult:
    """Imports (or resumes) a batch. ``data`` is the file's content; without it the stored
    upload is read. A finished batch is returned as it is."""
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
        table = open_table(kind, data)
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
        chunks = ctx.read_ahead = ReadAhead(
            table, skip=rows_done, chunk_size=chunk_size, today=today
        )
        with gc_paused(), contextlib.closing(chunks), _sqlite_bulk_pragmas():
            for rows, work in chunks:
                process_chunk(batch.pk, rows, ctx=ctx, rows_done_before=rows_done, work=work)
                rows_done += len(rows)
                chunks.discard(rows, work)  # freed by the read-ahead thread
                del rows, work
                if progress:
                    batch.refresh_from_db()
                    progress(batch)
        batch.refresh_from_db()
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
        cursor.execute(f"PRAGMA cache_size = {-SQLITE_IMPORT_CACHE_KIB}")
        cursor.execute(f"PRAGMA wal_autocheckpoint = {SQLITE_IMPORT_CHECKPOINT_PAGES}")
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
