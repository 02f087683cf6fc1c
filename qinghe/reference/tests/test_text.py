"""Normalisation, pinyin and the pure parts of the loader and of county resolution: no database."""

from __future__ import annotations

from qinghe.reference.selectors import RegionPeriod, parse_successors, resolve_successors
from qinghe.reference.services import occupation_parent_code, split_occupation_name
from qinghe.reference.text import (
    build_search_text,
    name_key,
    normalise,
    pinyin_full,
    pinyin_initials,
    query_terms,
)


def test_full_width_and_bracket_spellings_of_a_name_share_one_key() -> None:
    key = name_key("中国地质大学（武汉）")
    assert key == "中国地质大学(武汉)"
    assert name_key("中国地质大学(武汉)") == key
    assert name_key(" 中国地质大学 【武汉】 ") == key
    assert name_key("中国地质大学［武汉］") == key


def test_normalise_folds_width_case_and_spaces() -> None:
    assert normalise("  ＡＢＣ　计算机  ") == "abc 计算机"
    assert query_terms(" 广州  双一流 ") == ["广州", "双一流"]
    assert query_terms("   ") == []


def test_pinyin_initials_and_full_pinyin() -> None:
    assert pinyin_initials("计算机科学与技术") == "jsjkxyjs"
    assert pinyin_full("计算机类") == "jisuanjilei"
    assert pinyin_initials("农、林、牧、渔业") == "nlmyy"


def test_search_text_holds_code_name_aliases_and_pinyin_once() -> None:
    text = build_search_text("计算机类", code="0809", others=["计算机类", "Computer"])
    assert text == "0809 计算机类 computer jsjl jisuanjilei"


def test_occupation_markers_move_out_of_the_name() -> None:
    assert split_occupation_name("电子商务师S") == ("电子商务师", "S")
    assert split_occupation_name("水工环地质工程技术人员L") == ("水工环地质工程技术人员", "L")
    assert split_occupation_name("大地测量工程技术人员L/S") == ("大地测量工程技术人员", "L/S")
    assert split_occupation_name("修鞋工") == ("修鞋工", "")


def test_occupation_parents_come_from_the_code() -> None:
    assert occupation_parent_code("2-02-10-03", 4) == "2-02-10-00"
    assert occupation_parent_code("2-02-10-00", 3) == "2-02-00-00"
    assert occupation_parent_code("2-02-00-00", 2) == "2-00-00-00"
    assert occupation_parent_code("2-00-00-00", 1) == ""
    # an occupation without subdivisions hangs under the 小类 of the same code
    assert occupation_parent_code("2-03-01-00", 4) == "2-03-01-00"


def test_successor_codes_parse_with_and_without_years() -> None:
    assert parse_successors("440784") == [("440784", None)]
    assert parse_successors("440702[1984];440711[1984]") == [("440702", 1984), ("440711", 1984)]
    assert parse_successors("") == []


HISTORY = {
    "442731": [RegionPeriod("442731", "鹤山县", "abolished", 1981, 1983, "440725")],
    "440725": [RegionPeriod("440725", "鹤山县", "abolished", 1983, 1993, "440784")],
    "440784": [RegionPeriod("440784", "鹤山市", "active", 1993, None, "")],
    "440726": [RegionPeriod("440726", "阳江县", "abolished", 1983, 1988, "441702;441703;441721")],
    "120110": [
        RegionPeriod("120110", "东郊区", "changed", 1981, 1992, "120110"),
        RegionPeriod("120110", "东丽区", "active", 1992, None, ""),
    ],
    "111111": [RegionPeriod("111111", "环", "abolished", 1981, 1990, "111111")],
}


def _lookup(code: str) -> list[RegionPeriod]:
    return HISTORY.get(code, [])


def test_successors_are_followed_to_the_code_in_use() -> None:
    for code in ("442731", "440725", "440784"):
        resolved = resolve_successors(code, _lookup)
        assert resolved is not None
        assert (resolved.code, resolved.name) == ("440784", "鹤山市")


def test_a_split_an_unknown_code_and_a_loop_resolve_to_nothing() -> None:
    assert resolve_successors("440726", _lookup) is None
    assert resolve_successors("000000", _lookup) is None
    assert resolve_successors("111111", _lookup) is None


def test_a_renamed_code_resolves_to_its_current_period_whatever_the_year() -> None:
    for year in (None, 1985):
        resolved = resolve_successors("120110", _lookup, year=year)
        assert resolved is not None
        assert resolved.name == "东丽区"


def test_the_api_accepts_exactly_the_browsable_datasets() -> None:
    from typing import get_args

    from qinghe.reference.api import DatasetSlug
    from qinghe.reference.selectors import DATASETS

    assert set(get_args(DatasetSlug)) == set(DATASETS)
