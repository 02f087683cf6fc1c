"""The batch eligibility check: a .csv or .xlsx of applicants -> one result line each.

Columns, in this order, with Chinese headers in the first row (a bracketed hint after a header,
as in ``性别 (男/女)``, is allowed): 编号, 性别, 出生日期, 人员类别, 毕业日期, 注册日期,
连续参保月数, 经营异常名录, 已享受, 招用人数. A file with any bad row is refused as a whole,
with every bad row named (row numbers as in the file, header = row 1), so no partial answer is
mistaken for a complete one. Pure: no ORM."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from python_calamine import CalamineError, CalamineWorkbook

from qinghe.core.errors import ApplicationError
from qinghe.core.textfiles import UndecodableText, decode_text
from qinghe.talents.importing.files import check_file

from . import rules

COLUMNS: tuple[tuple[str, str], ...] = (
    ("编号", "number"),
    ("性别", "gender"),
    ("出生日期", "birth_date"),
    ("人员类别", "category"),
    ("毕业日期", "graduation_date"),
    ("注册日期", "registered_on"),
    ("连续参保月数", "insured_months"),
    ("经营异常名录", "abnormal"),
    ("已享受", "funded_before"),
    ("招用人数", "hires"),
)
MAX_ROWS = 50_000
MAX_ERRORS = 20
_HINT = re.compile(r"[（(].*[)）]\s*$")
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


class BatchError(ApplicationError):
    """The file cannot be checked; the message (Chinese) names the rows and reasons."""


@dataclass(frozen=True)
class Applicant:
    row: int
    number: str
    facts: dict[str, Any]


def _header_name(cell: Any) -> str:
    text = str(cell if cell is not None else "").strip().replace("\ufeff", "")
    return _HINT.sub("", text).strip()


def _cells(kind: str, data: bytes) -> Iterator[list[Any]]:
    if kind == "csv":
        try:
            text = decode_text(data, what="CSV 文件")
        except UndecodableText as exc:
            raise BatchError(str(exc)) from exc
        yield from csv.reader(io.StringIO(text))
        return
    try:
        sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0)
        rows = sheet.to_python(skip_empty_area=False)
    except (CalamineError, ValueError, IndexError) as exc:
        raise BatchError("无法读取该 .xlsx 文件的第一个工作表") from exc
    yield from rows


def _blank(cells: list[Any]) -> bool:
    return all(c is None or str(c).strip() == "" for c in cells)


def _date(value: Any, label: str, *, required: bool) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value if value is not None else "").strip()
    if not text:
        if required:
            raise ValueError(f"{label}为空")
        return None
    found = _DATE.match(text)
    if found:
        try:
            return dt.date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
        except ValueError:
            pass
    raise ValueError(f"{label}“{text}”不是有效日期（应为 YYYY-MM-DD）")


def _count(value: Any, label: str, *, blank_is_zero: bool) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        text = str(value if value is not None else "").strip()
        if not text and blank_is_zero:
            return 0
        if not text.isdigit():
            raise ValueError(f"{label}“{text}”应为不小于 0 的整数")
        number = int(text)
    if number < 0 or number > 100_000:
        raise ValueError(f"{label}“{number}”超出范围")
    return number


def _yes_no(value: Any, label: str) -> bool:
    text = str(value if value is not None else "").strip()
    if text in ("是", "Y", "y", "1", "true", "TRUE", "True"):
        return True
    if text in ("否", "N", "n", "0", "false", "FALSE", "False", ""):
        return False
    raise ValueError(f"{label}“{text}”应为“是”或“否”")


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value if value is not None else "").strip()


def _parse_row(row: int, cells: list[Any]) -> Applicant:
    cells = list(cells) + [None] * (len(COLUMNS) - len(cells))
    number = _text(cells[0])
    if not number:
        raise ValueError("编号为空")
    gender = _text(cells[1])
    if gender not in ("男", "女"):
        raise ValueError(f"性别“{gender}”应为“男”或“女”")
    category = _text(cells[3])
    if category not in rules.CATEGORIES:
        raise ValueError(f"人员类别“{category}”不在可选值中（{'、'.join(rules.CATEGORIES)}）")
    facts: dict[str, Any] = {
        "gender": gender,
        "birth_date": _date(cells[2], "出生日期", required=True),
        "category": category,
        "graduation_date": _date(cells[4], "毕业日期", required=False),
        "registered_on": _date(cells[5], "注册日期", required=True),
        "insured_months": _count(cells[6], "连续参保月数", blank_is_zero=False),
        "abnormal": _yes_no(cells[7], "经营异常名录"),
        "funded_before": _yes_no(cells[8], "已享受"),
        "hires": _count(cells[9], "招用人数", blank_is_zero=True),
    }
    return Applicant(row=row, number=number, facts=facts)


def read_applicants(file_name: str, data: bytes) -> list[Applicant]:
    """Every applicant of the file, or BatchError naming what is wrong (nothing partial)."""
    kind = check_file(file_name, data)
    rows = _cells(kind, data)
    header = next(rows, None)
    if header is None or _blank(list(header)):
        raise BatchError("文件第 1 行应为表头，但该行为空")
    names = [_header_name(c) for c in header]
    while names and not names[-1]:
        names.pop()
    expected = [label for label, _ in COLUMNS]
    if names != expected:
        raise BatchError(
            "表头不正确：第 1 行应依次为 " + "、".join(expected) + "；实际为 " + "、".join(names)
        )
    applicants: list[Applicant] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    for index, cells in enumerate(rows, start=2):
        cells = list(cells)
        if _blank(cells):
            continue
        if len(applicants) + len(errors) >= MAX_ROWS:
            raise BatchError(f"文件行数过多（最多 {MAX_ROWS} 行）")
        try:
            applicant = _parse_row(index, cells)
        except ValueError as exc:
            errors.append(f"第 {index} 行：{exc}")
            continue
        if applicant.number in seen:
            errors.append(
                f"第 {index} 行：编号“{applicant.number}”与第 {seen[applicant.number]} 行重复"
            )
            continue
        seen[applicant.number] = index
        applicants.append(applicant)
    if errors:
        shown = errors[:MAX_ERRORS]
        more = f"\n……另有 {len(errors) - MAX_ERRORS} 行有误" if len(errors) > MAX_ERRORS else ""
        raise BatchError("文件中有错误，未进行核查：\n" + "\n".join(shown) + more)
    if not applicants:
        raise BatchError("文件中没有申请人数据")
    return applicants


@dataclass(frozen=True)
class BatchLine:
    number: str
    eligibility: rules.Eligibility

    def text(self) -> str:
        e = self.eligibility
        status = "eligible" if e.eligible else "ineligible"
        return f"{self.number}\t{status}\t{e.amount}\t{','.join(e.failed_codes)}"


def run_batch(
    applicants: list[Applicant],
    *,
    rule_specs: list[rules.RuleSpec],
    amount_expression: str,
    as_of: dt.date,
) -> list[BatchLine]:
    return [
        BatchLine(
            number=a.number,
            eligibility=rules.check(rule_specs, amount_expression, {**a.facts, "as_of": as_of}),
        )
        for a in applicants
    ]
