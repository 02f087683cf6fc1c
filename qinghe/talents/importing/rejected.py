"""The rejected rows file: the rows a batch refused, with the file's own columns, 行号 and
拒绝原因, as .xlsx in the default storage, encrypted at rest (storage.py)."""

from __future__ import annotations

import io
import json

import xlsxwriter

from qinghe.core.spreadsheets import escape_cell

from ..models import (
    ImportBatch,
    ImportRow,
)
from .storage import read_private, save_private


def write_rejected_file(batch: ImportBatch) -> str:
    """The rejected rows with the file's own columns, plus 行号 and 拒绝原因, as .xlsx under
    ``imports/<batch id>/rejected.xlsx.enc``. Returns the storage name ('' when none)."""
    rows = list(
        ImportRow.objects.filter(batch=batch, outcome=ImportRow.Outcome.REJECTED)
        .order_by("row_number")
        .values_list("row_number", "reason", "raw")
    )
    if not rows:
        return ""
    names = list((batch.header_map or {}).get("names") or [])
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    sheet = workbook.add_worksheet("拒绝的行")
    bold = workbook.add_format({"bold": True})
    cells = []
    decoded = []
    for row_number, reason, raw in rows:
        values = json.loads(raw) if raw else []
        decoded.append((row_number, reason, values))
        cells.append(len(values))
    width = max([len(names), *cells])
    header = [name or f"第{i + 1}列" for i, name in enumerate(names + [""] * (width - len(names)))]
    for col, title in enumerate([*header, "行号", "拒绝原因"]):
        sheet.write_string(0, col, title, bold)
    for line, (row_number, reason, values) in enumerate(decoded, start=1):
        for col in range(width):
            value = values[col] if col < len(values) else ""
            sheet.write_string(line, col, escape_cell(str(value)))
        sheet.write_number(line, width, row_number)
        sheet.write_string(line, width + 1, escape_cell(reason))
    sheet.freeze_panes(1, 0)
    workbook.close()
    return save_private(f"imports/{batch.pk}/rejected.xlsx", buffer.getvalue(), replace=True)


def rejected_file_read(batch: ImportBatch) -> bytes:
    """The decrypted rejected rows file (callers audit the read)."""
    return read_private(batch.rejected_file)
