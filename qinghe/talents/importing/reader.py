"""Reading the survey: rows parsed into ``RowWork`` (pure, no database), in chunks, by a
background thread one chunk ahead of the writes (``ReadAhead``)."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import gc
import json
import multiprocessing
import operator
import os
import pickle
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections

from qinghe.accounts.phones import phone_index

from .. import normalize
from ..identity import IdNumber
from ..normalize import HeaderMap, ParsedRow, Rejection, SurveyTable


@dataclass(slots=True)
class RowWork:
    row_number: int
    cells: list[Any]
    result: ParsedRow | Rejection
    raw: str  # the row's cells as JSON text (ImportRow.raw)
    id_index: str | None = None
    phone_index: str | None = None


def _row_work(row_number: int, cells: list[Any], result: ParsedRow | Rejection) -> RowWork:
    """A parsed row with its blind indexes (keyed: computed here, in the importing process)
    and its cells as JSON text (ImportRow.raw)."""
    raw = json.dumps(
        [cell if type(cell) is str else normalize.cell_text(cell) for cell in cells],
        ensure_ascii=False,
    )
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


class ReadAhead:
    """Reads and parses the file's chunks in a background thread, at most one chunk ahead of
    the loop that writes them.

    Parsing is pure Python without database access, so it can run while the importing thread
    waits for the database with the GIL released: while PostgreSQL inserts, indexes and
    checks the foreign keys of what a COPY sent it (the end of each COPY waits for that), and
    while a chunk commits (an fsync on SQLite) and the next chunk is awaited.

    The importing thread opens that window (``resume``) and closes it (``pause``); the thread
    stops at its next checkpoint, a few rows later. Everywhere else (look-ups, matching,
    building and sending the rows, SQLite's inserts, which release the GIL for every row) the
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
        source = _file_chunks(
            table, skip=skip, chunk_size=chunk_size, today=today, checkpoint=self._checkpoint
        )
        self._thread = threading.Thread(
            target=self._run, args=(source,), name="survey-read-ahead", daemon=True
        )
        self._thread.start()
        self.table: TableInfo | None = None  # set by whoever opened the table

    def pause(self) -> None:
        self._go.clear()

    def resume(self) -> None:
        self._go.set()

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        """Lets the thread parse while the caller waits for the database, then pauses it."""
        self.resume()
        try:
            yield
        finally:
            self.pause()

    def _checkpoint(self) -> None:
        self._go.wait()
        if self._stop:
            raise _Stopped

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


# ---------------------------------------------------------------------------- in a process

# A parsed row crosses the pipe as a tuple of plain values: pickling the dataclasses
# themselves (each through copyreg and a state dict) cost the importing process about as
# much as parsing them had (0.53 s to unpickle 20,000 rows, measured, against 0.10 s for the
# tuples and 0.30 s to build the objects again). The cells stay in the reader: what the
# import keeps of them is ``raw``, their JSON text.
_ALL_FIELDS = tuple(f.name for f in dataclasses.fields(ParsedRow))
_ID_POSITION = _ALL_FIELDS.index("id_number")
# A ParsedRow's values but its IdNumber, which goes as a tuple of its own values.
_parsed_values = operator.attrgetter(*(name for name in _ALL_FIELDS if name != "id_number"))
_id_values = operator.attrgetter(*(f.name for f in dataclasses.fields(IdNumber)))
_NO_CELLS: list[Any] = []


def pack_chunk(work: Sequence[RowWork]) -> list[tuple[Any, ...]]:
    """A chunk's ``RowWork`` as tuples of plain values (``unpack_chunk`` builds them again)."""
    packed: list[tuple[Any, ...]] = []
    for item in work:
        result = item.result
        if isinstance(result, Rejection):
            packed.append((item.row_number, item.raw, None, result.reasons))
            continue
        ident = result.id_number
        packed.append(
            (
                item.row_number,
                item.raw,
                _parsed_values(result),
                None if ident is None else _id_values(ident),
                item.id_index,
                item.phone_index,
            )
        )
    return packed


def unpack_chunk(packed: Sequence[tuple[Any, ...]]) -> list[RowWork]:
    """The ``RowWork`` of ``pack_chunk``'s tuples, with no cells (``raw`` has them)."""
    work: list[RowWork] = []
    for entry in packed:
        if entry[2] is None:
            work.append(RowWork(entry[0], _NO_CELLS, Rejection(entry[3]), entry[1]))
            continue
        values = entry[2]
        ident = None if entry[3] is None else IdNumber(*entry[3])
        result = ParsedRow(*values[:_ID_POSITION], ident, *values[_ID_POSITION:])  # type: ignore[call-arg]  # the values in field order
        work.append(RowWork(entry[0], _NO_CELLS, result, entry[1], entry[4], entry[5]))
    return work


READER_NAME = "survey-read-ahead"


@dataclass(frozen=True)
class TableInfo:
    """What the importing side needs of the opened table: its header and the estimate of its
    data rows (``SurveyTable.estimated_rows``)."""

    header_row: int
    header: HeaderMap
    estimated_rows: int | None  # None when not asked for (a resumed batch knows its total)


def table_info(table: SurveyTable, *, count: bool) -> TableInfo:
    return TableInfo(table.header_row, table.header, table.estimated_rows() if count else None)


# Django connections a forked reader inherited, kept referenced and never used or closed:
# closing them would end the parent's session (the socket is shared after a fork).
_INHERITED_CONNECTIONS: list[Any] = []


def _forget_inherited_connections() -> None:
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None:
            _INHERITED_CONNECTIONS.append(conn.connection)
            conn.connection = None


def _die_with_parent() -> None:
    """Linux: the reader gets SIGKILL when the importing process dies (kill -9 included).
    Elsewhere its next send fails on the closed pipe and it exits then."""
    with contextlib.suppress(Exception):
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG


def _read_in_child(
    send: Any,
    receive: Any,
    credit: Any,
    opener: Callable[[str, bytes], SurveyTable],
    kind: str,
    data: bytes,
    skip: int,
    chunk_size: int,
    today: dt.date,
    count: bool,
) -> None:
    receive.close()
    _die_with_parent()
    _forget_inherited_connections()
    # As in the importing process's chunk loop (gc_paused): parsing makes many short-lived
    # objects and no cycles; the collector would rescan everything the fork inherited. The
    # process ends with the file.
    gc.disable()

    def put(entry: tuple[str, Any]) -> None:
        send.send_bytes(pickle.dumps(entry, pickle.HIGHEST_PROTOCOL))

    try:
        try:
            table = opener(kind, data)
            put(("table", table_info(table, count=count)))
            parent = os.getppid()
            for _rows, work in _file_chunks(table, skip=skip, chunk_size=chunk_size, today=today):
                # One chunk in the pipe at most: wait until the importing process has
                # taken the one before (or is gone).
                while not credit.acquire(timeout=0.5):
                    if os.getppid() != parent:
                        return
                put(("chunk", pack_chunk(work)))
        except (BrokenPipeError, ConnectionResetError):
            return  # the importing process is gone
        except BaseException as exc:  # noqa: BLE001 - handed to the importing process
            try:
                put(("error", exc))
            except (BrokenPipeError, ConnectionResetError):
                return
            except Exception:  # noqa: BLE001 - an exception pickle cannot carry
                put(("error", RuntimeError(type(exc).__name__)))
            return
        put(("end", None))
    except (BrokenPipeError, ConnectionResetError):
        return
    finally:
        send.close()


def _widen_pipe(end: Any) -> None:
    """Linux: a 1 MB pipe instead of 64 KB, so a chunk (about 5 MB at 10,000 rows) crosses in
    a few writes rather than 80, each a switch between the two processes (slow on a busy
    machine). Elsewhere, or above the system's limit, the pipe stays as it is."""
    with contextlib.suppress(OSError, AttributeError, ImportError):
        import fcntl

        fcntl.fcntl(end.fileno(), fcntl.F_SETPIPE_SZ, 1 << 20)


class ProcessReadAhead:
    """Opens, reads and parses the file in a forked process (the machine's other core), at
    most two chunks ahead of the importing process (one waiting in the pipe, one parsed and
    waiting to be sent), which gets each chunk (its rows and ``RowWork``) pickled through a
    pipe, in the file's order.

    The parsing needs no database and runs on the other core while this process matches,
    builds and writes; a thread could only take turns with it on the GIL. The child forgets
    the Django connections it inherited (they belong to the parent's sessions) and dies with
    the parent. An exception in the child (the file unreadable, a row that breaks the parser)
    is raised here when the import reaches that point; chunks before it are written as usual.

    ``pause``, ``resume`` and ``running`` do nothing (``ReadAhead``'s interface): a process
    never competes for this one's interpreter."""

    def __init__(
        self,
        kind: str,
        data: bytes,
        *,
        skip: int,
        chunk_size: int,
        today: dt.date,
        opener: Callable[[str, bytes], SurveyTable],
        count: bool,
    ) -> None:
        context = multiprocessing.get_context("fork")
        receive, send = context.Pipe(duplex=False)
        _widen_pipe(send)
        self._receive = receive
        self._credit = context.Semaphore(1)
        self._process = context.Process(
            target=_read_in_child,
            args=(send, receive, self._credit, opener, kind, data, skip, chunk_size, today, count),
            name=READER_NAME,
            daemon=True,
        )
        self._process.start()
        send.close()
        self._done = False
        try:
            self.table: TableInfo = self._next("table")
        except BaseException:
            self.close()  # the file cannot be opened: nobody else will stop the reader
            raise

    def _next(self, expected: str) -> Any:
        try:
            kind, value = pickle.loads(self._receive.recv_bytes())  # noqa: S301 - our child
        except EOFError:
            self._done = True
            raise RuntimeError("读取文件的进程意外退出") from None
        if kind == "error":
            self._done = True
            raise value
        if kind == "end":
            self._done = True
            return _END
        if kind != expected:
            raise RuntimeError(f"read-ahead: expected {expected}, got {kind}")
        return value

    def pause(self) -> None:
        pass

    def resume(self) -> None:
        pass

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        yield

    def __iter__(self) -> Iterator[Any]:
        while not self._done:
            item = self._next("chunk")
            if item is _END:
                return
            self._credit.release()  # the reader may send the next chunk (parsed meanwhile)
            work = unpack_chunk(item)
            yield [(row.row_number, row.cells) for row in work], work

    def close(self) -> None:
        """Stops the child (done, or the import failed) and waits for it."""
        self._receive.close()
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._process.close()


_END = object()


def fork_available() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()
