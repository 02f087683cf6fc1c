"""The leaders' monthly report: the board, the return funnel and where graduates work, as a PDF
(WeasyPrint from an HTML template; Chinese from Debian's fonts-wqy-microhei, charts as SVG) and an
.xlsx with the same figures (xlsxwriter). Aggregates only."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

from django.template.loader import render_to_string

from . import board as board_module
from . import funnel as funnel_module


@dataclass(frozen=True)
class ReportData:
    month: dt.date
    as_of: dt.date
    board: board_module.Board
    yoy: funnel_module.YearOnYear
    where: funnel_module.Destinations


def month_end(month: dt.date) -> dt.date:
    following = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def report_data(*, month: dt.date, today: dt.date) -> ReportData:
    """The figures of ``month`` (its first day): the board of its year as of the month's end,
    or today when the month is still running."""
    as_of = min(month_end(month), today)
    b = board_module.board(year=month.year, today=as_of)
    return ReportData(
        month=month,
        as_of=as_of,
        board=b,
        yoy=funnel_module.year_on_year(year=month.year),
        where=funnel_module.destinations(year=month.year),
    )


def bar_svg(pairs: list[tuple[str, float]], *, width: int = 640, bar: int = 18) -> str:
    """A horizontal bar chart as SVG for the PDF (WeasyPrint draws SVG natively)."""
    from django.utils.html import escape

    if not pairs:
        return ""
    label_w, gap = 150, 6
    top = max((v for _, v in pairs), default=0) or 1
    scale = (width - label_w - 60) / top
    height = len(pairs) * (bar + gap) + gap
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="WenQuanYi Micro Hei" font-size="11">'
    ]
    for i, (label, value) in enumerate(pairs):
        y = gap + i * (bar + gap)
        w = max(0.0, value * scale)
        shown = board_module.show_value(value)
        parts.append(
            f'<text x="{label_w - 6}" y="{y + bar - 5}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar}" fill="#0f6b5c"/>'
            f'<text x="{label_w + w + 4:.1f}" y="{y + bar - 5}">{shown}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def render_pdf(data: ReportData) -> tuple[bytes, int]:
    """The PDF and its page count."""
    from PIL import ImageFile
    from weasyprint import HTML

    # Importing WeasyPrint sets Pillow's process-wide LOAD_TRUNCATED_IMAGES = True, which would
    # let a truncated upload pass every later photo check in this process (the report draws
    # only its own SVG charts and needs no such tolerance).
    ImageFile.LOAD_TRUNCATED_IMAGES = False

    targets = [
        (row.indicator.name, float(row.percent or 0))
        for row in data.board.burndown_rows()
        if row.percent is not None
    ]
    html = render_to_string(
        "plan/report_pdf.html",
        {
            "data": data,
            "targets_svg": bar_svg(targets),
            "funnel_svg": bar_svg([(label, n) for _c, label, n, _r in data.yoy.this.steps]),
            "cities_svg": bar_svg([(k, float(n)) for k, n in data.where.cities]),
            "industries_svg": bar_svg([(k, float(n)) for k, n in data.where.industries]),
        },
    )
    document = HTML(string=html).render()
    return document.write_pdf() or b"", len(document.pages)


def render_xlsx(data: ReportData) -> bytes:
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False})
    bold = book.add_format({"bold": True})
    sheet = book.add_worksheet("十个一指标")
    header = ["措施", "指标", "责任单位", "数值", "单位", "年度目标", "完成率(%)", "来源"]
    sheet.write_row(0, 0, header, bold)
    r = 1
    for measure in data.board.measures:
        for row in measure.rows:
            cells: list[Any] = [
                f"措施{measure.number} {measure.title}",
                row.indicator.name,
                row.indicator.owner,
                row.value if row.value is not None else "尚无数据",
                row.indicator.unit,
                row.goal if row.goal is not None else "",
                row.percent if row.percent is not None else "",
                row.indicator.source,
            ]
            sheet.write_row(r, 0, cells)
            r += 1
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, 2, 18)
    sheet.set_column(7, 7, 60)
    sheet = book.add_worksheet("返乡漏斗")
    sheet.write_row(
        0, 0, ["环节", data.yoy.this.label, "转化率(%)", data.yoy.before.label, "转化率(%)"], bold
    )
    for i, (label, n, rate, n0, rate0, _change) in enumerate(data.yoy.rows, start=1):
        sheet.write_row(i, 0, [label, n, rate if rate is not None else "", n0, rate0 or ""])
    sheet = book.add_worksheet("就业去向")
    sheet.write_row(0, 0, ["城市", "人数"], bold)
    for i, (name, n) in enumerate(data.where.cities, start=1):
        sheet.write_row(i, 0, [name, n])
    sheet.write_row(0, 3, ["行业", "人数"], bold)
    for i, (name, n) in enumerate(data.where.industries, start=1):
        sheet.write_row(i, 3, [name, n])
    book.close()
    return out.getvalue()
