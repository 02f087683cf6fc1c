"""An .xlsx survey read from its head first: the first rows at once, the rest once the
sheet's tail is read.

python-calamine reads a worksheet whole before it gives the first row (1.2 s for the
100,000-row survey, on one core, before the import can start). ``workbook_head`` makes the same
workbook with each worksheet cut after its first rows (the worksheet's XML up to a ``<row>``
element, then the closing tags), which calamine reads in a fraction of that time; the import
starts on those rows while ``WholeSheet`` reads the tail (``workbook_tail``: the rows after the
cut, behind the same ``<sheetData>``) in a thread (calamine releases the interpreter lock),
on the other core.

The head's rows are only trusted once the tail is found to continue them as the whole sheet
would (``WholeSheet.check``: its first row numbered, no cell further left or right than the
head's): the import commits nothing before that (``reader.ReadAhead.confirm``), and where it
does not (a cell further right or left further down the sheet changes every row's width or
first column; a workbook this cutting does not understand) the run starts again from the
whole sheet (``HeadMismatch``), as it would have without the head. A workbook that fits in
its head is read as it is.
"""

from __future__ import annotations

import io
import itertools
import re
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import python_calamine

_NAME = rb"(?:[A-Za-z_][\w.\-]*:)?"  # an element's namespace prefix, if any
_SHEET_DATA = re.compile(b"<(" + _NAME + rb")sheetData[\s>]")
_ROOT = re.compile(b"<(" + _NAME + rb")worksheet[\s>]")
# A row element that says which row it is (its ``r``).
_NUMBERED_ROW = re.compile(b"<" + _NAME + rb"row\s[^>]*?(?<=\s)r=\"\d")
_DIMENSION = re.compile(b"<" + _NAME + rb"dimension\s[^>]*?ref=\"[^\"]*?(\d+)\"")

# Bytes inflated at a time while looking for the cut.
_BLOCK = 1 << 20
# How far into a worksheet's XML its root element and ``<sheetData>`` must start.
_PREAMBLE = 1 << 16


class HeadMismatch(Exception):  # noqa: N818 - a signal, not an error the user sees
    """The whole sheet's first rows are not the head's (or the whole sheet could not be read):
    whatever was done with the head's rows is void, and the run starts again from the whole
    sheet."""


@dataclass(frozen=True)
class WorkbookHead:
    data: bytes  # the workbook with its long worksheets cut
    estimated_last_row: int  # the longest cut worksheet's last row, as it declares or guessed
    # Each cut worksheet's member: where its <sheetData> opening tag ends and where the first
    # row left out starts, in its XML.
    cuts: dict[str, tuple[int, int]]


@dataclass(frozen=True)
class _Cut:
    content: bytes
    estimated_last_row: int
    sheet_data_end: int
    end: int


def workbook_head(data: bytes, rows: int) -> WorkbookHead | None:
    """The workbook ``data`` with every worksheet longer than ``rows`` row elements cut after
    them; None when none is (the workbook is its own head) or the archive is not one this
    understands (it is then read whole, as before)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            contents: list[tuple[str, bytes]] = []
            estimates: list[int] = []
            cuts: dict[str, tuple[int, int]] = {}
            for member in members:
                if member.is_dir():
                    continue
                cut = None
                if member.filename.lower().endswith(".xml"):
                    cut = _cut_worksheet(archive, member, rows)
                if cut is not None:
                    contents.append((member.filename, cut.content))
                    estimates.append(cut.estimated_last_row)
                    cuts[member.filename] = (cut.sheet_data_end, cut.end)
                else:
                    contents.append((member.filename, archive.read(member)))
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError):
        return None
    if not cuts:
        return None
    return WorkbookHead(_stored(contents), max(estimates), cuts)


def workbook_tail(data: bytes, cuts: dict[str, tuple[int, int]]) -> bytes | None:
    """The workbook ``data`` with each cut worksheet's rows before its cut left out (the
    rows after it keep their places: the first must say which row it is); None where that
    cannot be made."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            contents: list[tuple[str, bytes]] = []
            for member in archive.infolist():
                if member.is_dir():
                    continue
                content = archive.read(member)
                if member.filename in cuts:
                    sheet_data_end, end = cuts[member.filename]
                    if _NUMBERED_ROW.match(content, end) is None:
                        return None
                    content = b"".join(
                        (memoryview(content)[:sheet_data_end], memoryview(content)[end:])
                    )
                contents.append((member.filename, content))
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError):
        return None
    return _stored(contents)


def _stored(contents: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for name, content in contents:
            archive.writestr(name, content)
    return out.getvalue()


def _cut_worksheet(archive: zipfile.ZipFile, member: zipfile.ZipInfo, rows: int) -> _Cut | None:
    """The worksheet's XML up to its ``rows + 1``-th row element, closed; None when the member
    is not a worksheet or has no more rows than that."""
    with archive.open(member) as stream:
        buffer = bytearray(stream.read(_BLOCK))
        root = _ROOT.search(buffer, 0, _PREAMBLE)
        if root is None:
            return None
        sheet_data = _SHEET_DATA.search(buffer, root.end(), _PREAMBLE)
        if sheet_data is None:
            return None
        # The rows' tags, with the prefix <sheetData> has (a literal: re finds it fast).
        row_tag = re.compile(b"<" + re.escape(sheet_data.group(1)) + rb"row[\s/>]")
        opened = buffer.find(b">", sheet_data.start())
        if opened < 0:
            return None
        position = opened + 1  # the end of <sheetData ...>
        found = 0
        while True:
            for match in row_tag.finditer(buffer, position):
                found += 1
                if found > rows:
                    return _closed(
                        buffer, match.start(), root, sheet_data, opened + 1, member, rows
                    )
                position = match.end()
            block = stream.read(_BLOCK)
            if not block:
                return None
            # A row tag split across two blocks is found again in the next pass.
            position = max(position, len(buffer) - 64)
            buffer += block


def _closed(
    buffer: bytearray,
    end: int,
    root: re.Match[bytes],
    sheet_data: re.Match[bytes],
    sheet_data_end: int,
    member: zipfile.ZipInfo,
    rows: int,
) -> _Cut:
    closing = b"</" + sheet_data.group(1) + b"sheetData></" + root.group(1) + b"worksheet>"
    content = b"".join((memoryview(buffer)[:end], closing))
    # The sheet's own <dimension> (Excel and most writers keep it exact), else its rows by
    # the bytes they take so far.
    declared = _DIMENSION.search(buffer, root.end(), sheet_data.start())
    guessed = rows * member.file_size // max(end, 1)
    estimate = int(declared.group(1)) if declared is not None else 0
    if estimate <= rows:
        estimate = guessed
    return _Cut(content, estimate, sheet_data_end, end)


class WholeSheet:
    """A worksheet's rows, read from its head first: ``rows`` gives the head's at once and the
    rest once the sheet's tail (``workbook_tail``) is read and found to line up with the head.

    ``start`` reads the tail in a thread; ``check`` waits for it and tells whether its rows
    continue the head's as the whole sheet's would: calamine gives a sheet's rows from its
    first row but from its first column with a value, as wide as its widest row, so the
    tail's rows are padded to the head's columns, and where the tail reaches further left or
    right than the head the head's rows are not the whole sheet's (nor where the tail could
    not be made or read: the run then starts again from the whole sheet, which gives that
    error as it always did). ``on_checked``, set before ``start``, is told the answer from
    that thread as soon as it is known."""

    def __init__(
        self,
        data: bytes,
        position: int,
        head: WorkbookHead,
        head_rows: list[list[Any]],
        columns: tuple[int, int],
    ) -> None:
        self._data = data
        self._position = position
        self._cuts = head.cuts
        self.head_rows = head_rows
        self._columns = columns  # the head's first and last column
        self.on_checked: Callable[[bool], None] | None = None
        self._sheet: Any = None
        self._pad = (0, 0)
        self._matches = False
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._read, name="survey-sheet-tail", daemon=True
                )
                self._thread.start()

    def _read(self) -> None:
        matches = False
        try:
            matches = self._read_tail()
        except Exception:  # noqa: BLE001 - the run starts again from the whole sheet: the error is raised there
            matches = False
        finally:
            self._matches = matches
            # Told before anyone waiting goes on (a child process may end right after).
            if self.on_checked is not None:
                self.on_checked(matches)
            self._done.set()

    def _read_tail(self) -> bool:
        tail = workbook_tail(self._data, self._cuts)
        if tail is None:
            return False
        sheet = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(tail)).get_sheet_by_index(
            self._position
        )
        start, end = sheet.start, sheet.end
        if start is None or end is None:  # nothing after the head
            self._sheet = None
            return True
        if start[0] < len(self.head_rows):
            # This worksheet was not cut (another one was): its "tail" is all of it, which
            # must then be its head.
            self._sheet = None
            return list(sheet.iter_rows()) == self.head_rows
        first, last = self._columns
        if start[1] < first or end[1] > last:
            return False
        self._sheet = sheet
        self._pad = (start[1] - first, last - end[1])
        return True

    def check(self) -> bool:
        self.start()
        self._done.wait()
        return self._matches

    def rows(self) -> Iterator[list[Any]]:
        yield from self.head_rows
        if not self.check():
            raise HeadMismatch
        if self._sheet is None:
            return
        rest = itertools.islice(self._sheet.iter_rows(), len(self.head_rows), None)
        left, right = self._pad
        if not (left or right):
            yield from rest
            return
        before, after = [""] * left, [""] * right
        for cells in rest:
            yield [*before, *cells, *after]
