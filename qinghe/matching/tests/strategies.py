"""Hypothesis strategies and small builders for talents and postings as facts (no database)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from qinghe.matching import scoring
from qinghe.matching.scoring import PostingFacts, TalentFacts, Weights

CODES = [f"2-02-10-0{i}" for i in range(1, 10)] + ["2-06-03-00", "4-01-02-01", "6-04-03-03"]
NAMES = {code: f"职业{code}" for code in CODES}
TOKENS = ["python", "java", "cad", "excel", "沟通", "数据分析", "英语"]


def talent(**fields: Any) -> TalentFacts:
    defaults: dict[str, Any] = {
        "talent_id": 1,
        "level_rank": 3,
        "graduation_year": 2026,
        "major_id": 10,
        "category_id": 100,
        "major_label": "软件工程",
        "occupations": (("2-02-10-03", 1.0), ("2-02-10-04", 0.9)),
    }
    defaults.update(fields)
    return TalentFacts(**defaults)


def posting(**fields: Any) -> PostingFacts:
    defaults: dict[str, Any] = {
        "posting_id": 1,
        "kind": scoring.JOB,
        "title": "软件开发工程师",
        "min_level_rank": 3,
        "start_year": 2026,
        "occupations": (
            ("2-02-10-03", "计算机软件工程技术人员", 0.7),
            ("2-02-10-04", "计算机网络工程技术人员", 0.3),
        ),
        "town_id": 1,
        "town_name": "沙坪街道",
        "division_id": 65,
        "section_id": 9,
        "industry_name": "软件和信息技术服务业",
        "salary_min": 6000,
        "salary_max": 9000,
        "tokens": frozenset({"python", "java", "开发"}),
    }
    defaults.update(fields)
    return PostingFacts(**defaults)


def _occupations(draw: Any) -> tuple[tuple[str, float], ...]:
    codes = draw(st.lists(st.sampled_from(CODES), unique=True, max_size=6))
    return tuple((c, scoring.rank_weight(r)) for r, c in enumerate(codes, start=1))


@st.composite
def talents(draw: Any, talent_id: int | None = None) -> TalentFacts:
    divisions = draw(st.frozensets(st.integers(1, 6), max_size=2))
    return TalentFacts(
        talent_id=talent_id if talent_id is not None else draw(st.integers(1, 10_000)),
        level_rank=draw(st.integers(0, 5)),
        graduation_year=draw(st.one_of(st.none(), st.integers(2018, 2034))),
        major_id=draw(st.one_of(st.none(), st.integers(1, 6))),
        category_id=draw(st.one_of(st.none(), st.integers(1, 4))),
        major_label=draw(st.sampled_from(["软件工程", "会计学", "机械设计制造及其自动化", ""])),
        occupations=_occupations(draw),
        is_native=draw(st.booleans()),
        is_double_first_class=draw(st.booleans()),
        home_town_id=draw(st.one_of(st.none(), st.integers(1, 5))),
        preferred_town_ids=draw(st.frozensets(st.integers(1, 5), max_size=3)),
        preferred_division_ids=divisions,
        preferred_section_ids=draw(st.frozensets(st.integers(1, 3), max_size=1)),
        near_section_ids=frozenset((d + 1) // 2 for d in divisions),
        expected_salary=draw(st.one_of(st.none(), st.integers(2000, 20000))),
        skills=draw(st.frozensets(st.sampled_from(TOKENS), max_size=4)),
    )


@st.composite
def postings(draw: Any, posting_id: int | None = None) -> PostingFacts:
    codes = draw(st.lists(st.sampled_from(CODES), unique=True, max_size=5))
    raw = sorted((draw(st.floats(0.01, 1.0)) for _ in codes), reverse=True)
    total = raw[0] if raw else 1.0
    majors = draw(st.frozensets(st.integers(1, 6), max_size=2))
    division = draw(st.one_of(st.none(), st.integers(1, 6)))
    salary_min = draw(st.one_of(st.none(), st.integers(2000, 15000)))
    salary_max = draw(st.one_of(st.none(), st.integers(2000, 30000)))
    if salary_min and salary_max and salary_min > salary_max:
        salary_min, salary_max = salary_max, salary_min
    return PostingFacts(
        posting_id=posting_id if posting_id is not None else draw(st.integers(1, 10_000)),
        kind=draw(st.sampled_from(scoring.KINDS)),
        title="岗位",
        is_open=draw(st.booleans()) or draw(st.booleans()),
        min_level_rank=draw(st.integers(0, 5)),
        start_year=draw(st.integers(2024, 2028)),
        required_major_ids=majors,
        required_category_ids=draw(st.frozensets(st.integers(1, 4), max_size=1)),
        required_major_category_ids=frozenset((m + 1) // 2 for m in majors),
        occupations=tuple((c, NAMES[c], r / total) for c, r in zip(codes, raw, strict=True)),
        town_id=draw(st.one_of(st.none(), st.integers(1, 5))),
        town_name="镇",
        division_id=division,
        section_id=None if division is None else (division + 1) // 2,
        industry_name="行业",
        salary_min=salary_min,
        salary_max=salary_max,
        tokens=draw(st.frozensets(st.sampled_from(TOKENS), max_size=5)),
        natives_first=draw(st.booleans()),
        enterprise_id=1,
    )


weights = st.builds(
    Weights,
    major=st.floats(0, 60),
    level=st.floats(0, 30),
    timing=st.floats(0, 30),
    town=st.floats(0, 30),
    industry=st.floats(0, 30),
    skills=st.floats(0, 30),
    salary=st.floats(0, 30),
    native_boost=st.one_of(st.floats(-10, 1e6), st.just(float("inf"))),
    native_boost_flagged=st.floats(-10, 1e6),
    min_total=st.floats(0, 50),
)
