"""How well a talent fits a posting: pure functions over plain dataclasses, no ORM, no I/O.

``score(talent, posting, weights)`` returns a ``Score`` (a total and the reasons behind it, in
Chinese) or ``None`` when a hard filter excludes the pair; ``exclusion(talent, posting)`` says
which one. The vectorised engine (``index.py``) computes the same totals for many pairs at
once from the component functions below (``timing_fit``, ``level_fit``, ``salary_fit``,
``NATIVE_BOOST_CAP`` ...), and the tests hold the two to the same numbers.

Criteria (each worth ``weight x fit``, fit in [0, 1]):

- 专业 major: the posting's required majors / major categories, or else how close the talent's
  major is to the posting's occupations (the major category's ranked occupations against the
  posting's classified occupations);
- 学历 level: meeting the posting's minimum (below it excludes);
- 毕业时间 timing: graduation year against the kind of post (a full-time job wants graduates,
  an internship students; the wrong side excludes);
- 意向镇街 towns, 意向行业 industries, 技能 skills (keywords of the talent found in the posting),
  薪酬 salary (the posting's top of range against the talent's expectation).

Heshan natives get a disclosed boost: ``min(native_boost [+ flagged extra], NATIVE_BOOST_CAP)``,
shown among the reasons every time it is applied, never a filter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

# --- facts -------------------------------------------------------------------------------------

LEVEL_RANK: dict[str, int] = {
    "": 0,
    "secondary": 1,
    "junior": 2,
    "bachelor": 3,
    "master": 4,
    "doctor": 5,
}
LEVEL_LABEL: dict[int, str] = {
    0: "不限",
    1: "中专/高中",
    2: "专科",
    3: "本科",
    4: "硕士",
    5: "博士",
}

JOB = "job"
INTERNSHIP = "internship"
TRAINEESHIP = "traineeship"
KINDS: tuple[str, ...] = (JOB, INTERNSHIP, TRAINEESHIP)

EMPTY: frozenset = frozenset()


@dataclass(frozen=True, slots=True)
class TalentFacts:
    talent_id: int
    level_rank: int = 0
    graduation_year: int | None = None
    major_id: int | None = None
    category_id: int | None = None
    # Shown in reasons: the major's name (or the category's when there is no major).
    major_label: str = ""
    # The talent's occupations: (occupation code, weight in (0, 1]), strongest first. Shared
    # between all talents of a major category (one tuple object per category).
    occupations: tuple[tuple[str, float], ...] = ()
    is_native: bool = False
    is_double_first_class: bool = False
    # Only for the fairness report (never scored).
    is_woman: bool = False
    home_town_id: int | None = None
    preferred_town_ids: frozenset[int] = EMPTY
    # Industry preferences: divisions (大类) chosen, whole sections (门类) chosen, and the
    # sections of the chosen divisions (near misses).
    preferred_division_ids: frozenset[int] = EMPTY
    preferred_section_ids: frozenset[int] = EMPTY
    near_section_ids: frozenset[int] = EMPTY
    expected_salary: int | None = None
    skills: frozenset[str] = EMPTY


@dataclass(frozen=True, slots=True)
class PostingFacts:
    posting_id: int
    kind: str = JOB
    title: str = ""
    is_open: bool = True
    min_level_rank: int = 0
    # The year the job starts (start date, else the year the facts were loaded).
    start_year: int = 2026
    required_major_ids: frozenset[int] = EMPTY
    required_category_ids: frozenset[int] = EMPTY
    # Categories of the required majors (a major of the same category is a near fit).
    required_major_category_ids: frozenset[int] = EMPTY
    # (occupation code, occupation name, weight in (0, 1]); the first weighs 1, the others
    # less by rank and by the classifier's confidence (fetch.posting_occupations).
    occupations: tuple[tuple[str, str, float], ...] = ()
    town_id: int | None = None
    town_name: str = ""
    division_id: int | None = None
    section_id: int | None = None
    industry_name: str = ""
    salary_min: int | None = None
    salary_max: int | None = None
    tokens: frozenset[str] = EMPTY
    natives_first: bool = False
    enterprise_id: int | None = None

    @property
    def majors_restricted(self) -> bool:
        return bool(self.required_major_ids or self.required_category_ids)

    @property
    def salary_top(self) -> int:
        return self.salary_max or self.salary_min or 0


# --- configuration ---------------------------------------------------------------------------

# The most the native boost can ever add, whatever the configuration says. Part of the public
# rule shown with every boosted score.
NATIVE_BOOST_CAP = 5.0


@dataclass(frozen=True)
class Weights:
    """Points per criterion (a perfect fit on every criterion totals 100) and the boost.
    Overridden from settings.MATCHING_WEIGHTS (see services.weights_from_settings)."""

    major: float = 35.0
    level: float = 10.0
    timing: float = 15.0
    town: float = 10.0
    industry: float = 10.0
    skills: float = 10.0
    salary: float = 10.0
    native_boost: float = 3.0
    # Added to the boost on postings whose enterprise declared 鹤山籍优先 (still capped).
    native_boost_flagged: float = 2.0
    # Recommendations below this total are not shown: meeting the level and the timing (25
    # points), with the home town and the native boost on top, is not a reason to recommend
    # a job; something about the work itself (major, skills, industry) has to fit too.
    min_total: float = 40.0

    def boost_for(self, *, natives_first: bool) -> float:
        raw = self.native_boost + (self.native_boost_flagged if natives_first else 0.0)
        return native_boost_points(raw)


def native_boost_points(raw: float) -> float:
    """The boost actually applied: never negative, never above the cap, in tenths of a point
    (as it is shown)."""
    if raw != raw:  # NaN
        return 0.0
    return round(min(max(raw, 0.0), NATIVE_BOOST_CAP), 1)


# --- component fits (shared with the vectorised engine) ---------------------------------------

# Occupation weights of a major category's ranked list: rank 1 counts 1, each next one less.
RANK_DECAY = 0.9
# Major fit when the posting names the talent's major / category / a major of the same category.
FIT_REQUIRED_MAJOR = 1.0
FIT_REQUIRED_CATEGORY = 1.0
FIT_SAME_CATEGORY = 0.7
# Occupation closeness counts this much when the posting requires other majors.
RESTRICTED_OCCUPATION_FACTOR = 0.5
# Town: a preferred town, or else the talent's home town.
FIT_HOME_TOWN = 0.6
# The home-town reason starts with this (the fairness report tells it apart from a preferred town).
HOME_TOWN_TEXT = "离家近"
# Industry: a chosen division or section, or else the section of a chosen division.
FIT_NEAR_SECTION = 0.5
# Skills: this many keywords found give the full points.
SKILLS_FULL = 3
# Salary: full at or above the expectation, falling to nothing at this share of it.
SALARY_FLOOR = 0.8
# Level: this many levels above the minimum counts a little less (over-qualified).
OVERQUALIFIED_STEPS = 2
FIT_OVERQUALIFIED = 0.7
# Unknown graduation year: half the timing points, and no exclusion on timing.
FIT_TIMING_UNKNOWN = 0.5

# Timing by kind of post and (graduation year - start year), clipped to [-TIMING_SPAN,
# TIMING_SPAN]. None excludes.
TIMING_SPAN = 4
TIMING: dict[str, dict[int, float | None]] = {
    # Full-time jobs: this year's and earlier graduates; next year's at campus recruiting.
    JOB: {-4: 0.4, -3: 0.5, -2: 0.7, -1: 0.9, 0: 1.0, 1: 0.6, 2: None, 3: None, 4: None},
    # Internships: students; this year's graduates until they leave.
    INTERNSHIP: {-4: None, -3: None, -2: None, -1: None, 0: 0.7, 1: 1.0, 2: 1.0, 3: 0.8, 4: 0.6},
    # 就业见习: graduates up to two years after graduation.
    TRAINEESHIP: {-4: None, -3: None, -2: 0.8, -1: 1.0, 0: 1.0, 1: None, 2: None, 3: None, 4: None},
}


def rank_weight(rank: int) -> float:
    return RANK_DECAY ** max(rank - 1, 0)


def timing_delta(graduation_year: int, start_year: int) -> int:
    return max(-TIMING_SPAN, min(TIMING_SPAN, graduation_year - start_year))


def timing_fit(kind: str, graduation_year: int | None, start_year: int) -> float | None:
    if graduation_year is None:
        return FIT_TIMING_UNKNOWN
    return TIMING.get(kind, TIMING[JOB])[timing_delta(graduation_year, start_year)]


def level_fit(level_rank: int, min_level_rank: int) -> float | None:
    if min_level_rank and level_rank < min_level_rank:
        return None
    if min_level_rank and level_rank - min_level_rank >= OVERQUALIFIED_STEPS:
        return FIT_OVERQUALIFIED
    return 1.0


def salary_fit(expected: int | None, offered: int) -> float:
    if not expected or expected <= 0 or not offered or offered <= 0:
        return 0.0
    if offered >= expected:
        return 1.0
    floor = SALARY_FLOOR * expected
    if offered <= floor:
        return 0.0
    return (offered - floor) / (expected - floor)


def skills_fit(matched: int) -> float:
    return min(matched, SKILLS_FULL) / SKILLS_FULL


_MAPS: dict[int, tuple[tuple[tuple[str, float], ...], dict[str, float]]] = {}


def _as_map(occupations: tuple[tuple[str, float], ...]) -> dict[str, float]:
    """dict(occupations), cached per tuple object: all talents of a category share one."""
    cached = _MAPS.get(id(occupations))
    if cached is not None and cached[0] is occupations:
        return cached[1]
    mapping = dict(occupations)
    if len(_MAPS) > 4096:
        _MAPS.clear()
    _MAPS[id(occupations)] = (occupations, mapping)
    return mapping


def occupation_fit(
    talent_occupations: tuple[tuple[str, float], ...],
    posting_occupations: tuple[tuple[str, str, float], ...],
) -> tuple[float, str]:
    """Sum over shared occupations of talent weight x posting weight, at most 1, and the
    name of the occupation that contributes most."""
    if not talent_occupations or not posting_occupations:
        return 0.0, ""
    mine = _as_map(talent_occupations)
    total = 0.0
    best = 0.0
    best_name = ""
    for code, name, share in posting_occupations:
        weight = mine.get(code)
        if weight:
            part = weight * share
            total += part
            if part > best:
                best, best_name = part, name
    return min(total, 1.0), best_name


# --- the score ---------------------------------------------------------------------------------


class Reason(NamedTuple):
    criterion: str
    points: float
    text_zh: str

    def as_dict(self) -> dict[str, object]:
        return {"criterion": self.criterion, "points": round(self.points, 2), "text": self.text_zh}


@dataclass(frozen=True, slots=True)
class Score:
    total: float
    reasons: tuple[Reason, ...] = field(default_factory=tuple)

    def reason(self, criterion: str) -> Reason | None:
        return next((r for r in self.reasons if r.criterion == criterion), None)


CRITERIA_LABELS: dict[str, str] = {
    "major": "专业",
    "level": "学历",
    "timing": "毕业时间",
    "town": "意向镇街",
    "industry": "意向行业",
    "skills": "技能关键词",
    "salary": "薪酬",
    "native": "鹤山籍优先",
}


def exclusion(talent: TalentFacts, posting: PostingFacts) -> str | None:
    """The hard filter that excludes the pair, in Chinese; None when none does."""
    if not posting.is_open:
        return "岗位已关闭或已过截止日期"
    if level_fit(talent.level_rank, posting.min_level_rank) is None:
        required = LEVEL_LABEL.get(posting.min_level_rank, "")
        if not talent.level_rank:
            return f"学历未知，岗位要求{required}及以上"
        return f"学历不符：岗位要求{required}及以上"
    if timing_fit(posting.kind, talent.graduation_year, posting.start_year) is None:
        year = talent.graduation_year
        if posting.kind == INTERNSHIP:
            return f"实习岗位面向在校学生（你已于 {year} 年毕业）"
        if posting.kind == TRAINEESHIP:
            if year is not None and year > posting.start_year:
                return "见习岗位面向已毕业或应届的高校毕业生"
            return "见习岗位面向毕业两年内的高校毕业生"
        return f"全职岗位面向应届及往届毕业生（你预计 {year} 年毕业）"
    return None


def major_fit(
    talent: TalentFacts, posting: PostingFacts, closeness: tuple[float, str] | None = None
) -> tuple[float, str]:
    """The major fit in [0, 1] and its reason (empty when there is nothing to say).
    ``closeness``: ``occupation_fit`` of the pair when the caller has it already."""
    label = talent.major_label or "你的专业"
    best = 0.0
    text = ""
    if talent.major_id is not None and talent.major_id in posting.required_major_ids:
        best, text = FIT_REQUIRED_MAJOR, f"专业对口：{label}（岗位要求专业）"
    elif talent.category_id is not None and talent.category_id in posting.required_category_ids:
        best, text = FIT_REQUIRED_CATEGORY, f"专业对口：{label}（岗位要求专业类）"
    elif (
        talent.category_id is not None and talent.category_id in posting.required_major_category_ids
    ):
        best, text = FIT_SAME_CATEGORY, f"专业相近：{label}与岗位要求专业同属一类"
    occ, occ_name = closeness or occupation_fit(talent.occupations, posting.occupations)
    if posting.majors_restricted:
        occ *= RESTRICTED_OCCUPATION_FACTOR
    if occ > best:
        best = occ
        text = f"专业对口：{label} → {occ_name}"
        if posting.majors_restricted:
            text += "（不在岗位要求专业内，按职业相近计）"
    return best, text


def score(talent: TalentFacts, posting: PostingFacts, weights: Weights) -> Score | None:
    """The total and its reasons, or None when a hard filter excludes the pair (see
    ``exclusion`` for which). Reasons list every criterion that earned points, plus a note
    when the salary the talent expects is not met."""
    if not posting.is_open:
        return None
    level = level_fit(talent.level_rank, posting.min_level_rank)
    timing = timing_fit(posting.kind, talent.graduation_year, posting.start_year)
    if level is None or timing is None:
        return None
    reasons: list[Reason] = []
    add = reasons.append

    fit, text = major_fit(talent, posting)
    if fit > 0:
        add(Reason("major", weights.major * fit, text))

    mine = LEVEL_LABEL.get(talent.level_rank, "")
    if posting.min_level_rank:
        required = f"要求{LEVEL_LABEL[posting.min_level_rank]}及以上"
        note = "，学历高于要求较多" if level < 1.0 else ""
        add(
            Reason(
                "level", weights.level * level, f"学历符合：{mine or '未知'}（{required}{note}）"
            )
        )
    else:
        add(Reason("level", weights.level * level, "学历符合：岗位不限学历"))

    add(Reason("timing", weights.timing * timing, _timing_text(talent, posting)))

    town_id = posting.town_id
    if town_id is not None:
        if town_id in talent.preferred_town_ids:
            add(Reason("town", weights.town, f"意向镇街：{posting.town_name}"))
        elif town_id == talent.home_town_id:
            add(
                Reason(
                    "town", weights.town * FIT_HOME_TOWN, f"{HOME_TOWN_TEXT}：{posting.town_name}"
                )
            )

    if (
        posting.division_id is not None and posting.division_id in talent.preferred_division_ids
    ) or (posting.section_id is not None and posting.section_id in talent.preferred_section_ids):
        add(Reason("industry", weights.industry, f"意向行业：{posting.industry_name}"))
    elif posting.section_id is not None and posting.section_id in talent.near_section_ids:
        add(
            Reason(
                "industry",
                weights.industry * FIT_NEAR_SECTION,
                f"行业相近：{posting.industry_name}（与你的意向行业同一门类）",
            )
        )

    if talent.skills:
        matched = talent.skills & posting.tokens
        if matched:
            add(
                Reason(
                    "skills",
                    weights.skills * skills_fit(len(matched)),
                    "技能关键词：" + "、".join(sorted(matched)[:5]),
                )
            )

    expected = talent.expected_salary
    offered = posting.salary_top
    if expected and offered:
        salary = salary_fit(expected, offered)
        if salary >= 1.0:
            add(
                Reason(
                    "salary",
                    weights.salary,
                    f"薪酬符合期望：{_salary_text(posting)}（期望 {expected} 元）",
                )
            )
        elif salary > 0:
            add(
                Reason(
                    "salary",
                    weights.salary * salary,
                    f"薪酬略低于期望：{_salary_text(posting)}（期望 {expected} 元）",
                )
            )
        else:
            add(
                Reason(
                    "salary", 0.0, f"薪酬低于期望：{_salary_text(posting)}（期望 {expected} 元）"
                )
            )

    if talent.is_native:
        boost = weights.boost_for(natives_first=posting.natives_first)
        if boost > 0:
            add(
                Reason(
                    "native",
                    boost,
                    f"鹤山籍优先：+{_num(boost)} 分（上限 {_num(NATIVE_BOOST_CAP)} 分，公开规则）",
                )
            )

    return Score(total=sum(r.points for r in reasons), reasons=tuple(reasons))


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _salary_text(posting: PostingFacts) -> str:
    if posting.salary_min and posting.salary_max:
        return f"{posting.salary_min}–{posting.salary_max} 元/月"
    if posting.salary_max:
        return f"最高 {posting.salary_max} 元/月"
    return f"{posting.salary_min} 元/月起"


def _timing_text(talent: TalentFacts, posting: PostingFacts) -> str:
    year = talent.graduation_year
    if year is None:
        return "毕业时间未知"
    if posting.kind == INTERNSHIP:
        return f"在校生（{year} 年毕业），适合实习"
    if posting.kind == TRAINEESHIP:
        return f"{year} 届毕业生，符合见习条件"
    delta = year - posting.start_year
    if delta == 0:
        return f"{year} 届应届毕业生，到岗时间合适"
    if delta > 0:
        return f"{year} 届，可参加提前招聘"
    return f"{year} 届毕业生（岗位 {posting.start_year} 年到岗）"
