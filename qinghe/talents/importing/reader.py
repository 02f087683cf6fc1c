"""Reading the survey: rows parsed into ``RowWork`` (pure, no database), in chunks, by a
background thread one chunk ahead of the writes (``ReadAhead``)."""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import json
import queue
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections

from qinghe.accounts.phones import phone_index

from .. import normalize
from ..normalize import HeaderMap, ParsedRow, Rejection, SurveyTable


@dataclass(slots=True)
class RowWork:
    row_number: int
    cells: list[Any]
    result: ParsedRow | Rejection
    raw: str  # the row's cells as JSON text (ImportRow.raw)
    id_index: str | None = None
    phone_index: str | None = None


# ``json.dumps(..., ensure_ascii=False)`` without building an encoder for every row.
_raw_json = json.JSONEncoder(ensure_ascii=False).encode


def _row_work(row_number: int, cells: list[Any], result: ParsedRow | Rejection) -> RowWork:
    """A parsed row with its blind indexes (keyed: computed here, in the importing process)
    and its cells as JSON text (ImportRow.raw)."""
    raw = _raw_json([cell if type(cell) is str else normalize.cell_text(cell) for cell in cells])
    if isinstance(result, Rejection):
        return RowWork(row_number, cells, result, raw)
    return RowWork(
        row_number,
        cells,
        result,
        raw,
        id_index=result.id_number.index if result.id_number is not None else None,
        phone_index=phone_index(result.phone) if result.phone else None,
    )


def prepare_chunk(
    rows: Sequence[tuple[int, list[Any]]],
    header: HeaderMap,
    today: dt.date,
    checkpoint: Callable[[], None] | None = None,
) -> list[RowWork]:
    """Parses the rows (pure work, outside the transaction). ``checkpoint`` is called every
    few rows: the read-ahead thread waits there while the importing thread wants the
    interpreter to itself."""
    columns = list(header.columns.items())
    work = []
    for position, (row_number, cells) in enumerate(rows):
        if checkpoint is not None and position % 16 == 0:
            checkpoint()
        if isinstance(cells, normalize.UnreadableCells):
            work.append(_row_work(row_number, cells, Rejection((cells.reason,))))
            continue
        width = len(cells)
        raw = {canonical: cells[pos] if pos < width else None for pos, canonical in columns}
        work.append(_row_work(row_number, cells, normalize.parse_row(raw, today=today)))
    return work


def _file_chunks(
    table: SurveyTable,
    *,
    skip: int,
    chunk_size: int,
    today: dt.date,
    checkpoint: Callable[[], None] | None = None,
) -> Iterator[tuple[list[tuple[int, list[Any]]], list[RowWork]]]:
    """The data rows after the first ``skip``, in chunks, each with its parsed rows."""
    chunk: list[tuple[int, list[Any]]] = []
    for position, item in enumerate(table.rows()):
        if checkpoint is not None and position % 64 == 0:
            checkpoint()
        if skip:
            skip -= 1
            continue
        chunk.append(item)
        if len(chunk) >= chunk_size:
            yield chunk, prepare_chunk(chunk, table.header, today, checkpoint)
            chunk = []
    if chunk:
        yield chunk, prepare_chunk(chunk, table.header, today, checkpoint)


# Seconds: the interpreter's switch interval while the read-ahead thread parses during a wait
# for the database (see ``ReadAhead.running``).
WAIT_SWITCH_INTERVAL = 0.0005


class ReadAhead:
    """Reads and parses the file's chunks in a background thread, at most one chunk ahead of
    the loop that writes them.

    Parsing is pure Python without database access, so it can run while the importing thread
    waits for the database with the GIL released: while PostgreSQL inserts, indexes and
    checks the foreign keys of what a COPY sent it (the end of each COPY waits for that), while
    SQLite runs each INSERT of a thousand rows (``writer._sqlite_insert``: one step of the
    statement, the GIL released throughout), and while a chunk commits (an fsync on SQLite)
    and the next chunk is awaited.

    The importing thread opens that window (``resume``) and closes it (``pause``); the thread
    stops at its next checkpoint, a few rows later. Everywhere else (look-ups, matching,
    building and sending the rows, statements of one row, which release the GIL briefly) the
    two threads would only take turns on the GIL, and each short wait for the database would
    cost the importing thread up to a 5 ms switch interval.

    Chunks come out in the file's order; an exception in the thread is raised in the consumer
    when it reaches that point."""

    _END = object()

    def __init__(
        self,
        table: SurveyTable,
        *,
        skip: int,
        chunk_size: int,
        today: dt.date,
    ) -> None:
        self._queue: queue.Queue[tuple[Any, BaseException | None]] = queue.Queue(maxsize=1)
        self._go = threading.Event()
        self._go.set()
        self._stop = False
        # Lists the consumer is done with, emptied by the thread (``discard``).
        self._trash: collections.deque[list[Any]] = collections.deque()
        source = _file_chunks(
            table, skip=skip, chunk_size=chunk_size, today=today, checkpoint=self._checkpoint
        )
        self._thread = threading.Thread(
            target=self._run, args=(source,), name="survey-read-ahead", daemon=True
        )
        self._thread.start()

    def pause(self) -> None:
        self._go.clear()

    def resume(self) -> None:
        self._go.set()

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        """Lets the thread parse while the caller waits for the database, then pauses it.

        Meanwhile the interpreter's switch interval is ``WAIT_SWITCH_INTERVAL``: when the
        database call returns, the caller waits that long at most for the thread to hand the
        GIL back (5 ms by default, against a few milliseconds for a whole statement)."""
        previous = sys.getswitchinterval()
        sys.setswitchinterval(WAIT_SWITCH_INTERVAL)
        self.resume()
        try:
            yield
        finally:
            self.pause()
            sys.setswitchinterval(previous)

    def discard(self, *containers: list[Any]) -> None:
        """Hands over lists the caller no longer needs (a chunk's rows, parsed rows and
        records; nobody else may use them afterwards), which the thread empties while the
        caller waits for the database: freeing a chunk's hundreds of thousands of objects
        holds the GIL (about 70 ms a chunk), and the importing thread then need not."""
        self._trash.extend(containers)

    def _collect(self) -> None:
        """Empties the discarded lists a few dozen items at a time while the window is
        open (the interpreter can switch to the importing thread between two slices)."""
        trash = self._trash
        while trash and self._go.is_set() and not self._stop:
            container = trash[0]
            if container:
                del container[-32:]
            else:
                trash.popleft()

    def _checkpoint(self) -> None:
        self._go.wait()
        if self._stop:
            raise _Stopped
        self._collect()

    def _run(self, source: Iterator[Any]) -> None:
        try:
            self._produce(source)
        finally:
            # Parsing does not touch the database. Should that change, a connection this
            # thread opened (Django's are per thread) must not outlive it.
            connections.close_all()

    def _produce(self, source: Iterator[Any]) -> None:
        try:
            for item in source:
                self._put((item, None))
        except _Stopped:
            return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            with contextlib.suppress(_Stopped):
                self._put((None, exc))
            return
        with contextlib.suppress(_Stopped):
            self._put((self._END, None))

    def _put(self, entry: tuple[Any, BaseException | None]) -> None:
        while True:
            self._collect()
            try:
                self._queue.put(entry, timeout=0.1)
            except queue.Full:
                if self._stop:
                    raise _Stopped from None
                continue
            return

    def __iter__(self) -> Iterator[Any]:
        while True:
            self.resume()
            item, error = self._queue.get()
            if error is not None:
                raise error
            if item is self._END:
                return
            yield item

    def close(self) -> None:
        """Stops the thread (the consumer is done, or failed) and waits for it."""
        self._stop = True
        self._go.set()
        self._thread.join()


class _Stopped(Exception):
    pass
