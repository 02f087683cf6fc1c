"""County resolution, matchers and search, against the full reference data."""

from __future__ import annotations

from typing import Any

import pytest

from qinghe.reference.selectors import (
    DATASETS,
    HESHAN_COUNTY_CODES,
    county_resolve,
    is_heshan_county,
    major_match,
    reference_list,
    reference_search,
    university_match,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _data(reference_data: Any) -> None:
    pass


def _names(dataset: str, q: str, limit: int = 20) -> list[str]:
    return [hit.name for hit in reference_search(dataset=DATASETS[dataset], q=q, limit=limit)]


@pytest.mark.parametrize("code", ["442731", "440725", "440784"])
def test_each_of_heshans_three_county_codes_resolves_to_heshan(code: str) -> None:
    region = county_resolve(code)
    assert region is not None
    assert (region.code, region.name, region.status) == ("440784", "鹤山市", "active")


def _county_name(code: str) -> str | None:
    region = county_resolve(code)
    return region.name if region is not None else None


def _major_code(text: str) -> str | None:
    major = major_match(text)
    return major.code if major is not None else None


def test_an_id_number_resolves_by_its_first_six_digits() -> None:
    assert _county_name("442731198203150011") == "鹤山市"
    assert _county_name("440785") == "恩平市"
    assert _county_name("440723") == "恩平市"  # 恩平县 (1983-1994)


def test_codes_that_lead_to_no_single_county_resolve_to_nothing() -> None:
    assert county_resolve("440726") is None  # 阳江县, split three ways in 1988
    assert county_resolve("999999") is None
    assert county_resolve("44abc1") is None
    assert county_resolve("") is None


def test_heshan_county_codes() -> None:
    assert HESHAN_COUNTY_CODES == ("440784", "440725", "442731")
    assert all(is_heshan_county(code) for code in HESHAN_COUNTY_CODES)
    assert is_heshan_county("440725198001010010") is True
    assert is_heshan_county("440783") is False  # 开平市, a neighbour
    assert is_heshan_county("") is False


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("中国地质大学（武汉）", "中国地质大学（武汉）"),
        ("中国地质大学(武汉)", "中国地质大学（武汉）"),
        (" 中国地质大学 [武汉] ", "中国地质大学（武汉）"),
        ("第四军医大学", "空军军医大学"),
        ("解放军第四军医大学", "空军军医大学"),
        ("上海应用技术学院", "上海应用技术大学"),
        ("上海体育学院", "上海体育大学"),
        ("国防科技大学", "国防科技大学"),  # a name of one school before an alias of another
    ],
)
def test_university_match_by_name_and_former_name(typed: str, expected: str) -> None:
    university = university_match(typed)
    assert university is not None
    assert university.name == expected


def test_university_match_finds_nothing_for_unknown_names() -> None:
    assert university_match("鹤山理工大学") is None
    assert university_match("  ") is None


def test_major_match_by_code_or_exact_name() -> None:
    major = major_match("080901")
    assert major is not None
    assert (major.name, major.category.name) == ("计算机科学与技术", "计算机类")
    assert _major_code("080910t") == "080910T"
    assert _major_code(" 计算机科学与技术 ") == "080901"
    assert _major_code("计算机科学与技术") == "080901"
    assert major_match("计算机") is None
    assert major_match("999999") is None
    assert major_match("") is None


def test_search_by_name_code_and_pinyin_initials() -> None:
    assert _names("categories", "jsj") == ["计算机类"]
    assert _names("majors", "jsj")[0] == "计算机科学与技术"
    assert _names("majors", "计算机科学")[0] == "计算机科学与技术"
    assert _names("majors", "080901") == ["计算机科学与技术"]
    assert _names("majors", "jisuanji")[:1] == ["计算机科学与技术"]
    assert _names("industries", "C39") == ["计算机、通信和其他电子设备制造业"]
    assert _names("towns", "sp") == ["沙坪街道"]
    assert _names("occupations", "2-02-10-03") == [
        o.name for o in reference_list(dataset=DATASETS["occupations"], q="2-02-10-03")
    ]


def test_search_finds_a_university_by_former_name_and_by_several_words() -> None:
    assert _names("universities", "四医大") == ["空军军医大学"]
    assert _names("universities", "华南理工") == ["华南理工大学", "华南理工大学广州学院"]
    assert sorted(_names("universities", "广州 双一流")) == sorted(
        [
            "中山大学",
            "华南农业大学",
            "华南师范大学",
            "华南理工大学",
            "广州中医药大学",
            "广州医科大学",
            "暨南大学",
        ]
    )


def test_search_of_regions_shows_heshans_history() -> None:
    hits = reference_search(dataset=DATASETS["regions"], q="鹤山县")
    assert [(h.code, h.name) for h in hits] == [("440725", "鹤山县"), ("442731", "鹤山县")]
    assert hits[0].extra == "广东省江门市 · 弃用 1983–1993"


def test_an_empty_query_lists_everything_in_the_datasets_order() -> None:
    assert reference_list(dataset=DATASETS["majors"], q="").count() == 845
    assert reference_list(dataset=DATASETS["categories"], q=" ").count() == 112
