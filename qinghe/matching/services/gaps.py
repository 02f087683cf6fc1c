"""The skills-gap (急需紧缺) export as .xlsx."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import xlsxwriter

from qinghe.core.audit import audit_record
from qinghe.core.spreadsheets import escape_cell

if TYPE_CHECKING:
    from qinghe.accounts.models import User

GAP_COLUMNS = [
    "排名",
    "代码",
    "名称",
    "在招岗位数",
    "招聘人数",
    "未来三年毕业的鹤山籍学子",
    "供需比（学子/招聘人数）",
    "紧缺指数",
]


def gap_export(*, viewer: User, report: Any) -> bytes:
    """The shortage lists (by major category and by occupation group) as .xlsx, cells that
    start like a formula escaped; the export is audited."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    count = 0
    for title, rows in (("按专业类", report.categories), ("按职业小类", report.groups)):
        sheet = workbook.add_worksheet(title)
        for col, name in enumerate(GAP_COLUMNS):
            sheet.write_string(0, col, name)
        for r, row in enumerate(rows, start=1):
            values: list[Any] = [
                r,
                row.code,
                row.name,
                round(row.postings, 2),
                round(row.headcount, 2),
                round(row.supply, 2),
                "" if row.ratio is None else round(row.ratio, 2),
                round(row.shortage, 2),
            ]
            for col, value in enumerate(values):
                if isinstance(value, int | float):
                    sheet.write_number(r, col, value)
                else:
                    sheet.write_string(r, col, str(escape_cell(value)))
            count += 1
    notes = workbook.add_worksheet("说明")
    for r, line in enumerate(report.notes):
        notes.write_string(r, 0, str(escape_cell(line)))
    workbook.close()
    audit_record(
        action="export",
        actor=viewer,
        target_type="matching.gap",
        summary=f"导出急需紧缺人才需求分析 {count} 行",
        count=count,
        data={"years": list(report.years)},
    )
    return buffer.getvalue()
