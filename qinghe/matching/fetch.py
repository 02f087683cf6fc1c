"""Loads what matching reads from the database into the plain dataclasses of ``scoring`` and
``classify``: a fixed number of ``values()`` queries whatever the number of rows, never one
query per talent or posting."""

from __future__ import annotations

import datetime as dt
import threading
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from qinghe.enterprises.models import Enterprise
from qinghe.jobs.models import Posting
from qinghe.reference.models import Industry, Major, Occupation
from qinghe.talents.consent import consent_in_force
from qinghe.talents.models import Consent, Education, Talent

from . import classify, scoring, text
from .models import MajorOccupation, MatchingProfile, PostingOccupation, TagSource
from .scoring import PostingFacts, TalentFacts

# Occupations a posting keeps from the classifier, and those a free-text major maps to.
POSTING_OCCUPATIONS = 5
MAJOR_OCCUPATIONS = 20


# --- occupations and the classifier ----------------------------------------------------------


def occupation_docs(*, learned: bool = True) -> list[classify.OccupationDoc]:
    """Detailed occupations (level 4) with their aliases and the names of their groups.

    With ``learned``, the titles of postings that staff corrected count as listed job titles
    of the occupation they put first: a correction teaches the classifier, and the next posting
    with a similar title is classified the way the person said."""
    rows = Occupation.objects.values("code", "level", "name", "definition", "tasks", "aliases")
    catalog = [
        {
            "code": r["code"],
            "level": str(r["level"]),
            "name": r["name"],
            "definition": r["definition"],
            "tasks": r["tasks"],
            "alias": r["aliases"],
        }
        for r in rows
    ]
    docs = classify.docs_from_rows(catalog)
    if not learned:
        return docs
    return classify.with_titles(docs, corrected_titles())


def corrected_titles() -> list[tuple[str, str]]:
    """(posting title, occupation code) for every posting a person tagged: the occupation they
    put first."""
    rows = (
        PostingOccupation.objects.filter(source=TagSource.STAFF)
        .order_by("posting_id", "rank", "id")
        .values_list("posting_id", "posting__title", "occupation__code")
    )
    first: dict[int, tuple[str, str]] = {}
    for posting_id, title, code in rows:
        first.setdefault(posting_id, (title, code))
    return list(first.values())


_classifier_lock = threading.Lock()
_classifier: tuple[tuple[Any, ...], classify.OccupationClassifier] | None = None


def _classifier_stamp() -> tuple[Any, ...]:
    catalog = Occupation.objects.filter(level=Occupation.Level.OCCUPATION).aggregate(
        count=Count("id"), last=Max("id")
    )
    corrections = PostingOccupation.objects.filter(source=TagSource.STAFF).aggregate(
        count=Count("id"), last=Max("id"), when=Max("corrected_at")
    )
    return (
        catalog["count"] or 0,
        catalog["last"] or 0,
        corrections["count"] or 0,
        corrections["last"] or 0,
        corrections["when"],
    )


def classifier() -> classify.OccupationClassifier:
    """The classifier over the catalog in the database and the staff's corrections, built once
    per process (about two seconds) and again when either changes."""
    global _classifier
    key = _classifier_stamp()
    with _classifier_lock:
        if _classifier is None or _classifier[0] != key:
            _classifier = (key, classify.OccupationClassifier(occupation_docs()))
        return _classifier[1]


def occupations_by_code(codes: Iterable[str]) -> dict[str, Occupation]:
    """Detailed occupations by code (the level-4 row where a code names several levels)."""
    found: dict[str, Occupation] = {}
    for occ in Occupation.objects.filter(code__in=set(codes)).order_by("code", "-level"):
        found.setdefault(occ.code, occ)
    return found


# --- consent ---------------------------------------------------------------------------------


def consenting_talents() -> QuerySet[Talent]:
    """Talents whose consent to matching is in force (and not merged into another)."""
    return (
        Talent.objects.filter(merged_into__isnull=True)
        .annotate(matching_ok=consent_in_force(Consent.Purpose.MATCHING))
        .filter(matching_ok=True)
    )


# --- postings --------------------------------------------------------------------------------


def open_postings(*, today: dt.date | None = None) -> QuerySet[Posting]:
    """Published, not past the closing date, of a verified enterprise (the same rule as the
    job search)."""
    today = today or timezone.localdate()
    return Posting.objects.filter(
        Q(closing_date__isnull=True) | Q(closing_date__gte=today),
        state=Posting.State.PUBLISHED,
        enterprise__state=Enterprise.State.VERIFIED,
    )


# A posting's occupations weigh 1 for the first, then less by rank and by how far the
# classifier's score falls below the first's.
POSTING_RANK_DECAY = 0.7


def posting_occupations(
    posting_ids: Iterable[int],
) -> dict[int, tuple[tuple[str, str, float], ...]]:
    """Each posting's occupations with weights in (0, 1], the first 1: staff tags when a
    posting has any (by their order), else the classifier's (by rank and relative score)
    unless the classifier was not sure (``PostingOccupation.not_sure``: the posting waits
    for a person and has no occupations meanwhile)."""
    staff: dict[int, list[tuple[str, str, float]]] = defaultdict(list)
    auto: dict[int, list[tuple[str, str, float]]] = defaultdict(list)
    rows = (
        PostingOccupation.objects.filter(posting_id__in=list(posting_ids))
        .order_by("posting_id", "rank", "id")
        .values_list(
            "posting_id", "source", "score", "occupation__code", "occupation__name", "not_sure"
        )
    )
    for posting_id, source, score, code, name, unsure in rows:
        if source == TagSource.AUTO:
            if not unsure:
                auto[posting_id].append((code, name, max(score, 0.0)))
        else:
            staff[posting_id].append((code, name, 1.0))
    out: dict[int, tuple[tuple[str, str, float], ...]] = {}
    for posting_id in set(staff) | set(auto):
        chosen = staff.get(posting_id) or auto.get(posting_id) or []
        top = chosen[0][2] if chosen and chosen[0][2] > 0 else 1.0
        out[posting_id] = tuple(
            (code, name, POSTING_RANK_DECAY**rank * min(score / top, 1.0))
            for rank, (code, name, score) in enumerate(chosen)
        )
    return out


def posting_facts(
    *,
    posting_ids: Iterable[int] | None = None,
    today: dt.date | None = None,
    only_open: bool = True,
) -> list[PostingFacts]:
    today = today or timezone.localdate()
    qs = open_postings(today=today) if only_open else Posting.objects.all()
    if posting_ids is not None:
        qs = qs.filter(pk__in=list(posting_ids))
    rows = list(
        qs.values(
            "id",
            "kind",
            "title",
            "description",
            "state",
            "closing_date",
            "start_date",
            "min_level",
            "salary_min",
            "salary_max",
            "town_id",
            "town__name",
            "natives_first",
            "search_tokens",
            "enterprise_id",
            "enterprise__state",
            "enterprise__industry_id",
            "enterprise__industry__parent_id",
            "enterprise__industry__level",
            "enterprise__industry__name",
        ).order_by("id")
    )
    ids = [r["id"] for r in rows]
    majors: dict[int, set[int]] = defaultdict(set)
    major_categories: dict[int, set[int]] = defaultdict(set)
    for posting_id, major_id, category_id in Posting.required_majors.through.objects.filter(
        posting_id__in=ids
    ).values_list("posting_id", "major_id", "major__category_id"):
        majors[posting_id].add(major_id)
        major_categories[posting_id].add(category_id)
    categories: dict[int, set[int]] = defaultdict(set)
    for posting_id, category_id in Posting.required_categories.through.objects.filter(
        posting_id__in=ids
    ).values_list("posting_id", "majorcategory_id"):
        categories[posting_id].add(category_id)
    occupations = posting_occupations(ids)
    out: list[PostingFacts] = []
    for r in rows:
        is_open = (
            r["state"] == Posting.State.PUBLISHED
            and r["enterprise__state"] == Enterprise.State.VERIFIED
            and (r["closing_date"] is None or r["closing_date"] >= today)
        )
        if r["enterprise__industry__level"] == Industry.Level.DIVISION:
            division, section = r["enterprise__industry_id"], r["enterprise__industry__parent_id"]
        else:
            division, section = None, r["enterprise__industry_id"]
        tokens = frozenset(r["search_tokens"].split()) or text.document_tokens(
            r["title"], r["description"]
        )
        out.append(
            PostingFacts(
                posting_id=r["id"],
                kind=r["kind"],
                title=r["title"],
                is_open=is_open,
                min_level_rank=scoring.LEVEL_RANK.get(r["min_level"] or "", 0),
                start_year=(r["start_date"] or today).year,
                required_major_ids=frozenset(majors.get(r["id"], ())),
                required_category_ids=frozenset(categories.get(r["id"], ())),
                required_major_category_ids=frozenset(major_categories.get(r["id"], ())),
                occupations=occupations.get(r["id"], ()),
                town_id=r["town_id"],
                town_name=r["town__name"] or "",
                division_id=division,
                section_id=section,
                industry_name=r["enterprise__industry__name"] or "",
                salary_min=r["salary_min"],
                salary_max=r["salary_max"],
                tokens=tokens,
                natives_first=r["natives_first"],
                enterprise_id=r["enterprise_id"],
            )
        )
    return out


# --- talents ---------------------------------------------------------------------------------


def category_occupations() -> dict[int, tuple[tuple[str, float], ...]]:
    """Each major category's occupations (code, weight by rank), one shared tuple each."""
    lists: dict[int, list[str]] = defaultdict(list)
    for category_id, code in (
        MajorOccupation.objects.filter(removed=False)
        .order_by("category_id", "rank", "id")
        .values_list("category_id", "occupation__code")
    ):
        if code not in lists[category_id]:
            lists[category_id].append(code)
    return {
        category_id: tuple(
            (code, scoring.rank_weight(rank)) for rank, code in enumerate(codes, start=1)
        )
        for category_id, codes in lists.items()
    }


def _free_text_occupations(names: set[str]) -> dict[str, tuple[tuple[str, float], ...]]:
    """Occupations for majors known only by name (not in the catalogs): the classifier's
    ranking of the name, weighted like a category's list."""
    if not names:
        return {}
    if not Occupation.objects.filter(level=Occupation.Level.OCCUPATION).exists():
        return {}
    model = classifier()
    ordered = sorted(names)
    ranked = model.rank([(name, "") for name in ordered], MAJOR_OCCUPATIONS)
    return {
        name: tuple((code, scoring.rank_weight(rank)) for rank, (code, _s) in enumerate(r, 1))
        for name, r in zip(ordered, ranked, strict=True)
    }


_LEVEL_OF_EDUCATION = {"junior": 2, "bachelor": 3, "master": 4, "doctor": 5}


def talent_facts(
    *, talents: QuerySet[Talent] | None = None, talent_ids: Iterable[int] | None = None
) -> list[TalentFacts]:
    """Facts of the given talents (default: every talent who consents to matching)."""
    qs = talents if talents is not None else consenting_talents()
    if talent_ids is not None:
        qs = qs.filter(pk__in=list(talent_ids))
    base = list(
        qs.values("id", "graduation_year", "native_evidence", "town_id", "gender").order_by("id")
    )
    if not base:
        return []
    ids_qs = qs.values("id")
    best: dict[int, dict[str, Any]] = {}
    dfc: set[int] = set()
    for e in Education.objects.filter(talent_id__in=ids_qs).values(
        "talent_id",
        "level",
        "graduation_year",
        "major_id",
        "major__name",
        "major__category_id",
        "major__category__name",
        "major_category_id",
        "major_category__name",
        "major_name",
        "is_double_first_class",
        "university__is_double_first_class",
        "id",
    ):
        if e["is_double_first_class"] or e["university__is_double_first_class"]:
            dfc.add(e["talent_id"])
        key = (_LEVEL_OF_EDUCATION.get(e["level"], 0), e["graduation_year"] or 0, e["id"])
        current = best.get(e["talent_id"])
        if current is None or key > current["_key"]:
            best[e["talent_id"]] = {**e, "_key": key}
    # Majors known only by name: the catalog's major of that name, else the classifier.
    free_names = {
        e["major_name"].strip()
        for e in best.values()
        if not e["major_id"] and not e["major_category_id"] and (e["major_name"] or "").strip()
    }
    by_name = {
        name: (major_id, category_id)
        for name, major_id, category_id in Major.objects.filter(name__in=free_names).values_list(
            "name", "id", "category_id"
        )
    }
    free_occupations = _free_text_occupations(free_names - set(by_name))
    per_category = category_occupations()

    profiles: dict[int, Any] = {
        p["talent_id"]: p
        for p in MatchingProfile.objects.filter(talent_id__in=ids_qs).values(
            "id", "talent_id", "expected_salary", "skills"
        )
    }
    profile_talent = {p["id"]: t for t, p in profiles.items()}
    towns: dict[int, set[int]] = defaultdict(set)
    for profile_id, town_id in MatchingProfile.preferred_towns.through.objects.filter(
        matchingprofile_id__in=list(profile_talent)
    ).values_list("matchingprofile_id", "town_id"):
        towns[profile_talent[profile_id]].add(town_id)
    divisions: dict[int, set[int]] = defaultdict(set)
    sections: dict[int, set[int]] = defaultdict(set)
    near: dict[int, set[int]] = defaultdict(set)
    for (
        profile_id,
        industry_id,
        level,
        parent_id,
    ) in MatchingProfile.preferred_industries.through.objects.filter(
        matchingprofile_id__in=list(profile_talent)
    ).values_list("matchingprofile_id", "industry_id", "industry__level", "industry__parent_id"):
        talent_id = profile_talent[profile_id]
        if level == Industry.Level.DIVISION:
            divisions[talent_id].add(industry_id)
            if parent_id:
                near[talent_id].add(parent_id)
        else:
            sections[talent_id].add(industry_id)

    skill_cache: dict[str, frozenset[str]] = {}
    out: list[TalentFacts] = []
    for row in base:
        tid = row["id"]
        edu = best.get(tid)
        major_id = category_id = None
        label = ""
        occupations: tuple[tuple[str, float], ...] = ()
        level_rank = 0
        if edu is not None:
            level_rank = _LEVEL_OF_EDUCATION.get(edu["level"], 0)
            major_id = edu["major_id"]
            category_id = edu["major_category_id"] or edu["major__category_id"]
            label = (
                edu["major__name"]
                or (edu["major_name"] or "").strip()
                or edu["major_category__name"]
                or edu["major__category__name"]
                or ""
            )
            name = (edu["major_name"] or "").strip()
            if major_id is None and category_id is None and name:
                if name in by_name:
                    major_id, category_id = by_name[name]
                else:
                    occupations = free_occupations.get(name, ())
            if category_id is not None:
                occupations = per_category.get(category_id, ())
        profile = profiles.get(tid)
        skills = ""
        if profile is not None:
            skills = profile["skills"] or ""
        if skills not in skill_cache:
            skill_cache[skills] = text.skill_tokens(skills)
        out.append(
            TalentFacts(
                talent_id=tid,
                level_rank=level_rank,
                graduation_year=row["graduation_year"],
                major_id=major_id,
                category_id=category_id,
                major_label=label,
                occupations=occupations,
                is_native=row["native_evidence"] != Talent.Evidence.NONE,
                is_double_first_class=tid in dfc,
                is_woman=row["gender"] == Talent.Gender.FEMALE,
                home_town_id=row["town_id"],
                preferred_town_ids=frozenset(towns.get(tid, ())),
                preferred_division_ids=frozenset(divisions.get(tid, ())),
                preferred_section_ids=frozenset(sections.get(tid, ())),
                near_section_ids=frozenset(near.get(tid, ())),
                expected_salary=profile["expected_salary"] if profile else None,
                skills=skill_cache[skills],
            )
        )
    return out
