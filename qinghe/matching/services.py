"""Writes of matching: occupation tags of postings and their corrections, majors' occupations
and their edits, students' preferences, recommendations both ways (full recompute and the
incremental hooks for published and closed postings), invitations, and the gap export.

Facts come from ``fetch`` (bulk), scores from ``index`` / ``scoring`` (pure); this module
only decides what to keep and writes it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import xlsxwriter
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.models import Count, Max, Min
from django.http import HttpRequest
from django.utils import timezone

from qinghe.core.audit import audit_record
from qinghe.core.errors import ApplicationError, NotFound
from qinghe.core.gcpause import gc_paused
from qinghe.core.spreadsheets import escape_cell
from qinghe.jobs.models import Posting
from qinghe.reference.models import Industry, Major, MajorCategory, Occupation, Town
from qinghe.talents.models import Consent, Talent
from qinghe.talents.services import consent_record

from . import classify, fetch, scoring
from .index import AllTop, MatchIndex
from .models import (
    Candidate,
    Invitation,
    MajorOccupation,
    MatchingProfile,
    PostingFairness,
    PostingOccupation,
    Recommendation,
    TagSource,
)
from .scoring import PostingFacts, Score, TalentFacts, Weights

DATA_DIR = Path(__file__).resolve().parent / "data"
TALENT_TOP = 20
POSTING_TOP = 50
FAIRNESS_TOP = 20
MAJOR_TOP = 20
BULK = 2000


def weights_problems(overrides: Any) -> list[str]:
    """What is wrong with a MATCHING_WEIGHTS value (empty when it can be used): it must be a
    mapping of ``Weights`` field names to finite numbers, none negative."""
    if overrides is None:
        return []
    if not isinstance(overrides, dict):
        return ['MATCHING_WEIGHTS 应为 JSON 对象，例如 {"major": 40, "salary": 5}']
    known = [f.name for f in fields(Weights)]
    problems: list[str] = []
    for key, value in overrides.items():
        if key not in known:
            problems.append(f"未知的评分项 {key!r}（可用：{'、'.join(known)}）")
        elif isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"评分项 {key} 的值应为数字，而不是 {value!r}")
        elif not math.isfinite(value) or value < 0:
            problems.append(f"评分项 {key} 的值应为不小于 0 的有限数，而不是 {value!r}")
    return problems


def weights_from_settings() -> Weights:
    """``Weights`` with the values given in settings.MATCHING_WEIGHTS (a dict of field name to
    number; from the environment variable QINGHE_MATCHING_WEIGHTS, JSON). A bad value is an
    ImproperlyConfigured error (and a failing system check at start-up), never silently
    ignored. The native boost stays capped by ``scoring.NATIVE_BOOST_CAP`` whatever is set."""
    overrides = getattr(settings, "MATCHING_WEIGHTS", None)
    problems = weights_problems(overrides)
    if problems:
        raise ImproperlyConfigured("；".join(problems))
    return replace(Weights(), **{k: float(v) for k, v in (overrides or {}).items()})


def reasons_json(result: Score) -> list[dict[str, Any]]:
    return [reason.as_dict() for reason in result.reasons]


# --- occupation tags of postings --------------------------------------------------------------


def classify_titles(titles: Sequence[str], *, k: int) -> list[list[str]]:
    """The k most likely occupation codes of each title, best first."""
    model = fetch.classifier()
    out: list[list[str]] = []
    for start in range(0, len(titles), 500):
        chunk = [(title, "") for title in titles[start : start + 500]]
        out += [[code for code, _ in ranked] for ranked in model.rank(chunk, k)]
    return out


def postings_classify(
    *, posting_ids: Iterable[int] | None = None, only_untagged: bool = False
) -> int:
    """Replaces the automatic tags of the given postings (default: all) with the classifier's
    top ``fetch.POSTING_OCCUPATIONS``; staff tags are never touched. Returns how many
    postings were tagged."""
    qs = Posting.objects.all()
    if posting_ids is not None:
        qs = qs.filter(pk__in=list(posting_ids))
    if only_untagged:
        qs = qs.exclude(occupation_tags__source=TagSource.AUTO)
    rows = list(qs.values_list("id", "title", "description").order_by("id"))
    if not rows:
        return 0
    if not Occupation.objects.filter(level=Occupation.Level.OCCUPATION).exists():
        raise ApplicationError("职业分类大典尚未载入，请先运行 load_reference")
    model = fetch.classifier()
    done = 0
    for start in range(0, len(rows), 500):
        chunk = rows[start : start + 500]
        ranked = model.rank([(title, desc) for _, title, desc in chunk], fetch.POSTING_OCCUPATIONS)
        occupations = fetch.occupations_by_code(c for r in ranked for c, _ in r)
        tags: list[PostingOccupation] = []
        for (posting_id, _t, _d), result in zip(chunk, ranked, strict=True):
            for rank, (code, share) in enumerate(classify.shares(result), start=1):
                if code in occupations:
                    tags.append(
                        PostingOccupation(
                            posting_id=posting_id,
                            occupation=occupations[code],
                            score=round(share, 4),
                            rank=rank,
                            source=TagSource.AUTO,
                        )
                    )
        with transaction.atomic():
            PostingOccupation.objects.filter(
                posting_id__in=[r[0] for r in chunk], source=TagSource.AUTO
            ).delete()
            PostingOccupation.objects.bulk_create(tags, batch_size=BULK)
        done += len(chunk)
    return done


def posting_classify(*, posting_id: int) -> list[PostingOccupation]:
    postings_classify(posting_ids=[posting_id])
    return list(
        PostingOccupation.objects.filter(posting_id=posting_id, source=TagSource.AUTO)
        .select_related("occupation")
        .order_by("rank")
    )


def _occupation_for_code(code: str) -> Occupation:
    code = (code or "").strip()
    match = re.fullmatch(r"(\d)-?(\d{2})-?(\d{2})-?(\d{2})", code)
    if match:
        code = "-".join(match.groups())
    occupation = fetch.occupations_by_code([code]).get(code)
    if occupation is None or occupation.level != Occupation.Level.OCCUPATION:
        raise ValidationError({"code": "请填写职业分类大典中的职业代码，如 2-02-10-03"})
    return occupation


@transaction.atomic
def posting_occupation_correct(
    *, actor: Any, posting: Posting, code: str, request: HttpRequest | None = None
) -> PostingOccupation:
    """A staff member says the posting is this occupation. Kept through re-classification;
    while a posting has staff tags, matching uses them instead of the automatic ones."""
    occupation = _occupation_for_code(code)
    existing = PostingOccupation.objects.filter(
        posting=posting, occupation=occupation, source=TagSource.STAFF
    ).first()
    if existing is not None:
        return existing
    rank = (
        PostingOccupation.objects.filter(posting=posting, source=TagSource.STAFF).aggregate(
            m=Max("rank")
        )["m"]
        or 0
    ) + 1
    tag = PostingOccupation.objects.create(
        posting=posting,
        occupation=occupation,
        score=1.0,
        rank=rank,
        source=TagSource.STAFF,
        corrected_by=actor,
        corrected_at=timezone.now(),
    )
    audit_record(
        action="update",
        actor=actor,
        request=request,
        target=posting,
        summary=f"校正岗位职业：{occupation.code} {occupation.name}",
    )
    _after_posting_change(posting.pk)
    return tag


@transaction.atomic
def posting_occupation_remove(
    *, actor: Any, posting: Posting, tag_id: int, request: HttpRequest | None = None
) -> None:
    tag = (
        PostingOccupation.objects.select_related("occupation")
        .filter(pk=tag_id, posting=posting, source=TagSource.STAFF)
        .first()
    )
    if tag is None:
        raise NotFound()
    tag.delete()
    audit_record(
        action="update",
        actor=actor,
        request=request,
        target=posting,
        summary=f"撤销岗位职业校正：{tag.occupation.code} {tag.occupation.name}",
    )
    _after_posting_change(posting.pk)


def _after_posting_change(posting_id: int) -> None:
    """Scores of a posting change with its occupations: refresh its recommendations after
    the transaction commits (as a task)."""
    from .tasks import refresh_posting

    transaction.on_commit(lambda: refresh_posting.enqueue(posting_id))


# --- majors to occupations --------------------------------------------------------------------


def _strip_category(name: str) -> str:
    return re.sub(r"(大类|类)$", "", name)


def _vocational_subcategories() -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    with (DATA_DIR / "vocational_subcategories_2021.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            out[row["category_code"]].append(row["name"])
    return out


def _curated_lists() -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    with (DATA_DIR / "major_occupation_curated.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            out[row["category_code"]].append(row["occupation_code"])
    return out


def rank_for_field(
    model: classify.OccupationClassifier, name: str, members: Sequence[str], k: int
) -> list[tuple[str, float]]:
    """Occupations for a field of study: its name and each member's name (majors or 专业类)
    as queries, each query's signals normalised to its best, the members together counting
    as much as the name."""
    queries = [(_strip_category(name), "")] + [(_strip_category(m), "") for m in members]

    def norm(values: np.ndarray) -> np.ndarray:
        return values / np.maximum(values.max(axis=1, keepdims=True), 1e-12)

    scores = (
        norm(model.text.scores(queries))
        + norm(model.neighbours.scores(queries))
        + 0.5 * norm(model.chars.scores(queries))
    )
    weights = np.asarray([1.0] + [1.0 / math.sqrt(len(members))] * len(members))
    total = (weights[:, np.newaxis] * scores).sum(axis=0)
    order = np.argsort(-total, kind="stable")[:k]
    return [(model.codes[i], float(total[i])) for i in order if total[i] > 0]


def major_occupations_build(
    *, category_ids: Iterable[int] | None = None, top: int = MAJOR_TOP
) -> int:
    """Derives each category's ranked occupations from the catalogs' texts, puts the shipped
    hand corrections (``data/major_occupation_curated.csv``) first, and keeps every staff
    edit: staff rows keep their rank, removed ones stay removed, automatic rows fill the
    remaining places. Returns how many categories were built."""
    if not Occupation.objects.filter(level=Occupation.Level.OCCUPATION).exists():
        raise ApplicationError("职业分类大典尚未载入，请先运行 load_reference")
    model = fetch.classifier()
    categories = MajorCategory.objects.order_by("kind", "code")
    if category_ids is not None:
        categories = categories.filter(pk__in=list(category_ids))
    majors: dict[int, list[str]] = defaultdict(list)
    for category_id, name in Major.objects.values_list("category_id", "name").order_by("code"):
        majors[category_id].append(name)
    vocational = _vocational_subcategories()
    curated = _curated_lists()
    built = 0
    for category in categories:
        members = majors.get(category.pk) or vocational.get(category.code, [])
        ranked = rank_for_field(model, category.name, members, top * 2)
        best = ranked[0][1] if ranked else 1.0
        curated_codes = curated.get(category.code, [])
        occupations = fetch.occupations_by_code([c for c, _ in ranked] + curated_codes)
        with transaction.atomic():
            existing = list(MajorOccupation.objects.filter(category=category).select_for_update())
            kept = [row for row in existing if row.source == TagSource.STAFF]
            taken = {row.occupation_id for row in kept}
            MajorOccupation.objects.filter(category=category).exclude(
                source=TagSource.STAFF
            ).delete()
            used_ranks = {row.rank for row in kept if not row.removed}
            rank_iter = (r for r in range(1, 10_000) if r not in used_ranks)
            new_rows: list[MajorOccupation] = []
            visible = len(used_ranks)
            auto_scores = dict(ranked)
            for code in curated_codes + [c for c, _ in ranked]:
                occupation = occupations.get(code)
                if occupation is None or occupation.pk in taken or visible >= top:
                    continue
                taken.add(occupation.pk)
                visible += 1
                new_rows.append(
                    MajorOccupation(
                        category=category,
                        occupation=occupation,
                        score=round(auto_scores.get(code, 0.0) / best, 4) if best else 0.0,
                        rank=next(rank_iter),
                        source=TagSource.CURATED if code in curated_codes else TagSource.AUTO,
                    )
                )
            MajorOccupation.objects.bulk_create(new_rows)
        built += 1
    return built


def _renumber(category: MajorCategory) -> None:
    rows = list(
        MajorOccupation.objects.filter(category=category, removed=False).order_by("rank", "id")
    )
    for position, row in enumerate(rows, start=1):
        if row.rank != position:
            row.rank = position
            row.save(update_fields=["rank"])


@transaction.atomic
def major_occupation_add(
    *, actor: Any, category: MajorCategory, code: str, request: HttpRequest | None = None
) -> MajorOccupation:
    occupation = _occupation_for_code(code)
    row = MajorOccupation.objects.filter(category=category, occupation=occupation).first()
    last = (
        MajorOccupation.objects.filter(category=category, removed=False).aggregate(m=Max("rank"))[
            "m"
        ]
        or 0
    )
    if row is None:
        row = MajorOccupation(category=category, occupation=occupation)
    elif not row.removed:
        raise ValidationError({"code": "该职业已在列表中"})
    row.removed = False
    row.rank = last + 1
    row.source = TagSource.STAFF
    row.corrected_by = actor
    row.corrected_at = timezone.now()
    row.save()
    audit_record(
        action="update",
        actor=actor,
        request=request,
        target=category,
        summary=f"专业类对应职业：加入 {occupation.code} {occupation.name}",
    )
    return row


@transaction.atomic
def major_occupation_remove(
    *, actor: Any, category: MajorCategory, link_id: int, request: HttpRequest | None = None
) -> None:
    row = (
        MajorOccupation.objects.select_related("occupation")
        .filter(pk=link_id, category=category, removed=False)
        .first()
    )
    if row is None:
        raise NotFound()
    row.removed = True
    row.source = TagSource.STAFF
    row.corrected_by = actor
    row.corrected_at = timezone.now()
    row.save()
    _renumber(category)
    audit_record(
        action="update",
        actor=actor,
        request=request,
        target=category,
        summary=f"专业类对应职业：移除 {row.occupation.code} {row.occupation.name}",
    )


@transaction.atomic
def major_occupation_move(
    *,
    actor: Any,
    category: MajorCategory,
    link_id: int,
    up: bool,
    request: HttpRequest | None = None,
) -> None:
    """Swaps a row with its neighbour; both become staff rows (a person placed them)."""
    _renumber(category)
    rows = list(
        MajorOccupation.objects.select_related("occupation")
        .filter(category=category, removed=False)
        .order_by("rank", "id")
    )
    position = next((i for i, r in enumerate(rows) if r.pk == link_id), None)
    if position is None:
        raise NotFound()
    other = position - 1 if up else position + 1
    if not 0 <= other < len(rows):
        return
    a, b = rows[position], rows[other]
    a.rank, b.rank = b.rank, a.rank
    now = timezone.now()
    for row in (a, b):
        row.source = TagSource.STAFF
        row.corrected_by = actor
        row.corrected_at = now
        row.save()
    audit_record(
        action="update",
        actor=actor,
        request=request,
        target=category,
        summary=f"专业类对应职业：{a.occupation.name} {'上移' if up else '下移'}",
    )


# --- students' preferences --------------------------------------------------------------------


@transaction.atomic
def matching_profile_update(
    *,
    talent: Talent,
    user: Any,
    towns: Sequence[Town],
    industries: Sequence[Industry],
    expected_salary: int | None,
    skills: str,
) -> MatchingProfile:
    if expected_salary is not None and not 0 < expected_salary <= 200_000:
        raise ValidationError({"expected_salary": "期望月薪应在 1–200000 元之间"})
    skills = (skills or "").strip()
    if len(skills) > 300:
        raise ValidationError({"skills": "技能与关键词不能超过 300 个字"})
    if len(towns) > 5 or len(industries) > 5:
        raise ValidationError({"__all__": "意向镇街、意向行业各最多选 5 个"})
    profile, _ = MatchingProfile.objects.get_or_create(talent=talent)
    profile.expected_salary = expected_salary
    profile.skills = skills
    profile.save()
    profile.preferred_towns.set(towns)
    profile.preferred_industries.set(industries)
    audit_record(action="update", actor=user, target=talent, summary="更新岗位匹配偏好")
    from .tasks import refresh_talent

    transaction.on_commit(lambda: refresh_talent.enqueue(talent.pk))
    return profile


# --- recommendations ---------------------------------------------------------------------------


@dataclass
class RecomputeResult:
    talents: int
    postings: int
    recommendations: int
    candidates: int
    seconds: float
    # Seconds by phase of a full recompute: "classify" (untagged open postings), "fetch",
    # "engine" (index and ``top_all``), "rows" (reasons, rows built) and "write" (deletes,
    # inserts, profiles' stamps, commit).
    phases: dict[str, float] = field(default_factory=dict)


# A full recompute builds and writes its rows this many talents (postings) at a time, all in
# the one transaction that replaces the stored lists: memory holds one chunk's rows with their
# reasons, never the whole result (2M + 1M rows for 100,000 talents and 20,000 postings).
RECOMPUTE_CHUNK_TALENTS = 5000  # x top 20: up to 100,000 recommendations
RECOMPUTE_CHUNK_POSTINGS = 2000  # x top 50: up to 100,000 candidates

_index_lock = threading.Lock()
_index_cache: dict[str, Any] = {}


def _postings_stamp(today: dt.date) -> tuple[Any, ...]:
    postings = fetch.open_postings(today=today).aggregate(n=Count("id"), last=Max("updated_at"))
    tags = PostingOccupation.objects.aggregate(n=Count("id"), last=Max("id"))
    return (today, postings["n"], postings["last"], tags["n"], tags["last"])


def posting_index(*, today: dt.date | None = None) -> MatchIndex:
    """Every open posting in a ``MatchIndex``, kept in the process and rebuilt only when the
    open postings or their tags change (two aggregate queries tell)."""
    today = today or timezone.localdate()
    stamp = _postings_stamp(today)
    with _index_lock:
        cached = _index_cache.get("postings")
        if cached is not None and cached[0] == stamp:
            return cached[1]
    index = MatchIndex(fetch.posting_facts(today=today), weights_from_settings())
    with _index_lock:
        _index_cache["postings"] = (stamp, index)
    return index


def _fairness_row(
    posting_id: int,
    ranked: list[tuple[TalentFacts, Score]],
    boost: float,
    pool: tuple[int, int, int],
    complete: bool,
    now: dt.datetime,
) -> PostingFairness:
    """``ranked``: the posting's stored candidates, best first (pure totals)."""
    top = ranked[:FAIRNESS_TOP]
    without = sorted(
        ranked,
        key=lambda pair: (
            -(pair[1].total - (boost if pair[0].is_native else 0.0)),
            pair[0].talent_id,
        ),
    )[:FAIRNESS_TOP]
    # The no-boost list is certain when every talent who could reach it is among the stored
    # candidates: all were stored, or the last stored is more than the cap below the n-th.
    exact = complete or len(ranked) < POSTING_TOP
    if not exact and len(ranked) >= FAIRNESS_TOP:
        exact = ranked[-1][1].total < ranked[FAIRNESS_TOP - 1][1].total - scoring.NATIVE_BOOST_CAP
    return PostingFairness(
        posting_id=posting_id,
        pool=pool[0],
        pool_natives=pool[1],
        pool_double_first_class=pool[2],
        top=len(top),
        top_natives=sum(1 for t, _ in top if t.is_native),
        top_double_first_class=sum(1 for t, _ in top if t.is_double_first_class),
        top_natives_without_boost=sum(1 for t, _ in without if t.is_native),
        top_double_first_class_without_boost=sum(1 for t, _ in without if t.is_double_first_class),
        exact=exact,
        computed_at=now,
    )


class _Phases:
    """Adds the time since the previous lap to the named phase."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.seconds[phase] = self.seconds.get(phase, 0.0) + now - self._last
        self._last = now


@dataclass
class RecomputeInput:
    """What the engine found for a full recompute, before any reason is built or row written."""

    talents: list[TalentFacts]
    postings: list[PostingFacts]
    index: MatchIndex
    top: AllTop
    weights: Weights


def recompute_engine(
    *, today: dt.date | None = None, phases: _Phases | None = None
) -> RecomputeInput:
    """Tags the open postings that have no tags yet, fetches every consenting talent and open
    posting, and runs the engine both ways (``MatchIndex.top_all``)."""
    phases = phases or _Phases()
    today = today or timezone.localdate()
    weights = weights_from_settings()
    if Occupation.objects.filter(level=Occupation.Level.OCCUPATION).exists():
        # Postings published while the hooks were not running have no tags yet.
        postings_classify(
            posting_ids=fetch.open_postings(today=today).values_list("id", flat=True),
            only_untagged=True,
        )
    phases.lap("classify")
    postings = fetch.posting_facts(today=today)
    talents = fetch.talent_facts()
    phases.lap("fetch")
    index = MatchIndex(postings, weights)
    batch = index.encode(talents)
    native = np.asarray([t.is_native for t in talents], dtype=bool)
    dfc = np.asarray([t.is_double_first_class for t in talents], dtype=bool)
    top = index.top_all(
        batch,
        k=TALENT_TOP,
        posting_k=POSTING_TOP,
        pool_groups={"native": native, "dfc": dfc},
    )
    phases.lap("engine")
    return RecomputeInput(talents, postings, index, top, weights)


def recommendations_recompute_all(*, today: dt.date | None = None) -> RecomputeResult:
    """Every consenting talent's top 20 open postings and every open posting's top 50
    consenting talents, with reasons, and the fairness figures; replaces what was stored.

    The rows are built and written ``RECOMPUTE_CHUNK_TALENTS`` talents (then
    ``RECOMPUTE_CHUNK_POSTINGS`` postings) at a time inside one transaction: readers see the
    previous lists until the new ones are complete, a failure part-way leaves them as they
    were, and memory holds one chunk's rows rather than all of them."""
    started = time.perf_counter()
    phases = _Phases()
    now = timezone.now()
    computed = recompute_engine(today=today, phases=phases)
    talents = computed.talents
    slots = [slot for slot, facts in enumerate(computed.index.facts) if facts is not None]
    recommendations = candidates = 0
    with transaction.atomic():
        Recommendation.objects.all().delete()
        Candidate.objects.all().delete()
        PostingFairness.objects.all().delete()
        phases.lap("write")
        for start in range(0, len(talents), RECOMPUTE_CHUNK_TALENTS):
            rows = range(start, min(start + RECOMPUTE_CHUNK_TALENTS, len(talents)))
            with gc_paused():
                chunk = _recommendation_rows(computed, rows, now)
                phases.lap("rows")
                _insert_rows(Recommendation, RECOMMENDATION_COLUMNS, chunk)
                recommendations += len(chunk)
                del chunk
            talent_ids = [talents[row].talent_id for row in rows]
            MatchingProfile.objects.filter(talent_id__in=talent_ids).update(recommended_at=now)
            _ensure_profiles(talent_ids, now)
            phases.lap("write")
        for start in range(0, len(slots), RECOMPUTE_CHUNK_POSTINGS):
            with gc_paused():
                chunk, fairness = _candidate_rows(
                    computed, slots[start : start + RECOMPUTE_CHUNK_POSTINGS], now
                )
                phases.lap("rows")
                _insert_rows(Candidate, CANDIDATE_COLUMNS, chunk)
                PostingFairness.objects.bulk_create(fairness, batch_size=BULK)
                candidates += len(chunk)
                del chunk, fairness
            phases.lap("write")
    phases.lap("write")  # the commit
    return RecomputeResult(
        talents=len(talents),
        postings=len(computed.postings),
        recommendations=recommendations,
        candidates=candidates,
        seconds=time.perf_counter() - started,
        phases=phases.seconds,
    )


# Rows of a full recompute are plain tuples in these columns (attribute names).
RECOMMENDATION_COLUMNS = ("talent_id", "posting_id", "score", "reasons", "computed_at")
CANDIDATE_COLUMNS = ("posting_id", "talent_id", "score", "reasons", "computed_at")


def _recommendation_rows(
    computed: RecomputeInput, rows: Iterable[int], now: dt.datetime
) -> list[tuple[Any, ...]]:
    """The talents' (batch rows') top 20 with reasons, each talent's best first."""
    out: list[tuple[Any, ...]] = []
    for row in rows:
        talent = computed.talents[row]
        for posting, _ in computed.index.talent_top(computed.top, row):
            scored = scoring.score(talent, posting, computed.weights)
            if scored is not None:
                out.append(
                    (
                        talent.talent_id,
                        posting.posting_id,
                        round(scored.total, 3),
                        reasons_json(scored),
                        now,
                    )
                )
    return out


def _candidate_rows(
    computed: RecomputeInput, slots: Sequence[int], now: dt.datetime
) -> tuple[list[tuple[Any, ...]], list[PostingFairness]]:
    """The postings' (index slots') top 50 with reasons, best first, and their fairness rows."""
    talents, top, weights = computed.talents, computed.top, computed.weights
    out: list[tuple[Any, ...]] = []
    fairness: list[PostingFairness] = []
    for slot in slots:
        facts = computed.index.facts[slot]
        assert facts is not None
        ranked: list[tuple[TalentFacts, Score]] = []
        for row in top.posting_talents[:, slot]:
            if row < 0:
                continue
            scored = scoring.score(talents[row], facts, weights)
            if scored is not None:
                ranked.append((talents[row], scored))
        ranked.sort(key=lambda pair: (-pair[1].total, pair[0].talent_id))
        for talent, scored in ranked:
            out.append(
                (
                    facts.posting_id,
                    talent.talent_id,
                    round(scored.total, 3),
                    reasons_json(scored),
                    now,
                )
            )
        pool = (
            int(top.pool["all"][slot]),
            int(top.pool["native"][slot]),
            int(top.pool["dfc"][slot]),
        )
        fairness.append(
            _fairness_row(
                facts.posting_id,
                ranked,
                weights.boost_for(natives_first=facts.natives_first),
                pool,
                complete=False,
                now=now,
            )
        )
    return out, fairness


def _insert_rows(
    model: type[models.Model], columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """INSERT of plain tuples in ``columns`` order (attribute names), JSON and date-time values
    prepared by their fields as the ORM prepares them: COPY on PostgreSQL, one
    ``executemany`` elsewhere. Skips model instances and per-value SQL compiling, which
    is most of what ``bulk_create`` spends here."""
    conn = connections[DEFAULT_DB_ALIAS]  # the connection itself, not the thread-local proxy
    targets = [model._meta.get_field(column) for column in columns]
    prepared = [
        (i, f)
        for i, f in enumerate(targets)
        if isinstance(f, models.JSONField | models.DateTimeField)
    ]
    done: dict[int, Any] = {}  # by id: the run's one time stamp is prepared once

    def values() -> Iterator[list[Any]]:
        for row in rows:
            out = list(row)
            for i, f in prepared:
                value = out[i]
                if isinstance(f, models.JSONField):
                    out[i] = f.get_db_prep_save(value, conn)
                else:
                    key = id(value)
                    if key not in done:
                        done[key] = f.get_db_prep_save(value, conn)
                    out[i] = done[key]
            yield out

    qn = conn.ops.quote_name
    table = qn(model._meta.db_table)
    names = ", ".join(qn(str(f.column)) for f in targets)  # type: ignore[union-attr]
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for out in values():
                    copy.write_row(out)
        else:
            placeholders = ", ".join(["%s"] * len(targets))
            sql = f"INSERT INTO {table} ({names}) VALUES ({placeholders})"
            cursor.executemany(sql, values())  # type: ignore[arg-type]  # any iterable will do


def _ensure_profiles(talent_ids: Sequence[int], now: dt.datetime) -> None:
    have = set(
        MatchingProfile.objects.filter(talent_id__in=talent_ids).values_list("talent_id", flat=True)
    )
    MatchingProfile.objects.bulk_create(
        [MatchingProfile(talent_id=t, recommended_at=now) for t in talent_ids if t not in have],
        batch_size=BULK,
    )


def recommendations_refresh_talent(*, talent_id: int, today: dt.date | None = None) -> int:
    """One talent's recommendations, from the postings open now (after a change of
    preferences or consent, or a first visit). A talent without consent to matching has
    none, and is taken off every posting's candidates. Returns how many are stored."""
    today = today or timezone.localdate()
    now = timezone.now()
    facts = fetch.talent_facts(talent_ids=[talent_id])
    if not facts:
        with transaction.atomic():
            Recommendation.objects.filter(talent_id=talent_id).delete()
            Candidate.objects.filter(talent_id=talent_id).delete()
        return 0
    talent = facts[0]
    index = posting_index(today=today)
    ranked = index.recommend(talent, TALENT_TOP)
    scores = index.scores_for_talent(talent)
    with transaction.atomic():
        Recommendation.objects.filter(talent_id=talent_id).delete()
        Recommendation.objects.bulk_create(
            [
                Recommendation(
                    talent_id=talent_id,
                    posting_id=posting.posting_id,
                    score=round(result.total, 3),
                    reasons=reasons_json(result),
                    computed_at=now,
                )
                for posting, result in ranked
            ]
        )
        _offer_as_candidate(index, talent, scores, now)
        profile, _ = MatchingProfile.objects.get_or_create(talent_id=talent_id)
        profile.recommended_at = now
        profile.save(update_fields=["recommended_at"])
    return len(ranked)


def _offer_as_candidate(
    index: MatchIndex, talent: TalentFacts, scores: np.ndarray, now: dt.datetime
) -> None:
    """Puts the talent among the candidates of every posting where they now rank in the top
    50 (and drops whoever falls out); removes them where they no longer qualify."""
    Candidate.objects.filter(talent_id=talent.talent_id).delete()
    floor = index.weights.min_total
    slots = np.flatnonzero(scores >= floor)
    if not slots.size:
        return
    posting_ids = [index.facts[s].posting_id for s in slots]  # type: ignore[union-attr]
    stats = {
        row["posting_id"]: (row["n"], row["low"])
        for row in Candidate.objects.filter(posting_id__in=posting_ids)
        .values("posting_id")
        .annotate(n=Count("id"), low=Min("score"))
    }
    added: list[int] = []
    for slot, posting_id in zip(slots, posting_ids, strict=True):
        n, low = stats.get(posting_id, (0, None))
        if n >= POSTING_TOP and low is not None and scores[slot] <= low:
            continue
        posting = index.facts[slot]
        scored = scoring.score(talent, posting, index.weights)  # type: ignore[arg-type]
        if scored is None:
            continue
        Candidate.objects.create(
            posting_id=posting_id,
            talent_id=talent.talent_id,
            score=round(scored.total, 3),
            reasons=reasons_json(scored),
            computed_at=now,
        )
        if n >= POSTING_TOP:
            added.append(posting_id)
    for posting_id in added:
        _trim(Candidate.objects.filter(posting_id=posting_id), POSTING_TOP)


def _trim(qs: Any, keep: int) -> None:
    extra = list(qs.order_by("-score", "id").values_list("id", flat=True)[keep:])
    if extra:
        qs.model.objects.filter(pk__in=extra).delete()


def recommendations_on_posting_published(posting_id: int) -> int:
    """A posting was published (or changed while published): tag it, score it against every
    consenting talent, store its top 50 candidates and fairness figures, and put it into
    the lists of talents it now makes the top 20 of (dropping their 21st). No full rebuild.
    Returns how many talents' lists changed. A posting that is not open is treated as
    closed."""
    today = timezone.localdate()
    postings = fetch.posting_facts(posting_ids=[posting_id], today=today)
    if not postings:
        return recommendations_on_posting_closed(posting_id)
    if Occupation.objects.filter(level=Occupation.Level.OCCUPATION).exists():
        postings_classify(posting_ids=[posting_id])
        postings = fetch.posting_facts(posting_ids=[posting_id], today=today)
    posting = postings[0]
    now = timezone.now()
    weights = weights_from_settings()
    talents = fetch.talent_facts()
    index = MatchIndex([posting], weights)
    batch = index.encode(talents)
    scores = index.scores_for_posting(batch, posting_id)
    qualified = np.isfinite(scores)
    order = np.argsort(-scores, kind="stable")
    ranked: list[tuple[TalentFacts, Score]] = []
    for row in order[: POSTING_TOP * 2]:
        if scores[row] < weights.min_total:
            break
        scored = scoring.score(talents[row], posting, weights)
        if scored is not None:
            ranked.append((talents[row], scored))
    ranked.sort(key=lambda pair: (-pair[1].total, pair[0].talent_id))
    ranked = ranked[:POSTING_TOP]
    pool = (
        int(qualified.sum()),
        int(sum(1 for i in np.flatnonzero(qualified) if talents[i].is_native)),
        int(sum(1 for i in np.flatnonzero(qualified) if talents[i].is_double_first_class)),
    )
    fairness = _fairness_row(
        posting_id,
        ranked,
        weights.boost_for(natives_first=posting.natives_first),
        pool,
        complete=int((scores >= weights.min_total).sum()) <= POSTING_TOP,
        now=now,
    )
    # The talent side: whoever this posting now makes the top 20 of.
    eligible = np.flatnonzero(scores >= weights.min_total)
    ids = [talents[i].talent_id for i in eligible]
    stats = {
        row["talent_id"]: (row["n"], row["low"])
        for row in Recommendation.objects.filter(talent_id__in=ids)
        .exclude(posting_id=posting_id)
        .values("talent_id")
        .annotate(n=Count("id"), low=Min("score"))
    }
    new_recs: list[Recommendation] = []
    full: list[int] = []
    for i in eligible:
        talent = talents[i]
        n, low = stats.get(talent.talent_id, (0, None))
        if n >= TALENT_TOP and low is not None and scores[i] <= low:
            continue
        scored = scoring.score(talent, posting, weights)
        if scored is None:
            continue
        new_recs.append(
            Recommendation(
                talent_id=talent.talent_id,
                posting_id=posting_id,
                score=round(scored.total, 3),
                reasons=reasons_json(scored),
                computed_at=now,
            )
        )
        if n >= TALENT_TOP:
            full.append(talent.talent_id)
    with transaction.atomic():
        Recommendation.objects.filter(posting_id=posting_id).delete()
        Candidate.objects.filter(posting_id=posting_id).delete()
        PostingFairness.objects.filter(posting_id=posting_id).delete()
        Recommendation.objects.bulk_create(new_recs, batch_size=BULK)
        Candidate.objects.bulk_create(
            [
                Candidate(
                    posting_id=posting_id,
                    talent_id=talent.talent_id,
                    score=round(scored.total, 3),
                    reasons=reasons_json(scored),
                    computed_at=now,
                )
                for talent, scored in ranked
            ]
        )
        fairness.save()
        for talent_id in full:
            _trim(Recommendation.objects.filter(talent_id=talent_id), TALENT_TOP)
    return len(new_recs)


def recommendations_on_posting_closed(posting_id: int) -> int:
    """A posting closed (or expired, or was withdrawn): it leaves every list, and the talents
    who had it get their lists refilled from the postings still open. No full rebuild.
    Returns how many talents' lists were refilled."""
    affected = list(
        Recommendation.objects.filter(posting_id=posting_id)
        .values_list("talent_id", flat=True)
        .distinct()
    )
    with transaction.atomic():
        Recommendation.objects.filter(posting_id=posting_id).delete()
        Candidate.objects.filter(posting_id=posting_id).delete()
        PostingFairness.objects.filter(posting_id=posting_id).delete()
    if not affected:
        return 0
    index = posting_index()
    index.remove_posting(posting_id)
    now = timezone.now()
    facts = fetch.talent_facts(talent_ids=affected)
    rows: list[Recommendation] = []
    for talent in facts:
        for posting, result in index.recommend(talent, TALENT_TOP):
            rows.append(
                Recommendation(
                    talent_id=talent.talent_id,
                    posting_id=posting.posting_id,
                    score=round(result.total, 3),
                    reasons=reasons_json(result),
                    computed_at=now,
                )
            )
    with transaction.atomic():
        Recommendation.objects.filter(talent_id__in=affected).delete()
        Recommendation.objects.bulk_create(rows, batch_size=BULK)
    return len(facts)


def posting_refresh(posting_id: int) -> int:
    """The right hook for a posting's current state."""
    if fetch.open_postings().filter(pk=posting_id).exists():
        return recommendations_on_posting_published(posting_id)
    return recommendations_on_posting_closed(posting_id)


# --- invitations -------------------------------------------------------------------------------


@transaction.atomic
def invitation_send(
    *,
    actor: Any,
    posting: Posting,
    talent_id: int,
    message: str = "",
    request: HttpRequest | None = None,
) -> Invitation:
    """An enterprise invites one of its posting's recommended talents to apply. Only a talent
    recommended for this posting, still consenting to matching, can be invited (anyone else
    is NotFound, like a missing one)."""
    from .selectors import candidate_talent_ids

    if talent_id not in candidate_talent_ids(posting=posting):
        raise NotFound()
    if not fetch.open_postings().filter(pk=posting.pk).exists():
        raise ApplicationError("岗位已关闭，不能再邀请")
    message = (message or "").strip()
    if len(message) > 300:
        raise ValidationError({"message": "邀请留言不能超过 300 个字"})
    invitation, created = Invitation.objects.get_or_create(
        posting=posting,
        talent_id=talent_id,
        defaults={"enterprise": posting.enterprise, "invited_by": actor, "message": message},
    )
    if not created:
        raise ApplicationError("已向该人才发出过邀请")
    audit_record(
        action="create",
        actor=actor,
        request=request,
        target=invitation,
        summary=f"邀请推荐人才投递：{posting.title}",
    )
    return invitation


@transaction.atomic
def invitation_respond(
    *,
    user: Any,
    talent: Talent,
    invitation_id: int,
    accept: bool,
    request: HttpRequest | None = None,
) -> Invitation:
    """The student accepts (sharing their information with the enterprise, recorded as a
    consent for that enterprise) or declines an invitation of their own."""
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("enterprise", "posting")
        .filter(pk=invitation_id, talent=talent)
        .first()
    )
    if invitation is None:
        raise NotFound()
    if invitation.state != Invitation.State.PENDING:
        raise ApplicationError("该邀请已回复")
    if accept:
        invitation.consent = consent_record(
            talent=talent,
            purpose=Consent.Purpose.SHARE_ENTERPRISE,
            granted=True,
            actor=user,
            enterprise=invitation.enterprise.organisation,
        )
        invitation.state = Invitation.State.ACCEPTED
    else:
        invitation.state = Invitation.State.DECLINED
    invitation.decided_at = timezone.now()
    invitation.save()
    audit_record(
        action="update",
        actor=user,
        request=request,
        target=invitation,
        summary=f"{'接受' if accept else '婉拒'}企业投递邀请：{invitation.posting.title}",
    )
    return invitation


# --- the skills-gap export -----------------------------------------------------------------------

GAP_COLUMNS = [
    "排名",
    "代码",
    "名称",
    "在招岗位数",
    "招聘人数",
    "未来三年毕业的鹤山籍学子",
    "供需比（学子/招聘人数）",
    "紧缺指数",
]


def gap_export(*, viewer: Any, report: Any, request: HttpRequest | None = None) -> bytes:
    """The shortage lists (by major category and by occupation group) as .xlsx, cells that
    start like a formula escaped; the export is audited."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    count = 0
    for title, rows in (("按专业类", report.categories), ("按职业小类", report.groups)):
        sheet = workbook.add_worksheet(title)
        for col, name in enumerate(GAP_COLUMNS):
            sheet.write_string(0, col, name)
        for r, row in enumerate(rows, start=1):
            values: list[Any] = [
                r,
                row.code,
                row.name,
                round(row.postings, 2),
                round(row.headcount, 2),
                round(row.supply, 2),
                "" if row.ratio is None else round(row.ratio, 2),
                round(row.shortage, 2),
            ]
            for col, value in enumerate(values):
                if isinstance(value, int | float):
                    sheet.write_number(r, col, value)
                else:
                    sheet.write_string(r, col, str(escape_cell(value)))
            count += 1
    notes = workbook.add_worksheet("说明")
    for r, line in enumerate(report.notes):
        notes.write_string(r, 0, str(escape_cell(line)))
    workbook.close()
    audit_record(
        action="export",
        actor=viewer,
        request=request,
        target_type="matching.gap",
        summary=f"导出急需紧缺人才需求分析 {count} 行",
        count=count,
        data={"years": list(report.years)},
    )
    return buffer.getvalue()
