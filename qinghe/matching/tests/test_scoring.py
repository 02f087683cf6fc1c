"""The pure scoring functions: no database (no django_db mark anywhere in this module)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qinghe.matching import scoring
from qinghe.matching.scoring import NATIVE_BOOST_CAP, Weights, exclusion, score

from .strategies import posting, postings, talent, talents, weights

W = Weights()


def reasons_of(result: scoring.Score) -> dict[str, scoring.Reason]:
    return {r.criterion: r for r in result.reasons}


def test_a_software_engineering_student_fits_a_software_job_and_is_told_why() -> None:
    result = score(talent(), posting(), W)
    assert result is not None
    reasons = reasons_of(result)
    # Posting shares 0.7 / 0.3 against talent weights 1.0 / 0.9: 0.7 + 0.27 = 0.97 of 35.
    assert reasons["major"].points == pytest.approx(35 * 0.97)
    assert reasons["major"].text_zh == "专业对口：软件工程 → 计算机软件工程技术人员"
    assert reasons["level"].text_zh == "学历符合：本科（要求本科及以上）"
    assert reasons["level"].points == 10
    assert reasons["timing"].text_zh == "2026 届应届毕业生，到岗时间合适"
    assert reasons["timing"].points == 15
    assert result.total == pytest.approx(sum(r.points for r in result.reasons))


def test_a_required_major_counts_in_full_and_says_so() -> None:
    result = score(talent(), posting(required_major_ids=frozenset({10}), occupations=()), W)
    assert result is not None
    assert reasons_of(result)["major"].points == 35
    assert reasons_of(result)["major"].text_zh == "专业对口：软件工程（岗位要求专业）"


def test_a_major_of_the_same_category_as_a_required_one_is_a_near_fit() -> None:
    p = posting(
        required_major_ids=frozenset({11}),
        required_major_category_ids=frozenset({100}),
        occupations=(),
    )
    result = score(talent(), p, W)
    assert result is not None
    assert reasons_of(result)["major"].points == pytest.approx(35 * 0.7)


def test_outside_the_required_majors_occupation_closeness_counts_half() -> None:
    p = posting(required_major_ids=frozenset({99}))
    result = score(talent(), p, W)
    assert result is not None
    assert reasons_of(result)["major"].points == pytest.approx(35 * 0.97 * 0.5)
    assert "不在岗位要求专业内" in reasons_of(result)["major"].text_zh


@pytest.mark.parametrize(
    ("kind", "year", "expected"),
    [
        (scoring.JOB, 2028, "全职岗位面向应届及往届毕业生（你预计 2028 年毕业）"),
        (scoring.INTERNSHIP, 2025, "实习岗位面向在校学生（你已于 2025 年毕业）"),
        (scoring.TRAINEESHIP, 2027, "见习岗位面向已毕业或应届的高校毕业生"),
        (scoring.TRAINEESHIP, 2022, "见习岗位面向毕业两年内的高校毕业生"),
    ],
)
def test_internship_versus_graduate_is_a_hard_filter(kind: str, year: int, expected: str) -> None:
    t, p = talent(graduation_year=year), posting(kind=kind)
    assert score(t, p, W) is None
    assert exclusion(t, p) == expected


def test_below_the_minimum_level_excludes() -> None:
    t, p = talent(level_rank=2), posting(min_level_rank=3)
    assert score(t, p, W) is None
    assert exclusion(t, p) == "学历不符：岗位要求本科及以上"


def test_a_closed_posting_excludes() -> None:
    assert score(talent(), posting(is_open=False), W) is None
    assert exclusion(talent(), posting(is_open=False)) == "岗位已关闭或已过截止日期"


def test_an_internship_suits_a_student_two_years_from_graduating() -> None:
    result = score(talent(graduation_year=2028), posting(kind=scoring.INTERNSHIP), W)
    assert result is not None
    assert reasons_of(result)["timing"].points == 15
    assert reasons_of(result)["timing"].text_zh == "在校生（2028 年毕业），适合实习"


def test_towns_industries_skills_and_salary_each_say_what_matched() -> None:
    t = talent(
        preferred_town_ids=frozenset({1}),
        preferred_division_ids=frozenset({65}),
        skills=frozenset({"python", "java", "cad"}),
        expected_salary=8000,
    )
    result = score(t, posting(), W)
    assert result is not None
    reasons = reasons_of(result)
    assert reasons["town"].text_zh == "意向镇街：沙坪街道"
    assert reasons["town"].points == 10
    assert reasons["industry"].text_zh == "意向行业：软件和信息技术服务业"
    assert reasons["skills"].text_zh == "技能关键词：java、python"
    assert reasons["skills"].points == pytest.approx(10 * 2 / 3)
    assert reasons["salary"].text_zh == "薪酬符合期望：6000–9000 元/月（期望 8000 元）"


def test_home_town_and_a_near_industry_earn_partial_points() -> None:
    t = talent(
        home_town_id=1, preferred_division_ids=frozenset({64}), near_section_ids=frozenset({9})
    )
    reasons = reasons_of(score(t, posting(), W))  # type: ignore[arg-type]
    assert reasons["town"].points == pytest.approx(6.0)
    assert reasons["town"].text_zh == "离家近：沙坪街道"
    assert reasons["industry"].points == pytest.approx(5.0)


def test_a_salary_under_the_expectation_is_noted_with_no_points() -> None:
    result = score(talent(expected_salary=15000), posting(), W)
    assert result is not None
    assert reasons_of(result)["salary"].points == 0
    assert reasons_of(result)["salary"].text_zh.startswith("薪酬低于期望")


def test_weights_add_up_to_a_hundred_for_a_perfect_fit() -> None:
    w = W
    assert w.major + w.level + w.timing + w.town + w.industry + w.skills + w.salary == 100


# --- the native boost: bounded, disclosed, never a filter -------------------------------------


def test_the_native_boost_is_shown_with_its_cap() -> None:
    result = score(talent(is_native=True), posting(), W)
    assert result is not None
    assert reasons_of(result)["native"].text_zh == "鹤山籍优先：+3 分（上限 5 分，公开规则）"
    flagged = score(talent(is_native=True), posting(natives_first=True), W)
    assert reasons_of(flagged)["native"].text_zh == "鹤山籍优先：+5 分（上限 5 分，公开规则）"  # type: ignore[arg-type]


def test_a_configured_boost_above_the_cap_is_held_to_the_cap() -> None:
    greedy = replace(W, native_boost=50.0, native_boost_flagged=50.0)
    result = score(talent(is_native=True), posting(), greedy)
    assert reasons_of(result)["native"].points == NATIVE_BOOST_CAP  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(t=talents(), p=postings(), w=weights)
def test_native_boost_is_bounded_disclosed_and_never_a_filter(
    t: scoring.TalentFacts, p: scoring.PostingFacts, w: Weights
) -> None:
    native = replace(t, is_native=True)
    other = replace(t, is_native=False)
    with_boost = score(native, p, w)
    without = score(other, p, w)
    # Never a filter: being native or not changes nothing about who is excluded.
    assert (with_boost is None) == (without is None) == (exclusion(t, p) is not None)
    if with_boost is None or without is None:
        return
    boost = with_boost.total - without.total
    assert -1e-9 <= boost <= NATIVE_BOOST_CAP + 1e-9
    reason = with_boost.reason("native")
    if boost > 1e-9:
        # Always disclosed when applied, with the points it added and the cap.
        assert reason is not None
        assert reason.points == pytest.approx(boost)
        assert f"上限 {NATIVE_BOOST_CAP:g} 分" in reason.text_zh
        assert reason.text_zh.startswith("鹤山籍优先：+")
    else:
        assert reason is None
    assert without.reason("native") is None
    # Everything else is the same.
    assert [r for r in with_boost.reasons if r.criterion != "native"] == list(without.reasons)


@settings(max_examples=300, deadline=None)
@given(t=talents(), p=postings())
def test_total_is_the_sum_of_reasons_and_each_criterion_within_its_weight(
    t: scoring.TalentFacts, p: scoring.PostingFacts
) -> None:
    result = score(t, p, W)
    if result is None:
        assert exclusion(t, p) is not None
        return
    assert result.total == pytest.approx(sum(r.points for r in result.reasons))
    limits = {
        "major": W.major,
        "level": W.level,
        "timing": W.timing,
        "town": W.town,
        "industry": W.industry,
        "skills": W.skills,
        "salary": W.salary,
        "native": NATIVE_BOOST_CAP,
    }
    for reason in result.reasons:
        assert 0.0 <= reason.points <= limits[reason.criterion] + 1e-9
        assert reason.text_zh
    assert result.total <= 100 + NATIVE_BOOST_CAP + 1e-9


@given(raw=st.floats(allow_nan=True, allow_infinity=True))
def test_native_boost_points_never_leave_zero_to_cap(raw: float) -> None:
    assert 0.0 <= scoring.native_boost_points(raw) <= NATIVE_BOOST_CAP
