"""load_reference: exact counts, and a second run changes nothing."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from qinghe.reference.models import Industry, Major, MajorCategory, Occupation, University

pytestmark = pytest.mark.django_db

EXPECTED = (
    "disciplines=12 categories=112 undergrad_categories=93 vocational_categories=19 majors=845 "
    "universities=3172 double_first_class=147 regions=6823 towns=12 occupations=2048 "
    "detailed_occupations=1632 industry_sections=20 industry_divisions=97"
)


def _load() -> list[str]:
    out = StringIO()
    call_command("load_reference", stdout=out)
    return out.getvalue().splitlines()


def test_load_reference_prints_exact_counts_and_running_it_again_changes_nothing() -> None:
    first = _load()
    assert first[0] == EXPECTED
    assert first[1] == "heshan 440784->440784 鹤山市 440725->440784 鹤山市 442731->440784 鹤山市"
    ids = dict(Major.objects.values_list("code", "id"))
    university_ids = dict(University.objects.values_list("source_id", "id"))

    second = _load()

    assert second[0] == EXPECTED
    assert dict(Major.objects.values_list("code", "id")) == ids
    assert dict(University.objects.values_list("source_id", "id")) == university_ids


@pytest.fixture
def loaded(db: Any) -> None:
    _load()


def test_the_catalogs_hold_what_the_official_lists_say(loaded: None) -> None:
    major = Major.objects.select_related("category__discipline").get(code="080901")
    assert (major.name, major.category.code, major.category.name) == (
        "计算机科学与技术",
        "0809",
        "计算机类",
    )
    assert major.category.discipline is not None
    assert major.category.discipline.name == "工学"
    assert Major.objects.get(code="010103K").is_controlled is True
    assert Major.objects.get(code="010104T").is_special is True

    vocational = MajorCategory.objects.filter(kind=MajorCategory.Kind.VOCATIONAL).order_by("code")
    assert [c.code for c in vocational] == [str(code) for code in range(41, 60)]
    names = [c.name for c in vocational]
    assert (names[0], names[-1]) == ("农林牧渔大类", "公共管理与服务大类")
    assert vocational.get(code="51").name == "电子与信息大类"
    assert not vocational.filter(discipline__isnull=False).exists()

    sections = Industry.objects.filter(level=Industry.Level.SECTION).order_by("code")
    assert "".join(sections.values_list("code", flat=True)) == "ABCDEFGHIJKLMNOPQRST"
    divisions = Industry.objects.filter(level=Industry.Level.DIVISION)
    assert sorted(divisions.values_list("code", flat=True)) == [f"{n:02d}" for n in range(1, 98)]
    parents = dict(divisions.values_list("code", "parent__code"))
    assert parents["39"] == "C"
    assert parents["97"] == "T"
    assert len(set(parents.values())) == 20
    assert divisions.get(code="39").name == "计算机、通信和其他电子设备制造业"
    assert list(Industry.objects.values_list("code", flat=True)[:3]) == ["A", "01", "02"]


def test_universities_are_domestic_and_double_first_class_comes_from_the_2022_list(
    loaded: None,
) -> None:
    assert University.objects.count() == 3172
    assert University.objects.filter(is_double_first_class=True).count() == 147
    renamed = University.objects.get(source_id="1522")
    assert renamed.name == "空军军医大学"
    assert "解放军第四军医大学" in renamed.former_name_list
    # added in 2022, and not on the 2017 list that schools.tsv flags
    assert University.objects.get(name="南方科技大学").is_double_first_class is True
    tsinghua = University.objects.get(name="清华大学")
    assert (tsinghua.is_985, tsinghua.is_211, tsinghua.province) == (True, True, "北京")
    assert not University.objects.filter(province__in=["NULL", "内蒙", "山东省"]).exists()


def test_occupations_keep_markers_apart_and_duplicates_once(loaded: None) -> None:
    # the source holds 1,634 detailed rows, two of them exact repeats (4-12-04-02, 6-20-05-03)
    detailed = Occupation.objects.filter(level=Occupation.Level.OCCUPATION)
    assert detailed.count() == 1632
    assert detailed.filter(code="4-12-04-02").count() == 1
    merchant = detailed.get(code="4-01-06-01")
    assert (merchant.name, merchant.flags, merchant.is_digital, merchant.parent_code) == (
        "电子商务师",
        "S",
        True,
        "4-01-06-00",
    )
    assert detailed.filter(flags__contains="L").count() == 134
    soil = Occupation.objects.filter(code="2-03-01-00").order_by("level")
    assert [(o.level, o.parent_code) for o in soil] == [(3, "2-03-00-00"), (4, "2-03-01-00")]
