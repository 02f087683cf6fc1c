"""On SQLite the import writes each table's new rows as INSERTs of many rows each (as many as
``writer.SQLITE_MAX_VARIABLES`` parameters allow, the last one shorter; the columns every row
sets to one value are literals in the statement, not parameters), which store what one INSERT
a row stores."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from qinghe.talents.identity import id_index
from qinghe.talents.importing import writer
from qinghe.talents.models import Education, ImportRow, PhoneNumber, Talent

from .fixtures import surveys

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "sqlite", reason="multi-row INSERTs: SQLite only"),
]

SOURCE = "教育局 2025 届毕业生就业调查"
HEADER = ["姓名", "身份证号", "手机号", "户籍地", "毕业院校", "所学专业", "毕业年份"]
NAMES = ["陈嘉欣", "李志强", "黄雅婷", "梁子豪", "何敏仪", "冯俊杰", "吴思琪", "赵文博", "周晓彤", "林浩然", "郑欣怡", "谢宇航"]  # fmt: skip


@pytest.fixture(autouse=True)
def reference(db: Any) -> None:
    surveys.load_reference_sample()


def ident(number: int) -> str:
    return surveys.make_id("440784", "20030512", f"{100 + number:03d}")


def test_twelve_talents_go_in_statements_of_5_5_and_2_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The primary key included; the columns no row of the import sets are literals.
    literal_columns = {
        "created_at",
        "updated_at",
        "high_school",
        "user_id",
        "last_confirmed_at",
        "chapter_id",
        "verification",
        "verification_by_id",
        "verification_at",
        "verification_reason",
    }
    columns = len(Talent._meta.concrete_fields) - len(literal_columns)
    monkeypatch.setattr(writer, "SQLITE_MAX_VARIABLES", 5 * columns + columns - 1)
    path = tmp_path / "survey.xlsx"
    path.write_bytes(
        surveys.xlsx_of(
            [
                [name, ident(n), f"138{n:08d}", "鹤山市沙坪街道", "中山大学", "临床医学", 2025]
                for n, name in enumerate(NAMES)
            ],
            header=HEADER,
        )
    )
    table = connection.ops.quote_name(Talent._meta.db_table)
    rows_per_statement: list[int] = []
    literals: list[dict[str, str]] = []

    def watch(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.startswith(f"INSERT INTO {table} "):
            assert not many
            assert len(params) % columns == 0
            rows_per_statement.append(len(params) // columns)
            names = sql[sql.index("(") + 1 : sql.index(")")].replace('"', "").split(", ")
            first = sql[sql.index(" VALUES (") + 9 :].split("), (")[0].rstrip(")").split(", ")
            literals.append({n: v for n, v in zip(names, first, strict=True) if v != "%s"})
        return execute(sql, params, many, context)

    out = io.StringIO()
    with connection.execute_wrapper(watch):
        call_command("import_survey", str(path), source=SOURCE, stdout=out, stderr=io.StringIO())

    assert out.getvalue() == "rows=12 created=12 updated=0 unchanged=0 rejected=0\n"
    assert rows_per_statement == [5, 5, 2]
    stamp = literals[0]["created_at"]
    assert stamp.startswith("'20") and literals[0]["updated_at"] == stamp
    assert literals == 3 * [
        {
            "created_at": stamp,
            "updated_at": stamp,
            "high_school": "''",
            "user_id": "NULL",
            "last_confirmed_at": "NULL",
            "chapter_id": "NULL",
            "verification": "''",
            "verification_by_id": "NULL",
            "verification_at": "NULL",
            "verification_reason": "''",
        }
    ]
    ((created, updated),) = set(Talent.objects.values_list("created_at", "updated_at"))
    assert created == updated
    assert set(
        Talent.objects.values_list("high_school", "user_id", "verification", "verification_at")
    ) == {("", None, "", None)}
    assert sorted(Talent.objects.values_list("name", "id_index", "hukou_text")) == sorted(
        (name, id_index(ident(n)), "鹤山市沙坪街道") for n, name in enumerate(NAMES)
    )
    assert sorted(
        PhoneNumber.objects.values_list("talent__name", "number", "is_current")
    ) == sorted((name, f"138{n:08d}", True) for n, name in enumerate(NAMES))
    assert sorted(
        Education.objects.values_list("talent__name", "university_name", "major_name")
    ) == sorted((name, "中山大学", "临床医学") for name in NAMES)
    assert sorted(ImportRow.objects.values_list("row_number", "outcome")) == [
        (n + 2, "created") for n in range(12)
    ]


def test_constant_values_as_sqlite_literals_and_the_rest_bound() -> None:
    assert writer._sqlite_literal(None) == "NULL"
    assert writer._sqlite_literal(True) == "1"
    assert writer._sqlite_literal(False) == "0"
    assert writer._sqlite_literal(42) == "42"
    assert writer._sqlite_literal("") == "''"
    assert writer._sqlite_literal("l'été") == "'l''été'"
    assert writer._sqlite_literal(Talent.Verification.NOT_NEEDED) == "''"
    assert writer._sqlite_literal(Talent.Verification.PENDING) == "'pending'"
    # Bound instead: text Django's cursor would rewrite, a NUL, anything not text or integer.
    for value in ("50%s", "a\x00b", 1.5, b"x", {"a": 1}):
        assert writer._sqlite_literal(value) is None
