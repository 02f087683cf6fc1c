"""The rejected rows file: the rows a batch refused, with the file's own columns, 行号 and
拒绝原因, as .xlsx in the default storage."""

from __future__ import annotations

import io
import json

import xlsxwriter
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from qinghe.core.spreadsheets import escape_cell

from ..models import (
    ImportBatch,
    ImportRow,
)


def write_rejected_file(batch: ImportBatch) -> str:
    """The rejected rows with the file's own columns, plus 行号 and 拒绝原因, as .xlsx under
    ``imports/<batch id>/rejected.xlsx``. Returns the storage name ('' when none)."""
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
    name = f"imports/{batch.pk}/rejected.xlsx"
    if default_storage.exists(name):
        default_storage.delete(name)
    return default_storage.save(name, ContentFile(buffer.getvalue()))


def rejected_file_path(batch: ImportBatch) -> str:
    """Where the rejected rows file is, as a file system path when the storage has one."""
    if not batch.rejected_file:
        return ""
    try:
        return default_storage.path(batch.rejected_file)
    except NotImplementedError:
        return batch.rejected_file
