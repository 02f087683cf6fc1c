"""Reading the survey: rows parsed into ``RowWork`` (pure, no database), in chunks, one chunk
ahead of the writes (``ReadAhead``): parsed in a forked process on the machine's other core
where the platform can fork (``ForkedParser``), else by the read-ahead thread itself. A long
.xlsx sheet is read from its head first (``qinghe.talents.xlsxhead``): its tail is read by
that process (or a thread) meanwhile, and ``ReadAhead.confirm`` holds the run's first commit
until the tail is found to follow the head."""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import datetime as dt
import gc
import itertools
import json
import multiprocessing
import operator
import os
import pickle
import queue
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections

from qinghe.accounts.phones import phone_index

from .. import normalize
from ..identity import IdNumber
from ..normalize import HeaderMap, ParsedRow, Rejection, SurveyTable
from ..xlsxhead import HeadMismatch


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
    limit: int | None = None,
) -> Iterator[tuple[list[tuple[int, list[Any]]], list[RowWork]]]:
    """The data rows after the first ``skip``, in chunks (the first ``limit`` chunks only,
    given one), each with its parsed rows.

    Without a limit, the file's last chunk comes in two halves when it holds more than half
    a chunk: nothing overlaps the last chunk's writes (the importing process waits for them),
    and half a chunk is written in half the time."""
    if limit is not None and limit <= 0:
        return
    chunk: list[tuple[int, list[Any]]] = []
    full: list[tuple[int, list[Any]]] | None = None  # a chunk held until a row follows it
    for position, item in enumerate(table.rows()):
        if checkpoint is not None and position % 64 == 0:
            checkpoint()
        if skip:
            skip -= 1
            continue
        if full is not None:
            yield full, prepare_chunk(full, table.header, today, checkpoint)
            full = None
        chunk.append(item)
        if len(chunk) >= chunk_size:
            if limit is None:
                full, chunk = chunk, []
                continue
            yield chunk, prepare_chunk(chunk, table.header, today, checkpoint)
            chunk = []
            limit -= 1
            if limit == 0:
                return
    last = full if full is not None else chunk
    if limit is None and len(last) * 2 > chunk_size:
        half = len(last) // 2
        parts = [last[:half], last[half:]]
    else:
        parts = [last] if last else []
    for part in parts:
        yield part, prepare_chunk(part, table.header, today, checkpoint)


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
        self._parser: ForkedParser | None = None
        # A sheet read from its head first (``xlsxhead``): whether its rest was found to
        # follow the head, asked of the process that reads it (``confirm``).
        self._whole = table.whole
        self._confirmed = table.whole is None
        self._checked: int | None = None  # the child's answer's pipe
        source: Iterator[tuple[list[tuple[int, list[Any]]], list[RowWork]]]
        if FORK_PARSER:
            # Forked here, on the caller's thread, before this object starts its own. The
            # child starts at the second chunk, which it parses while this process's thread
            # parses the first (the importing thread has nothing to do until the first chunk
            # is parsed): the child's core is not idle meanwhile, and the child stays a chunk
            # further ahead for the rest of the run.
            # With a sheet's head, the child reads the sheet's tail (in a thread, while it
            # parses the head's rows) and writes its answer to ``confirm`` on a pipe.
            checked = None
            if self._whole is not None:
                self._checked, checked = os.pipe()
            try:
                self._parser = ForkedParser(
                    table,
                    skip=skip + chunk_size,
                    chunk_size=chunk_size,
                    today=today,
                    checked=checked,
                )
            finally:
                if checked is not None:
                    os.close(checked)
            source = itertools.chain(
                _file_chunks(
                    table,
                    skip=skip,
                    chunk_size=chunk_size,
                    today=today,
                    checkpoint=self._checkpoint,
                    limit=1,
                ),
                self._parser.chunks(self._checkpoint),
            )
        else:
            if self._whole is not None:
                self._whole.start()
            source = _file_chunks(
                table, skip=skip, chunk_size=chunk_size, today=today, checkpoint=self._checkpoint
            )
        self._thread = threading.Thread(
            target=self._run, args=(source,), name="survey-read-ahead", daemon=True
        )
        self._thread.start()

    def confirm(self) -> None:
        """Returns once the rows are known to be the file's (at once but for a sheet read
        from its head, until its tail is read: before the run's first commit). Raises
        ``HeadMismatch`` where the tail does not continue the head's rows as the whole sheet
        would."""
        if self._confirmed:
            return
        if self._checked is not None:
            answer = os.read(self._checked, 1)  # the child's, once it has read the sheet
            if not answer:
                raise RuntimeError("解析文件的进程意外退出")
            matches = answer == b"1"
        else:
            assert self._whole is not None
            matches = self._whole.check()
        if not matches:
            raise HeadMismatch
        self._confirmed = True

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
        if self._parser is not None:
            self._parser.close()
        if self._checked is not None:
            os.close(self._checked)
            self._checked = None


class _Stopped(Exception):
    pass


# ---------------------------------------------------------------------------- in a process

# Parse in a forked process where the platform can fork. Parsing is pure Python: in a thread
# it takes turns with the importing thread on the one interpreter lock (about 2.5 s of the
# 100,000-row survey's 10 s of Python), in a process it runs on the other core, and the
# importing process only unpickles and rebuilds the rows (0.36 s for the 100,000).
FORK_PARSER = hasattr(os, "fork") and sys.platform == "linux"

# A parsed row crosses the pipe as a tuple of plain values: pickling the dataclasses
# themselves (each through copyreg and a state) cost about as much as parsing them. The cells
# stay in the child: what the import keeps of them is ``raw``, their JSON text.
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


def unpack_chunk(
    packed: Sequence[tuple[Any, ...]], checkpoint: Callable[[], None] | None = None
) -> list[RowWork]:
    """The ``RowWork`` of ``pack_chunk``'s tuples, without the cells (``raw`` has them)."""
    work: list[RowWork] = []
    append = work.append
    position = _ID_POSITION
    for number, entry in enumerate(packed):
        if checkpoint is not None and number % 256 == 0:
            checkpoint()
        if entry[2] is None:
            append(RowWork(entry[0], _NO_CELLS, Rejection(entry[3]), entry[1]))
            continue
        values = entry[2]
        ident = None if entry[3] is None else IdNumber(*entry[3])
        result = ParsedRow(*values[:position], ident, *values[position:])  # type: ignore[call-arg]  # the values in field order
        append(RowWork(entry[0], _NO_CELLS, result, entry[1], entry[4], entry[5]))
    return work


class ForkedParser:
    """The table's rows parsed in a forked child, in chunks, sent through a pipe in the
    file's order. The pipe holds little (64 KB), so the child parses at most about one
    chunk ahead of the one the importing process is receiving: it waits in ``send`` until
    that is read.

    The child has the opened table (the sheet calamine read, copied on write; for a sheet
    read from its head, the head, and the child reads the tail itself, in a thread while it
    parses the head's rows, and writes on ``checked`` whether the tail lines up: one byte,
    before it ends) and everything else the importing process had; it touches no database
    (it leaves the inherited connections alone), runs without the cyclic collector (it ends
    with the file), dies with the importing process (Linux's parent-death signal, and a
    closed pipe), and leaves by ``os._exit``, so none of the parent's clean-up runs twice. An exception in it (a row that
    breaks the parser) is raised in the importing process when it reaches that chunk."""

    def __init__(
        self,
        table: SurveyTable,
        *,
        skip: int,
        chunk_size: int,
        today: dt.date,
        checked: int | None = None,
    ) -> None:
        receive, send = multiprocessing.Pipe(duplex=False)
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child: its coverage is not collected
            status = 1
            try:
                receive.close()
                _in_child(
                    send,
                    table,
                    parent,
                    skip=skip,
                    chunk_size=chunk_size,
                    today=today,
                    checked=checked,
                )
                status = 0
            finally:
                os._exit(status)
        send.close()
        self._receive = receive
        self.pid: int | None = pid

    def chunks(
        self, checkpoint: Callable[[], None]
    ) -> Iterator[tuple[list[tuple[int, list[Any]]], list[RowWork]]]:
        while True:
            checkpoint()
            try:
                data = self._receive.recv_bytes()
            except EOFError:
                raise RuntimeError("解析文件的进程意外退出") from None
            kind, value = pickle.loads(data)  # noqa: S301 - from our own child
            if kind == "end":
                return
            if kind == "error":
                raise value
            work = unpack_chunk(value, checkpoint)
            del value, data
            yield [(item.row_number, item.cells) for item in work], work

    def close(self) -> None:
        """Ends the child (done, or the import stopped) and reaps it."""
        self._receive.close()
        pid, self.pid = self.pid, None
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def _in_child(
    send: Any,
    table: SurveyTable,
    parent: int,
    *,
    skip: int,
    chunk_size: int,
    today: dt.date,
    checked: int | None,
) -> None:
    _die_with(parent)
    _forget_inherited_connections()
    gc.disable()
    whole = table.whole
    if whole is not None and checked is not None:
        # Read the sheet's tail now, beside the head's rows, and tell the importing process
        # as soon as it is known whether it continues them (``ReadAhead.confirm``).
        whole.on_checked = lambda matches: _tell(checked, matches)
        whole.start()
    try:
        _send_chunks(send, table, skip=skip, chunk_size=chunk_size, today=today)
    finally:
        if whole is not None:
            # Not before the answer is given: the chunks sent before an error are committed
            # only once it is known that their rows are the file's.
            whole.check()


def _send_chunks(
    send: Any, table: SurveyTable, *, skip: int, chunk_size: int, today: dt.date
) -> None:
    def put(entry: tuple[str, Any]) -> None:
        send.send_bytes(pickle.dumps(entry, pickle.HIGHEST_PROTOCOL))

    try:
        try:
            for _rows, work in _file_chunks(table, skip=skip, chunk_size=chunk_size, today=today):
                put(("chunk", pack_chunk(work)))
        except (BrokenPipeError, ConnectionResetError):
            return  # the importing process stopped reading: it is done or gone
        except BaseException as exc:  # noqa: BLE001 - handed to the importing process
            try:
                blob = pickle.dumps(("error", exc), pickle.HIGHEST_PROTOCOL)
                pickle.loads(blob)  # noqa: S301 - the importing process must read it back
            except Exception:  # noqa: BLE001 - an exception pickle cannot carry
                blob = pickle.dumps(("error", RuntimeError(type(exc).__name__)))
            send.send_bytes(blob)
            return
        put(("end", None))
    except (BrokenPipeError, ConnectionResetError):
        return


def _tell(fd: int, matches: bool) -> None:
    with contextlib.suppress(OSError):  # the importing process is gone
        os.write(fd, b"1" if matches else b"0")


# The Django connections the child inherited, kept referenced and never used or closed: they
# are the importing process's sessions (the socket is shared after a fork).
_INHERITED_CONNECTIONS: list[Any] = []


def _forget_inherited_connections() -> None:
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None:
            _INHERITED_CONNECTIONS.append(conn.connection)
            conn.connection = None


def _die_with(parent: int) -> None:
    """The child gets SIGKILL when the importing process dies (kill -9 included): Linux's
    parent-death signal, set now, then a check that the parent had not died already."""
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)
