"""Importing survey rows about people already on file: the records a chunk finds are read as
plain rows (``chunks.Loaded``), and whatever changed is written back in full; the number of
queries does not grow with the number of people (no column read later one record at a
time)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from qinghe.reference.models import Town
from qinghe.talents.identity import id_index
from qinghe.talents.models import Destination, Education, PhoneNumber, Talent, ValueChange

from .fixtures import surveys

pytestmark = pytest.mark.django_db

SOURCE = "教育局 2025 届毕业生就业调查"
HEADER = ["姓名", "身份证号", "手机号", "户籍地", "毕业院校", "所学专业", "毕业年份", "毕业去向", "就业单位", "就业地区"]  # fmt: skip
NAMES = ["陈嘉欣", "李志强", "黄雅婷", "梁子豪", "何敏仪", "冯俊杰", "吴思琪", "赵文博", "周晓彤", "林浩然", "郑欣怡", "谢宇航"]  # fmt: skip


@pytest.fixture(autouse=True)
def reference(db: Any) -> None:
    surveys.load_reference_sample()


def person(number: int) -> tuple[str, str, str]:
    """(name, ID number, phone) of the number-th person."""
    ident = surveys.make_id("440784", "20030512", f"{100 + number:03d}")
    return NAMES[number], ident, f"138{number:08d}"


def rows(count: int, *, changed: bool) -> list[list[object]]:
    out: list[list[object]] = []
    for number in range(count):
        name, ident, phone = person(number)
        out.append(
            [
                name,
                ident,
                f"139{number:08d}" if changed else phone,
                "鹤山市龙口镇" if changed else "鹤山市沙坪街道",
                "中山大学",
                "临床医学" if changed else "",
                2025,
                "签劳动合同",
                "鹤山市人民医院",
                "江门市蓬江区" if changed else "鹤山市",
            ]
        )
    return out


def run(path: Path) -> str:
    out = io.StringIO()
    call_command("import_survey", str(path), source=SOURCE, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def write(tmp_path: Path, name: str, count: int, *, changed: bool) -> Path:
    path = tmp_path / name
    path.write_bytes(surveys.xlsx_of(rows(count, changed=changed), header=HEADER))
    return path


def test_changed_rows_update_the_talent_its_phones_education_and_destination(
    tmp_path: Path,
) -> None:
    run(write(tmp_path, "2024.xlsx", 2, changed=False))
    assert run(write(tmp_path, "2025.xlsx", 2, changed=True)) == (
        "rows=2 created=0 updated=2 unchanged=0 rejected=0\n"
    )
    for number in range(2):
        name, ident, phone = person(number)
        talent = Talent.objects.get(id_index=id_index(ident))
        assert talent.town is not None
        assert (talent.name, talent.hukou_text, talent.town.name) == (
            name,
            "鹤山市龙口镇",
            "龙口镇",
        )
        assert (talent.status, talent.returned_home) == ("employed_jiangmen", False)
        assert talent.provenance["hukou_text"]["row"] == number + 2
        assert list(
            PhoneNumber.objects.filter(talent=talent)
            .order_by("id")
            .values_list("number", "is_current")
        ) == [(phone, False), (f"139{number:08d}", True)]
        assert list(
            Education.objects.filter(talent=talent).values_list(
                "university_name", "major_name", "graduation_year"
            )
        ) == [("中山大学", "临床医学", 2025)]
        assert list(
            Destination.objects.filter(talent=talent).values_list(
                "kind", "employer", "region_text", "area"
            )
        ) == [("employed", "鹤山市人民医院", "江门市蓬江区", "jiangmen")]
        shaping, longkou = (Town.objects.get(name=name).pk for name in ("沙坪街道", "龙口镇"))
        assert list(
            ValueChange.objects.filter(talent=talent)
            .order_by("field")
            .values_list("field", "old_value", "new_value", "state")
        ) == [
            ("hukou_text", "鹤山市沙坪街道", "鹤山市龙口镇", "replaced"),
            ("town", str(shaping), str(longkou), "replaced"),
        ]


def import_counting_queries(path: Path) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as captured:
        line = run(path)
    return line, len(captured.captured_queries)


@pytest.mark.parametrize("changed", [False, True], ids=["same rows again", "changed rows"])
def test_reimporting_costs_the_same_queries_for_3_and_for_12_people(
    tmp_path: Path, changed: bool
) -> None:
    counts = []
    for count in (3, 12):
        Talent.objects.all().delete()
        run(write(tmp_path, f"first-{count}.xlsx", count, changed=False))
        again = write(tmp_path, f"again-{count}-{changed}.xlsx", count, changed=changed)
        line, queries = import_counting_queries(again)
        outcome = (
            f"created=0 updated={count} unchanged=0"
            if changed
            else (f"created=0 updated=0 unchanged={count}")
        )
        assert line == f"rows={count} {outcome} rejected=0\n"
        counts.append(queries)
    assert counts[0] == counts[1]
