"""A worksheet read from its head first (``xlsxhead``): the head's rows and then the tail's are,
cell for cell, the rows calamine gives for the whole sheet, or the difference is caught
(``WholeSheet.check`` False) before anything relies on the head."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from typing import Any

import openpyxl
import pytest
import python_calamine
import xlsxwriter

from qinghe.talents import normalize, xlsxhead


def whole_rows(data: bytes, position: int = 0) -> list[list[Any]]:
    workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    return list(workbook.get_sheet_by_index(position).iter_rows())


def read_in_two(data: bytes, head_rows: int) -> tuple[normalize.SurveyTable, list[list[Any]]]:
    table = normalize.open_table("xlsx", data, head_rows)
    return table, list(table._iter_all())


HEADER = ["姓名", "身份证号", "手机号", "毕业院校", "学历", "毕业年份"]


def survey_rows(count: int) -> list[list[Any]]:
    return [
        [f"学生{i}", f"44078419990101{i:04d}", f"138{i:08d}", "五邑大学", "本科", 2020 + i % 6]
        for i in range(count)
    ]


def openpyxl_book(sheets: list[tuple[str, list[list[Any]]]], hidden: tuple[str, ...] = ()) -> bytes:
    """Shared strings, as Excel writes them."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
        if title in hidden:
            sheet.sheet_state = "hidden"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsxwriter_book(
    rows: list[list[Any]], *, at: dict[tuple[int, int], Any] | None = None
) -> bytes:
    """Inline strings (constant memory), as the survey generator writes them, with a few
    cells placed anywhere (``at``: (row, column) -> value)."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"constant_memory": True, "in_memory": True})
    sheet = book.add_worksheet()
    dates = book.add_format({"num_format": "yyyy-mm-dd"})
    placed = dict(at or {})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, dt.date):
                sheet.write_datetime(r, c, value, dates)
            else:
                sheet.write(r, c, value)
        for (pr, pc), value in sorted(placed.items()):
            if pr == r:
                sheet.write(pr, pc, value)
    book.close()
    return out.getvalue()


def raw_book(sheet_xml: bytes) -> bytes:
    """A minimal workbook around a hand-written worksheet."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            "</Types>",
        )
        archive.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>",
        )
        archive.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            "</Relationships>",
        )
        archive.writestr("xl/worksheets/sheet1.xml", sheet_xml)
    return out.getvalue()


def inline_row(number: int | None, cells: list[str], prefix: str = "") -> str:
    numbered = f' r="{number}"' if number is not None else ""
    body = "".join(
        f'<{prefix}c t="inlineStr"><{prefix}is><{prefix}t>{value}</{prefix}t></{prefix}is></{prefix}c>'
        for value in cells
    )
    return f"<{prefix}row{numbered}>{body}</{prefix}row>"


def raw_sheet(
    rows: list[str], *, prefix: str = "", sheet_data: str = "sheetData", dimension: str = ""
) -> bytes:
    namespace = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    root = f'<{prefix}worksheet xmlns{":" + prefix[:-1] if prefix else ""}="{namespace}">'
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        + root
        + dimension
        + f"<{prefix}{sheet_data}>"
        + "".join(rows)
        + f"</{prefix}sheetData></{prefix}worksheet>"
    ).encode()


# ---------------------------------------------------------------------------- the cut


def test_a_workbook_no_longer_than_its_head_is_read_as_it_is() -> None:
    data = openpyxl_book([("名单", [HEADER, *survey_rows(20)])])
    assert xlsxhead.workbook_head(data, 21) is None
    table, rows = read_in_two(data, 21)
    assert table.whole is None
    assert rows == whole_rows(data)


def test_the_head_is_the_first_rows_and_the_rest_follows() -> None:
    data = openpyxl_book([("名单", [HEADER, *survey_rows(200)])])
    head = xlsxhead.workbook_head(data, 50)
    assert head is not None
    assert whole_rows(head.data) == whole_rows(data)[:50]
    assert head.estimated_last_row == 201  # openpyxl's <dimension ref="A1:F201">
    table, rows = read_in_two(data, 50)
    assert table.whole is not None and table.whole.check() is True
    assert rows == whole_rows(data)
    assert (table.header_row, table.last_row, table.estimated_rows()) == (1, 201, 200)
    assert [number for number, _ in table.rows()] == list(range(2, 202))


def test_inline_strings_dates_numbers_and_blank_rows_come_through_the_cut() -> None:
    rows: list[list[Any]] = [HEADER + ["出生日期"]]
    for i in range(120):
        if i % 17 == 0:
            rows.append([])  # a blank row
            continue
        rows.append([*survey_rows(i + 1)[-1], dt.date(1999, 1, 1) + dt.timedelta(days=i)])
    data = xlsxwriter_book(rows)
    for head_rows in (11, 30, 64, 100):
        table, got = read_in_two(data, head_rows)
        assert table.whole is not None and table.whole.check() is True
        assert got == whole_rows(data)


def test_a_tail_that_starts_further_right_or_ends_sooner_is_padded_to_the_head() -> None:
    # The tail's own first column is C and it is narrower: calamine gives its rows from C,
    # so they are padded on both sides to the head's columns A..F.
    rows = [HEADER, *survey_rows(30)] + [["", "", "只有第三列"] for _ in range(30)]
    data = xlsxwriter_book(rows)
    table, got = read_in_two(data, 31)
    assert table.whole is not None and table.whole.check() is True
    assert got == whole_rows(data)
    assert got[40] == ["", "", "只有第三列", "", "", ""]


@pytest.mark.parametrize("where", [(45, 9), (45, 0)], ids=["a cell further right", "further left"])
def test_a_tail_reaching_beyond_the_head_s_columns_is_not_the_whole(where: tuple[int, int]) -> None:
    # Further right: every row of the whole sheet is wider than the head's. Further left
    # (the head starts at column B): every row starts sooner. Either way the head's rows are
    # not the whole sheet's, and ``rows`` refuses to go on.
    rows = [["", *HEADER], *(["", *row] for row in survey_rows(60))]
    data = xlsxwriter_book(rows, at={where: "备注"})
    table, got_head = normalize.open_table("xlsx", data, 31), None
    assert table.whole is not None
    assert table.whole.check() is False
    rows_read = table._iter_all()
    got_head = [next(rows_read) for _ in range(31)]
    assert got_head != whole_rows(data)[:31]  # what the check protects
    with pytest.raises(xlsxhead.HeadMismatch):
        next(rows_read)


def test_rows_without_their_number_after_the_cut_are_not_guessed() -> None:
    # A row element without r="..." is the row after the one before it: the tail cannot
    # start on one (it would become row 1).
    xml = raw_sheet(
        [inline_row(1, HEADER)] + [inline_row(None, [f"学生{i}", "x", "y"]) for i in range(40)]
    )
    data = raw_book(xml)
    table, _ = normalize.open_table("xlsx", data, 20), None
    assert table.whole is not None and table.whole.check() is False


def test_prefixed_elements_attributes_on_sheet_data_and_no_dimension() -> None:
    rows = [inline_row(1, HEADER, "x:")] + [
        inline_row(i + 2, [f"学生{i}", f"44078419990101{i:04d}", f"138{i:08d}"], "x:")
        for i in range(80)
    ]
    xml = raw_sheet(rows, prefix="x:", sheet_data='sheetData foo="1"')
    data = raw_book(xml)
    head = xlsxhead.workbook_head(data, 30)
    assert head is not None
    # No <dimension>: guessed from the bytes the 30 rows take (about the 81).
    assert 70 <= head.estimated_last_row <= 90
    table, got = read_in_two(data, 30)
    assert table.whole is not None and table.whole.check() is True
    assert got == whole_rows(data)
    assert len(got) == 81


def test_a_short_sheet_beside_a_long_one_is_read_whole_and_found_the_same() -> None:
    # Which member is which sheet is not looked up: another sheet being cut means this
    # one's tail is read and checked too (it is empty), and the rows are the whole's.
    data = openpyxl_book(
        [("说明", [["本表为示例"]] * 300), ("名单", [HEADER, *survey_rows(10)])],
    )
    table, got = read_in_two(data, 40)
    assert table.whole is not None and table.whole.check() is True
    assert got == whole_rows(data, 1)
    assert table.header_row == 1 and len(list(table.rows())) == 10


def test_a_hidden_first_sheet_is_skipped_as_before() -> None:
    data = openpyxl_book(
        [("旧", [HEADER, *survey_rows(100)]), ("新", [HEADER, *survey_rows(90)])],
        hidden=("旧",),
    )
    # "hidden" (not "very hidden") sheets are read: the first one has a header.
    table, got = read_in_two(data, 30)
    assert got == whole_rows(data, 0)
    assert table.whole is not None and table.whole.check() is True


def test_a_head_calamine_cannot_read_falls_back_to_the_whole_file() -> None:
    # A cut inside something that is not a worksheet cannot happen; a broken archive is
    # read whole, which gives the error it always gave.
    with pytest.raises(normalize.UnreadableFile):
        normalize.open_table("xlsx", b"PK\x03\x04 not a zip", 30)
    assert xlsxhead.workbook_head(b"not a zip", 30) is None
