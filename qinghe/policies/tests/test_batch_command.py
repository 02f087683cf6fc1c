"""The batch command's output for the two built-in programmes: every rule at its limits (the
day before, the day of and the day after), the amount formula, .csv and .xlsx input, and the
Chinese refusals of bad files."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from qinghe.policies.batch import COLUMNS
from qinghe.policies.services import builtin_ensure

pytestmark = pytest.mark.django_db

AS_OF = "2026-07-15"
HEADER = ["编号", "性别 (男/女)", "出生日期", "人员类别", "毕业日期", "注册日期", "连续参保月数",
          "经营异常名录 (是/否)", "已享受 (是/否)", "招用人数"]  # fmt: skip
BASE: dict[str, Any] = {
    "gender": "女",
    "birth": "1990-05-15",
    "category": "毕业生",
    "graduated": "2023-06-30",
    "registered": "2025-01-10",
    "insured": "3",
    "abnormal": "否",
    "funded": "否",
    "hires": "4",
}

# (编号, changes from BASE, one_off_startup failures, startup_hiring failures)
CASES: list[tuple[str, dict[str, str], list[str], list[str]]] = [
    ("base", {}, [], []),
    # age: a woman may be at most 55 full years old; as-of 2026-07-15
    ("f_day_before_56", {"birth": "1970-07-16"}, [], []),
    ("f_56th_birthday", {"birth": "1970-07-15"}, ["age_limit"], []),
    ("f_day_after_56", {"birth": "1970-07-14"}, ["age_limit"], []),
    # a man at most 60
    ("m_day_before_61", {"gender": "男", "birth": "1965-07-16"}, [], []),
    ("m_61st_birthday", {"gender": "男", "birth": "1965-07-15"}, ["age_limit"], []),
    ("m_day_after_61", {"gender": "男", "birth": "1965-07-14"}, ["age_limit"], []),
    ("f_60_is_too_old", {"birth": "1966-01-01"}, ["age_limit"], []),
    # graduation no more than 5 years before the as-of date
    ("grad_day_before_5y", {"graduated": "2021-07-16"}, [], []),
    ("grad_day_of_5y", {"graduated": "2021-07-15"}, [], []),
    ("grad_day_after_5y", {"graduated": "2021-07-14"}, ["category"], []),
    (
        "returnee_day_after_5y",
        {"category": "留学回国", "graduated": "2021-07-14"},
        ["category"],
        [],
    ),
    ("returnee_day_of_5y", {"category": "留学回国", "graduated": "2021-07-15"}, [], []),
    ("graduate_without_date", {"graduated": ""}, ["category"], []),
    ("student", {"category": "在校生", "graduated": ""}, [], []),
    ("veteran_old_grad", {"category": "退役军人", "graduated": "2001-07-01"}, [], []),
    ("unemployed", {"category": "登记失业", "graduated": ""}, [], []),
    ("returned_home", {"category": "返乡创业", "graduated": ""}, [], []),
    ("homestay", {"category": "民宿农家乐", "graduated": ""}, [], []),
    ("other", {"category": "其他"}, ["category"], []),
    # registered at least 6 full months before: reg + 6 months <= as-of
    ("reg_6m_day_before", {"registered": "2026-01-16"}, ["registered_6_months"], []),
    ("reg_6m_day_of", {"registered": "2026-01-15"}, [], []),
    ("reg_6m_day_after", {"registered": "2026-01-14"}, [], []),
    # registered no more than 3 years before: as-of <= reg + 3 years
    ("reg_3y_day_before", {"registered": "2023-07-16"}, [], []),
    ("reg_3y_day_of", {"registered": "2023-07-15"}, [], []),
    (
        "reg_3y_day_after",
        {"registered": "2023-07-14"},
        ["registered_within_3_years"],
        ["registered_within_3_years"],
    ),
    # 连续参保月数 >= 3
    ("insured_2", {"insured": "2"}, ["insured_3_months"], ["insured_3_months"]),
    ("insured_3", {"insured": "3"}, [], []),
    ("insured_4", {"insured": "4"}, [], []),
    ("abnormal", {"abnormal": "是"}, ["not_abnormal"], ["not_abnormal"]),
    ("funded", {"funded": "是"}, ["not_funded_before"], []),
    # 招用人数 >= 1 (startup_hiring only)
    ("hires_0", {"hires": "0"}, [], ["hires_at_least_1"]),
    ("hires_1", {"hires": "1"}, [], []),
    (
        "everything_wrong",
        {
            "birth": "1950-01-01",
            "category": "其他",
            "registered": "2020-01-01",
            "insured": "0",
            "abnormal": "是",
            "funded": "是",
            "hires": "0",
        },  # fmt: skip
        [
            "age_limit",
            "category",
            "registered_within_3_years",
            "insured_3_months",
            "not_abnormal",
            "not_funded_before",
        ],  # fmt: skip
        ["registered_within_3_years", "insured_3_months", "not_abnormal", "hires_at_least_1"],
    ),
]

HIRING_AMOUNT = {"0": 0, "1": 2000, "2": 4000, "3": 6000, "4": 9000, "10": 27000, "11": 30000,
                 "12": 30000, "40": 30000}  # fmt: skip


def _row(number: str, changes: dict[str, str]) -> list[str]:
    v = {**BASE, **changes}
    return [number, v["gender"], v["birth"], v["category"], v["graduated"], v["registered"],
            v["insured"], v["abnormal"], v["funded"], v["hires"]]  # fmt: skip


def _write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _run(programme: str, path: Path, as_of: str = AS_OF) -> list[list[str]]:
    out = io.StringIO()
    call_command(
        "subsidy_eligibility", programme=programme, as_of=as_of, input=str(path), stdout=out
    )
    return [line.split("\t") for line in out.getvalue().splitlines()]


@pytest.fixture(autouse=True)
def _builtin(db: Any) -> None:
    builtin_ensure()


def test_every_rule_of_one_off_startup_at_its_limits(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "in.csv", [_row(n, c) for n, c, _, _ in CASES])
    lines = _run("one_off_startup", path)
    expected = [
        [n, "ineligible" if f else "eligible", "0" if f else "10000", ",".join(f)]
        for n, _, f, _ in CASES
    ]
    assert lines == expected


def test_every_rule_of_startup_hiring_at_its_limits(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "in.csv", [_row(n, c) for n, c, _, _ in CASES])
    lines = _run("startup_hiring", path)
    expected = []
    for n, changes, _, failed in CASES:
        hires = {**BASE, **changes}["hires"]
        amount = 0 if failed else HIRING_AMOUNT[hires]
        expected.append([n, "ineligible" if failed else "eligible", str(amount), ",".join(failed)])
    assert lines == expected


def test_startup_hiring_amount_2000_for_first_three_3000_after_capped_at_30000(
    tmp_path: Path,
) -> None:
    rows = [_row(f"h{h}", {"hires": h}) for h in HIRING_AMOUNT if h != "0"]
    lines = _run("startup_hiring", _write_csv(tmp_path / "in.csv", rows))
    assert [(line[0], line[2]) for line in lines] == [
        ("h1", "2000"),
        ("h2", "4000"),
        ("h3", "6000"),
        ("h4", "9000"),
        ("h10", "27000"),
        ("h11", "30000"),
        ("h12", "30000"),
        ("h40", "30000"),
    ]


def test_six_months_from_the_31st_ends_on_the_last_day_of_a_shorter_month(tmp_path: Path) -> None:
    """Registered 2025-08-31: + 6 months is 2026-02-28 (no 31st), so it passes on 28 Feb."""
    path = _write_csv(tmp_path / "in.csv", [_row("eom", {"registered": "2025-08-31"})])
    assert _run("one_off_startup", path, as_of="2026-02-27")[0][3] == "registered_6_months"
    assert _run("one_off_startup", path, as_of="2026-02-28")[0][1] == "eligible"
    assert _run("one_off_startup", path, as_of="2026-03-01")[0][1] == "eligible"


def test_xlsx_input_with_real_dates_and_numbers(tmp_path: Path) -> None:
    import datetime as dt

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    sheet.append(["A1", "男", dt.date(1990, 1, 1), "退役军人", None, dt.date(2025, 1, 15), 3,
                  "否", "否", 12])  # fmt: skip
    sheet.append(["A2", "女", dt.date(1990, 1, 1), "在校生", None, dt.date(2026, 1, 16), 5,
                  "否", "否", 2])  # fmt: skip
    path = tmp_path / "in.xlsx"
    book.save(path)
    assert _run("one_off_startup", path) == [
        ["A1", "eligible", "10000", ""],
        ["A2", "ineligible", "0", "registered_6_months"],
    ]
    assert _run("startup_hiring", path) == [
        ["A1", "eligible", "30000", ""],
        ["A2", "eligible", "4000", ""],
    ]


def _error(tmp_path: Path, name: str, content: bytes, programme: str = "one_off_startup") -> str:
    path = tmp_path / name
    path.write_bytes(content)
    out = io.StringIO()
    with pytest.raises(CommandError) as info:
        call_command(
            "subsidy_eligibility", programme=programme, as_of=AS_OF, input=str(path), stdout=out
        )
    assert out.getvalue() == ""  # nothing half-printed
    return str(info.value)


def _csv_bytes(rows: list[list[str]], header: list[str] = HEADER) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def test_bad_rows_are_named_with_their_row_number_and_reason(tmp_path: Path) -> None:
    rows = [
        _row("ok", {}),
        _row("bad_date", {"birth": "1990-02-30"}),
        _row("bad_gender", {"gender": "M"}),
        _row("bad_category", {"category": "学生"}),
        _row("bad_months", {"insured": "三"}),
        _row("bad_yes_no", {"abnormal": "也许"}),
        _row("ok", {}),
    ]
    message = _error(tmp_path, "in.csv", _csv_bytes(rows))
    assert message == (
        "文件中有错误，未进行核查：\n"
        "第 3 行：出生日期“1990-02-30”不是有效日期（应为 YYYY-MM-DD）\n"
        "第 4 行：性别“M”应为“男”或“女”\n"
        "第 5 行：人员类别“学生”不在可选值中（在校生、毕业生、留学回国、退役军人、登记失业、"
        "返乡创业、民宿农家乐、其他）\n"
        "第 6 行：连续参保月数“三”应为不小于 0 的整数\n"
        "第 7 行：经营异常名录“也许”应为“是”或“否”\n"
        "第 8 行：编号“ok”与第 2 行重复"
    )


def test_wrong_header_is_refused(tmp_path: Path) -> None:
    header = [label for label, _ in COLUMNS]
    header[1], header[2] = header[2], header[1]
    message = _error(tmp_path, "in.csv", _csv_bytes([_row("a", {})], header=header))
    assert message.startswith("表头不正确：第 1 行应依次为 编号、性别、出生日期")


def test_other_bad_inputs(tmp_path: Path) -> None:
    assert _error(tmp_path, "in.txt", b"x").startswith("只能导入 .xlsx 或 .csv 文件")
    assert _error(tmp_path, "in.csv", b"") == "文件为空"
    assert _error(tmp_path, "in.xlsx", b"not a zip").startswith("文件不是有效的 .xlsx 文件")
    assert _error(tmp_path, "in.csv", _csv_bytes([])) == "文件中没有申请人数据"
    assert _error(tmp_path, "in.csv", _csv_bytes([_row("a", {})]), programme="nope") == (
        "没有代码为“nope”的补贴项目"
    )
    with pytest.raises(CommandError, match="不是有效日期"):
        call_command("subsidy_eligibility", programme="one_off_startup", as_of="2026-13-01",
                     input="x.csv")  # fmt: skip
    with pytest.raises(CommandError, match="找不到文件"):
        call_command("subsidy_eligibility", programme="one_off_startup", as_of=AS_OF,
                     input=str(tmp_path / "missing.csv"))  # fmt: skip
