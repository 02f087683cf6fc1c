"""Stored rows of ``scoring.score`` for millions of pairs: the total and the reasons as JSON
text, built from parts computed once per distinct value instead of once per pair.

``RowScorer(weights).row(talent, posting)`` returns what the full recompute stores for a pair,
``(round(total, 3), json.dumps([r.as_dict() for r in score(...).reasons]))``, or None where
``score`` is None; with ``scores=True`` also the ``Score`` itself (the fairness figures read
it). The tests hold it to exactly that (``test_scoring_rows``: the same text, byte for byte,
and the same float total, for every pair hypothesis draws and every pair of a fixture).

Why it is faster than ``score`` followed by ``Reason.as_dict`` and the JSON field's encoder:
no ``Reason``/``Score``/dict per pair and no JSON encoding per pair. Each reason is a part
(points, JSON text, ``Reason``) looked up in a cache by what it depends on: level and timing
by (level, graduation year) then the posting's (minimum, kind, start year); town, industry and
native per posting; salary by (expectation, range); skills by the matched keywords; major by
(the talent's major facts, posting). A row is the parts' texts joined as ``json.dumps`` joins a
list. The total is ``sum`` of the same float points in the same order as ``score`` adds
them, so it is the same float.
"""

from __future__ import annotations

import json
import math
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any

from . import scoring
from .fairness import COMPONENTS, component
from .scoring import (
    FIT_HOME_TOWN,
    FIT_NEAR_SECTION,
    HOME_TOWN_TEXT,
    LEVEL_LABEL,
    NATIVE_BOOST_CAP,
    PostingFacts,
    Reason,
    Score,
    TalentFacts,
    Weights,
)

# A cache is emptied when it holds this many keys (the major cache grows with the distinct
# major facts of talents, each with the postings met; the others stay small).
CACHE_LIMIT = 200_000

# A reason as the rows need it: its points, its JSON text (``json.dumps(reason.as_dict())``),
# the ``Reason`` itself (for a ``Score`` when asked) and its fairness component's position in
# ``fairness.COMPONENTS`` (``fairness.component``: the town criterion split by home town).
Part = tuple[float, str, Reason, int]
# (round(total, 3), reasons as JSON text) or, with scores, also the Score.
Row = tuple[Any, ...]


_text = encode_basestring_ascii  # json.dumps of a str (C)
_COMPONENT_AT = {name: i for i, name in enumerate(COMPONENTS)}


def part(criterion: str, points: float, text: str) -> Part:
    """The reason and its ``json.dumps(reason.as_dict())``, built without the encoder."""
    reason = Reason(criterion, points, text)
    shown = round(points, 2)
    number = float.__repr__(shown) if type(shown) is float and math.isfinite(shown) else None
    if number is None:
        number = json.dumps(shown)
    return (
        points,
        '{"criterion": '
        + _text(criterion)
        + ', "points": '
        + number
        + ', "text": '
        + _text(text)
        + "}",
        reason,
        _COMPONENT_AT[component(criterion, text)],
    )


class PreparedPosting:
    """What the rows need of one posting, computed once per posting (``RowScorer.posting``)."""

    __slots__ = (
        "facts",
        "posting_id",
        "is_open",
        "level_timing_key",
        "town_id",
        "town_preferred",
        "town_home",
        "division_id",
        "section_id",
        "industry_preferred",
        "industry_near",
        "salary_key",
        "native",
        "tokens",
    )

    def __init__(self, posting: PostingFacts, scorer: RowScorer) -> None:
        w = scorer.weights
        self.facts = posting
        self.posting_id = posting.posting_id
        self.is_open = posting.is_open
        self.level_timing_key = (posting.min_level_rank, posting.kind, posting.start_year)
        self.town_id = posting.town_id
        self.town_preferred = part("town", w.town, f"意向镇街：{posting.town_name}")
        self.town_home = part(
            "town", w.town * FIT_HOME_TOWN, f"{HOME_TOWN_TEXT}：{posting.town_name}"
        )
        self.division_id = posting.division_id
        self.section_id = posting.section_id
        self.industry_preferred = part("industry", w.industry, f"意向行业：{posting.industry_name}")
        self.industry_near = part(
            "industry",
            w.industry * FIT_NEAR_SECTION,
            f"行业相近：{posting.industry_name}（与你的意向行业同一门类）",
        )
        self.salary_key = (posting.salary_min, posting.salary_max)
        self.native = scorer.native_part(posting.natives_first)
        self.tokens = posting.tokens


class RowScorer:
    """Rows (total, reasons JSON) of ``scoring.score`` for many pairs under one ``Weights``.
    Meant for one run over fixed facts (a full recompute): postings are prepared once by
    ``posting_id`` and facts object."""

    def __init__(self, weights: Weights) -> None:
        self.weights = weights
        self._postings: dict[int, PreparedPosting] = {}
        # Talent's (level, graduation year) -> posting's (minimum, kind, start year) -> parts.
        self._level_timing: dict[tuple[Any, ...], dict[tuple[Any, ...], Any]] = {}
        # Expected salary -> posting's (minimum, maximum) -> part.
        self._salary: dict[int, dict[tuple[Any, ...], Any]] = {}
        self._skills: dict[frozenset[str], Part] = {}
        # Talent's major facts -> prepared posting -> part.
        self._major: dict[tuple[Any, ...], dict[PreparedPosting, Any]] = {}
        self._native: dict[bool, Part | None] = {}
        # Id of a talent's occupations tuple -> prepared posting -> (closeness, name).
        self._occupation: dict[int, dict[PreparedPosting, tuple[float, str]]] = {}
        # Talents' occupation tuples by id (the major cache's keys hold their ids).
        self._alive: dict[int, Any] = {}

    # --- cached parts ---------------------------------------------------------------------

    def native_part(self, natives_first: bool) -> Part | None:
        if natives_first not in self._native:
            boost = self.weights.boost_for(natives_first=natives_first)
            self._native[natives_first] = (
                part(
                    "native",
                    boost,
                    f"鹤山籍优先：+{scoring._num(boost)} 分"
                    f"（上限 {scoring._num(NATIVE_BOOST_CAP)} 分，公开规则）",
                )
                if boost > 0
                else None
            )
        return self._native[natives_first]

    def posting(self, posting: PostingFacts) -> PreparedPosting:
        cached = self._postings.get(posting.posting_id)
        if cached is None or cached.facts is not posting:
            cached = self._postings[posting.posting_id] = PreparedPosting(posting, self)
        return cached

    def _level_timing_part(
        self, talent: TalentFacts, posting: PostingFacts
    ) -> tuple[Part, Part] | None:
        w = self.weights
        level = scoring.level_fit(talent.level_rank, posting.min_level_rank)
        timing = scoring.timing_fit(posting.kind, talent.graduation_year, posting.start_year)
        if level is None or timing is None:
            return None
        mine = LEVEL_LABEL.get(talent.level_rank, "")
        if posting.min_level_rank:
            required = f"要求{LEVEL_LABEL[posting.min_level_rank]}及以上"
            note = "，学历高于要求较多" if level < 1.0 else ""
            level_text = f"学历符合：{mine or '未知'}（{required}{note}）"
        else:
            level_text = "学历符合：岗位不限学历"
        return (
            part("level", w.level * level, level_text),
            part("timing", w.timing * timing, scoring._timing_text(talent, posting)),
        )

    def _salary_part(self, expected: int, posting: PostingFacts) -> Part | None:
        offered = posting.salary_top
        if not offered:
            return None
        w = self.weights
        salary = scoring.salary_fit(expected, offered)
        shown = scoring._salary_text(posting)
        if salary >= 1.0:
            return part("salary", w.salary, f"薪酬符合期望：{shown}（期望 {expected} 元）")
        if salary > 0:
            return part(
                "salary", w.salary * salary, f"薪酬略低于期望：{shown}（期望 {expected} 元）"
            )
        return part("salary", 0.0, f"薪酬低于期望：{shown}（期望 {expected} 元）")

    def _skills_part(self, matched: frozenset[str]) -> Part:
        cached = self._skills.get(matched)
        if cached is None:
            if len(self._skills) > CACHE_LIMIT:
                self._skills.clear()
            cached = self._skills[matched] = part(
                "skills",
                self.weights.skills * scoring.skills_fit(len(matched)),
                "技能关键词：" + "、".join(sorted(matched)[:5]),
            )
        return cached

    def _major_part(self, talent: TalentFacts, p: PreparedPosting) -> Part | None:
        """``scoring.major_fit``, with the occupation closeness (the same for every major of
        a category: they share one occupations tuple) cached per posting."""
        occupations_of = self._occupation.get(id(talent.occupations))
        if occupations_of is None:
            if len(self._occupation) > CACHE_LIMIT:
                self._occupation.clear()
            occupations_of = self._occupation[id(talent.occupations)] = {}
        closeness = occupations_of.get(p)
        if closeness is None:
            closeness = occupations_of[p] = scoring.occupation_fit(
                talent.occupations, p.facts.occupations
            )
        best, text = scoring.major_fit(talent, p.facts, closeness)
        if best > 0:
            return part("major", self.weights.major * best, text)
        return None

    # --- rows -----------------------------------------------------------------------------

    def row(
        self, talent: TalentFacts, posting: PostingFacts, *, scores: bool = False
    ) -> Row | None:
        """``(round(score.total, 3), json.dumps(reasons))`` of ``scoring.score`` (and the
        ``Score`` with ``scores``); None where ``score`` is None."""
        return self.rows(talent, [self.posting(posting)], scores=scores)[0]

    def rows(
        self,
        talent: TalentFacts,
        postings: list[PreparedPosting],
        *,
        scores: bool = False,
        with_parts: bool = False,
        stored: tuple[list[Row], Any] | None = None,
    ) -> list[Row | None]:
        """``row`` for one talent and many postings (prepared by ``posting``), in order.
        ``with_parts`` (without ``scores``): each row is ``(round(total, 3), text, total,
        parts)``, the parts in the order of the ``Score``'s reasons. ``stored=(rows, stamp)``
        (without the others): appends ``(talent_id, posting_id, round(total, 3), text,
        stamp)`` to ``rows`` for each pair that ``score`` does not exclude, in order, and
        returns an empty list (the full recompute's stored recommendations)."""
        out: list[Row | None] = []
        grad = (talent.level_rank, talent.graduation_year)
        level_timing_of = self._level_timing.get(grad)
        if level_timing_of is None:
            level_timing_of = self._level_timing[grad] = {}
        occupations = talent.occupations
        major_key = (talent.major_id, talent.category_id, talent.major_label, id(occupations))
        major_of = self._major.get(major_key)
        if major_of is None:
            if len(self._major) > CACHE_LIMIT:
                self._major.clear()
            major_of = self._major[major_key] = {}
            self._alive[id(occupations)] = occupations
        preferred_towns = talent.preferred_town_ids
        home_town = talent.home_town_id
        divisions = talent.preferred_division_ids
        sections = talent.preferred_section_ids
        near_sections = talent.near_section_ids
        skills = talent.skills
        expected = talent.expected_salary
        salary_of: dict[tuple[Any, ...], Any] | None = None
        if expected:
            salary_of = self._salary.get(expected)
            if salary_of is None:
                salary_of = self._salary[expected] = {}
        is_native = talent.is_native
        append = out.append
        keep = stored is not None
        if stored is not None:
            stored_append, stamp = stored[0].append, stored[1]
            talent_id = talent.talent_id
        for p in postings:
            if not p.is_open:
                if not keep:
                    append(None)
                continue
            level_timing = level_timing_of.get(p.level_timing_key, False)
            if level_timing is False:
                level_timing = level_timing_of[p.level_timing_key] = self._level_timing_part(
                    talent, p.facts
                )
            if level_timing is None:
                if not keep:
                    append(None)
                continue
            major = major_of.get(p, False)
            if major is False:
                major = major_of[p] = self._major_part(talent, p)
            parts: list[Part] = [major, *level_timing] if major is not None else [*level_timing]
            town_id = p.town_id
            if town_id is not None:
                if town_id in preferred_towns:
                    parts.append(p.town_preferred)
                elif town_id == home_town:
                    parts.append(p.town_home)
            if (p.division_id is not None and p.division_id in divisions) or (
                p.section_id is not None and p.section_id in sections
            ):
                parts.append(p.industry_preferred)
            elif p.section_id is not None and p.section_id in near_sections:
                parts.append(p.industry_near)
            if skills:
                matched = skills & p.tokens
                if matched:
                    parts.append(self._skills_part(matched))
            if salary_of is not None:
                salary = salary_of.get(p.salary_key, False)
                if salary is False:
                    salary = salary_of[p.salary_key] = self._salary_part(expected, p.facts)  # type: ignore[arg-type]
                if salary is not None:
                    parts.append(salary)
            if is_native and p.native is not None:
                parts.append(p.native)
            total = sum([q[0] for q in parts])
            text = "[" + ", ".join([q[1] for q in parts]) + "]"
            if keep:
                stored_append((talent_id, p.posting_id, round(total, 3), text, stamp))
            elif scores:
                append((round(total, 3), text, Score(total, tuple([q[2] for q in parts]))))
            elif with_parts:
                append((round(total, 3), text, total, parts))
            else:
                append((round(total, 3), text))
        return out
