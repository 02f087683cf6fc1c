"""On SQLite the import writes each table's new rows as INSERTs of many rows each (as many as
``writer.SQLITE_MAX_VARIABLES`` parameters allow, the last one shorter), which store what one
INSERT a row stores."""

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
    columns = len(Talent._meta.concrete_fields)  # the primary key included
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

    def watch(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.startswith(f"INSERT INTO {table} "):
            assert not many
            assert len(params) % columns == 0
            rows_per_statement.append(len(params) // columns)
        return execute(sql, params, many, context)

    out = io.StringIO()
    with connection.execute_wrapper(watch):
        call_command("import_survey", str(path), source=SOURCE, stdout=out, stderr=io.StringIO())

    assert out.getvalue() == "rows=12 created=12 updated=0 unchanged=0 rejected=0\n"
    assert rows_per_statement == [5, 5, 2]
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
