"""The majors -> occupations map from the reference files: no database."""

from __future__ import annotations

from dataclasses import replace

import pytest

from qinghe.matching import classify, majormap


@pytest.fixture(scope="module")
def built() -> dict[str, list[str]]:
    model = classify.OccupationClassifier(
        classify.docs_from_csv(), replace(classify.ClassifierParams(), embedding=0.0)
    )
    return majormap.build_map(model, top=20)


def test_every_category_of_both_catalogs_gets_twenty_occupations(
    built: dict[str, list[str]],
) -> None:
    categories = majormap.categories_from_reference()
    assert len(categories) == 112
    assert sum(1 for code, _, _ in categories if len(code) == 4) == 93
    assert all(len(built[code]) == 20 for code, _, _ in categories)
    assert all(len(set(codes)) == len(codes) for codes in built.values())


def test_political_science_is_not_mapped_to_international_express(
    built: dict[str, list[str]],
) -> None:
    # Issue 19: 政治学类 -> 国际快递业务师 (they share only 国际).
    politics = built["0302"]
    assert "4-02-07-10" not in politics[:20]  # 国际快递业务师
    assert "2-06-07-01" not in politics[:5]  # 国际商务专业人员
    assert politics[:3] == ["3-01-01-01", "3-01-01-02", "3-01-02-02"]  # 行政/政务/秘书


def test_curated_codes_come_first_then_the_ranking_each_once() -> None:
    known = {"a", "b", "c", "d"}
    assert majormap.merged(["c", "x", "a"], ["a", "b", "c", "d"], known, 3) == ["c", "a", "b"]
    assert majormap.merged([], ["d", "d", "b"], known, 5) == ["d", "b"]


def test_every_curated_code_is_a_detailed_occupation_of_a_known_category() -> None:
    codes = {d.code for d in classify.docs_from_csv()}
    categories = {code for code, _, _ in majormap.categories_from_reference()}
    for category, listed in majormap.curated_lists().items():
        assert category in categories, category
        assert set(listed) <= codes, (category, set(listed) - codes)
        assert len(listed) == len(set(listed)), category
