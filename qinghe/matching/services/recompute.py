"""Recommendations both ways: the full recompute (chunked, one transaction), and the
incremental hooks for one talent and for a published or closed posting; the fairness
figures of each posting."""

from __future__ import annotations

import datetime as dt
import queue
import threading
import time
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
from django.db import connection, transaction
from django.db.models import Count, F, Max, Min, Q, Sum
from django.db.models.functions import Length
from django.utils import timezone

from qinghe.core import dblocks, fragments
from qinghe.core.bulk import copy_text_tuples, insert_tuples, tables_replaced
from qinghe.core.gcpause import gc_paused
from qinghe.reference.models import Occupation

from .. import fairness as fair
from .. import fetch, scoring
from ..index import AllTop, MatchIndex
from ..models import (
    Candidate,
    MatchingProfile,
    PostingFairness,
    PostingOccupation,
    Recommendation,
)
from ..scoring import PostingFacts, Score, TalentFacts, Weights
from ..scoring_rows import PreparedPosting, RowScorer
from .tags import BULK, postings_classify
from .weights import weights_from_settings

TALENT_TOP = 20
POSTING_TOP = 50
FAIRNESS_TOP = 20


def reasons_json(result: Score) -> list[dict[str, Any]]:
    return [reason.as_dict() for reason in result.reasons]


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


# The cached index is brought up to date in place (the postings that changed added, replaced
# or switched off) when at most this many changed, and built again when it is older than
# ``INDEX_CACHE_SECONDS`` or of another day (what the signature does not see, such as an
# enterprise's industry changing, lasts at most that long).
INDEX_PATCH_MAX = 500
INDEX_CACHE_SECONDS = 300.0


def _postings_signature(today: dt.date) -> dict[int, tuple[Any, ...]]:
    """Per open posting: its update time and its tags' count and ids (one grouped query)."""
    return {
        row[0]: row[1:]
        for row in fetch.open_postings(today=today)
        .annotate(tags=Count("occupation_tags"), tag_ids=Sum("occupation_tags__id"))
        .values_list("id", "updated_at", "tags", "tag_ids")
    }


def posting_index(*, today: dt.date | None = None) -> MatchIndex:
    """Every open posting in a ``MatchIndex``, kept in the process: returned as it is while
    the open postings and their tags have not changed (two aggregate queries tell), brought
    up to date in place when a few postings changed (their update times and tags, compared
    posting by posting), else built again."""
    today = today or timezone.localdate()
    stamp = _postings_stamp(today)
    with _index_lock:
        cached = _index_cache.get("postings")
        if cached is not None and cached[0] == stamp:
            return cached[1]
    signature = _postings_signature(today)
    weights = weights_from_settings()
    with _index_lock:
        cached = _index_cache.get("postings")
        if (
            cached is not None
            and cached[0][0] == today
            and time.monotonic() - cached[3] < INDEX_CACHE_SECONDS
            and cached[1].weights == weights
        ):
            index: MatchIndex = cached[1]
            before = cached[2]
            changed = {
                p for p in signature.keys() | before.keys() if signature.get(p) != before.get(p)
            }
            if len(changed) <= INDEX_PATCH_MAX:
                for posting_id in changed - signature.keys():
                    index.remove_posting(posting_id)
                for posting in fetch.posting_facts(
                    posting_ids=changed & signature.keys(), today=today
                ):
                    index.add_posting(posting)
                _index_cache["postings"] = (stamp, index, signature, cached[3])
                return index
    index = MatchIndex(fetch.posting_facts(today=today), weights)
    with _index_lock:
        _index_cache["postings"] = (stamp, index, signature, time.monotonic())
    return index


def _fairness_row(
    posting_id: int,
    ranked: list[tuple[TalentFacts, Score]],
    boost: float,
    pool: dict[str, int],
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
        pool=pool["all"],
        pool_natives=pool["native"],
        pool_double_first_class=pool["dfc"],
        top=len(top),
        top_natives=sum(1 for t, _ in top if t.is_native),
        top_double_first_class=sum(1 for t, _ in top if t.is_double_first_class),
        top_natives_without_boost=sum(1 for t, _ in without if t.is_native),
        top_double_first_class_without_boost=sum(1 for t, _ in without if t.is_double_first_class),
        exact=exact,
        groups=fair.group_figures(ranked, pool),
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
    computed = engine_from_facts(talents, postings, weights)
    phases.lap("engine")
    return computed


def engine_from_facts(
    talents: list[TalentFacts], postings: list[PostingFacts], weights: Weights
) -> RecomputeInput:
    """The engine both ways over facts in memory (no database)."""
    index = MatchIndex(postings, weights)
    batch = index.encode(talents)
    top = index.top_all(
        batch,
        k=TALENT_TOP,
        posting_k=POSTING_TOP,
        pool_groups={
            name: np.asarray([member(t) for t in talents], dtype=bool)
            for name, (_label, member) in fair.GROUPS.items()
        },
    )
    return RecomputeInput(talents, postings, index, top, weights)


def recommendations_recompute_all(*, today: dt.date | None = None) -> RecomputeResult:
    """See ``_recompute_all``. Holds ``dblocks.MATCHING_LISTS`` from its first read to its
    commit: a posting event's run (``postings_refresh``, the task worker) waits for it and
    then works on the new lists, rather than writing into tables this replaces or being
    undone by lists computed from facts read before the event."""
    with dblocks.held(dblocks.MATCHING_LISTS):
        result = _recompute_all(today=today)
    fragments.bump(fragments.RECOMMENDATIONS)  # every student's 为你推荐 (core/fragments.py)
    return result


def _recompute_all(*, today: dt.date | None = None) -> RecomputeResult:
    """Every consenting talent's top 20 open postings and every open posting's top 50
    consenting talents, with reasons, and the fairness figures; replaces what was stored.

    The rows are built ``RECOMPUTE_CHUNK_TALENTS`` talents (then ``RECOMPUTE_CHUNK_POSTINGS``
    postings) at a time by a thread of their own (``_built_ahead``: pure Python and numpy, no
    database), one chunk ahead of this thread, which writes each chunk inside one transaction
    while the next is built (the database server works on one chunk while Python builds the
    next). The recommendations and candidates go into new tables swapped in at the commit
    (``core.bulk.tables_replaced``): readers see the previous lists until the new ones are
    complete, a failure part-way leaves them as they were, and memory holds a few chunks'
    rows rather than all of them."""
    started = time.perf_counter()
    phases = _Phases()
    now = timezone.now()
    computed = recompute_engine(today=today, phases=phases)
    talents = computed.talents
    slots = [slot for slot, facts in enumerate(computed.index.facts) if facts is not None]
    rows_of = RecomputeRows(computed)

    def chunks() -> Iterator[tuple[str, range | list[int], Any]]:
        for start in range(0, len(talents), RECOMPUTE_CHUNK_TALENTS):
            rows = range(start, min(start + RECOMPUTE_CHUNK_TALENTS, len(talents)))
            yield "recommendations", rows, rows_of.recommendations(rows, now)
        for start in range(0, len(slots), RECOMPUTE_CHUNK_POSTINGS):
            part = slots[start : start + RECOMPUTE_CHUNK_POSTINGS]
            yield "candidates", part, rows_of.candidates(part, now)

    recommendations = candidates = 0
    with (
        gc_paused(),
        transaction.atomic(),
        tables_replaced(Recommendation, Candidate),
    ):
        PostingFairness.objects.all().delete()
        phases.lap("write")
        # "rows": this thread waiting for the builder; "write": this thread writing.
        for kind, part, built in _built_ahead(chunks()):
            phases.lap("rows")
            if kind == "recommendations":
                insert_rows(Recommendation, RECOMMENDATION_COLUMNS, built)
                recommendations += len(built)
                talent_ids = [talents[row].talent_id for row in part]
                MatchingProfile.objects.filter(talent_id__in=talent_ids).update(recommended_at=now)
                _ensure_profiles(talent_ids, now)
            else:
                chunk, fairness = built
                insert_rows(Candidate, CANDIDATE_COLUMNS, chunk)
                PostingFairness.objects.bulk_create(fairness, batch_size=BULK)
                candidates += len(chunk)
            del built
            phases.lap("write")
    phases.lap("write")  # the indexes, the swap, the commit
    return RecomputeResult(
        talents=len(talents),
        postings=len(computed.postings),
        recommendations=recommendations,
        candidates=candidates,
        seconds=time.perf_counter() - started,
        phases=phases.seconds,
    )


_T = TypeVar("_T")


def _built_ahead(items: Iterator[_T], depth: int = 1) -> Generator[_T, None, None]:
    """``items`` iterated by a thread of its own, at most ``depth`` items ahead of the
    caller (and one being built): the work of producing them overlaps the caller's with
    each. Its exceptions are raised here; a caller that stops early stops it."""
    handoff: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def put(entry: tuple[bool, Any]) -> bool:
        while not stop.is_set():
            try:
                handoff.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for item in items:
                if not put((True, item)):
                    return
            put((True, end))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            put((False, exc))

    thread = threading.Thread(target=run, name="recompute-rows", daemon=True)
    thread.start()
    try:
        while True:
            ok, item = handoff.get()
            if not ok:
                raise item
            if item is end:
                return
            yield item
            del item
    finally:
        stop.set()
        thread.join()


# Rows of a full recompute are plain tuples in these columns (attribute names); ``reasons``
# is JSON text (``scoring_rows``), written as it is.
RECOMMENDATION_COLUMNS = ("talent_id", "posting_id", "score", "reasons", "computed_at")
CANDIDATE_COLUMNS = ("posting_id", "talent_id", "score", "reasons", "computed_at")


def insert_rows(model: Any, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    """A chunk of rows whose reasons are JSON text: COPY text built in Python on PostgreSQL
    (``copy_text_tuples``), executemany elsewhere."""
    if connection.vendor == "postgresql":
        copy_text_tuples(model, columns, rows)
    else:
        insert_tuples(model, columns, rows, json_text=("reasons",))


class RecomputeRows:
    """The rows of a full recompute, from the engine's result: the same totals and reasons
    as ``scoring.score`` of each pair (``scoring_rows.RowScorer``), built from cached parts,
    the reasons as JSON text."""

    def __init__(self, computed: RecomputeInput) -> None:
        self.computed = computed
        self.scorer = RowScorer(computed.weights)
        self.prepared: list[PreparedPosting | None] = [
            self.scorer.posting(facts) if facts is not None else None
            for facts in computed.index.facts
        ]
        talents = computed.talents
        self.talent_ids = np.fromiter(
            (t.talent_id for t in talents), dtype=np.int64, count=len(talents)
        )
        self.members: dict[str, np.ndarray] = {
            name: np.fromiter((bool(member(t)) for t in talents), dtype=bool, count=len(talents))
            for name, (_label, member) in fair.GROUPS.items()
        }

    def recommendations(self, rows: Iterable[int], now: dt.datetime) -> list[tuple[Any, ...]]:
        """The talents' (batch rows') top 20 with reasons, each talent's best first (the
        engine's order, as ``MatchIndex.talent_top`` gives it)."""
        computed, prepared, scorer = self.computed, self.prepared, self.scorer
        top, talents = computed.top, computed.talents
        rows = list(rows)
        # The slots of each talent's list, -1 where there is none (no slot, -inf).
        slots = top.talent_slots[rows]
        slots = np.where((slots >= 0) & np.isfinite(top.talent_scores[rows]), slots, -1)
        out: list[tuple[Any, ...]] = []
        stored = (out, now)
        for row, talent_slots in zip(rows, slots.tolist(), strict=True):
            postings = [
                p for slot in talent_slots if slot >= 0 and (p := prepared[slot]) is not None
            ]
            scorer.rows(talents[row], postings, stored=stored)
        return out

    def candidates(
        self, slots: Sequence[int], now: dt.datetime
    ) -> tuple[list[tuple[Any, ...]], list[PostingFairness]]:
        """The postings' (index slots') top 50 with reasons, best first, and their fairness
        rows (``_fairness_row`` of each, computed for the chunk at once in arrays:
        ``_fairness_rows``)."""
        computed, scorer, prepared = self.computed, self.scorer, self.prepared
        talents, top = computed.talents, computed.top
        slots = list(slots)
        # The chunk's pairs talent by talent (one ``rows`` call per talent), then back to
        # each posting's column order.
        columns = top.posting_talents[:, slots]
        k, n = columns.shape
        flat = columns.T.ravel()  # posting by posting, rank by rank
        valid = np.flatnonzero(flat >= 0)
        by_talent = valid[np.argsort(flat[valid], kind="stable")]
        results: list[Any] = [None] * len(flat)
        talent_rows = flat[by_talent]
        bounds = np.flatnonzero(np.diff(talent_rows)) + 1
        for group in np.split(by_talent, bounds) if by_talent.size else []:
            positions = group.tolist()
            talent = talents[int(flat[positions[0]])]
            computed_rows = scorer.rows(
                talent,
                [prepared[slots[i // k]] for i in positions],  # type: ignore[misc]
                with_parts=True,
            )
            for i, result in zip(positions, computed_rows, strict=True):
                results[i] = result
        found = [i for i, result in enumerate(results) if result is not None]
        total = np.zeros(len(flat))
        total[found] = [results[i][2] for i in found]
        width = len(fair.COMPONENTS)
        points = np.zeros(len(flat) * width)
        points[[i * width + q[3] for i in found for q in results[i][3]]] = [
            q[0] for i in found for q in results[i][3]
        ]
        # Each posting's candidates by (-total, talent id), those not scored last.
        is_found = np.zeros(len(flat), dtype=bool)
        is_found[found] = True
        row_of = np.maximum(flat, 0)
        ids = self.talent_ids[row_of]
        order = np.lexsort(
            (ids.reshape(n, k), np.where(is_found, -total, np.inf).reshape(n, k)), axis=1
        )
        ranked = order + (np.arange(n) * k)[:, None]
        counts = is_found.reshape(n, k).sum(axis=1)
        ids_of = ids.tolist()
        out: list[tuple[Any, ...]] = []
        for j, (positions, count) in enumerate(zip(ranked.tolist(), counts.tolist(), strict=True)):
            posting_id = prepared[slots[j]].posting_id  # type: ignore[union-attr]
            for i in positions[:count]:
                result = results[i]
                out.append((posting_id, ids_of[i], result[0], result[1], now))
        fairness = self._fairness_rows(
            slots,
            total[ranked],
            counts,
            ids[ranked],
            row_of[ranked],
            points.reshape(len(flat), width)[ranked],
            now,
        )
        return out, fairness

    def _fairness_rows(
        self,
        slots: list[int],
        totals: np.ndarray,
        counts: np.ndarray,
        talent_ids: np.ndarray,
        rows: np.ndarray,
        points: np.ndarray,
        now: dt.datetime,
    ) -> list[PostingFairness]:
        """``_fairness_row`` of each posting of a chunk (``complete=False``), in arrays:
        posting ``j``'s candidates, best first, are the first ``counts[j]`` entries of row
        ``j`` (totals, talent ids, batch rows, ``fairness.COMPONENTS`` points)."""
        computed, prepared = self.computed, self.prepared
        weights, pool_counts = computed.weights, computed.top.pool
        n, k = totals.shape
        rank = np.arange(k)[None, :]
        ok = rank < counts[:, None]
        top = rank < np.minimum(counts, FAIRNESS_TOP)[:, None]
        natives = self.members["native"][rows] & ok
        dfc = self.members["dfc"][rows] & ok
        facts = [prepared[slot].facts for slot in slots]  # type: ignore[union-attr]
        boost = np.array([weights.boost_for(natives_first=f.natives_first) for f in facts])
        # Re-ranked without the boost: total - (boost if native else 0.0).
        key = np.where(natives, totals - boost[:, None], totals)
        order = np.lexsort((talent_ids, np.where(ok, -key, np.inf)), axis=1)
        without = np.zeros((n, k), dtype=bool)
        np.put_along_axis(without, order, top, axis=1)
        pools = [{name: int(c[slot]) for name, c in pool_counts.items()} for slot in slots]
        groups = fair.group_figures_many(
            totals,
            counts,
            talent_ids,
            points,
            {name: self.members[name][rows] for name in fair.GROUPS},
            pools,
        )
        totals_of = totals.tolist()
        out: list[PostingFairness] = []
        for j, (count, n_top, top_natives, top_dfc, natives_without, dfc_without) in enumerate(
            zip(
                counts.tolist(),
                top.sum(axis=1).tolist(),
                (top & natives).sum(axis=1).tolist(),
                (top & dfc).sum(axis=1).tolist(),
                (without & natives).sum(axis=1).tolist(),
                (without & dfc).sum(axis=1).tolist(),
                strict=True,
            )
        ):
            # As ``_fairness_row``: certain when all were stored or the last stored is more
            # than the cap below the n-th.
            exact = count < POSTING_TOP
            if not exact and count >= FAIRNESS_TOP:
                exact = (
                    totals_of[j][count - 1]
                    < totals_of[j][FAIRNESS_TOP - 1] - scoring.NATIVE_BOOST_CAP
                )
            pool = pools[j]
            out.append(
                PostingFairness(
                    posting_id=facts[j].posting_id,
                    pool=pool["all"],
                    pool_natives=pool["native"],
                    pool_double_first_class=pool["dfc"],
                    top=n_top,
                    top_natives=top_natives,
                    top_double_first_class=top_dfc,
                    top_natives_without_boost=natives_without,
                    top_double_first_class_without_boost=dfc_without,
                    exact=exact,
                    groups=groups[j],
                    computed_at=now,
                )
            )
        return out


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
    none, and is taken off every posting's candidates. Returns how many are stored.
    Waits for a full recompute that is running (``dblocks.MATCHING_LISTS``)."""
    with dblocks.held(dblocks.MATCHING_LISTS):
        stored = _refresh_talent(talent_id=talent_id, today=today)
    fragments.bump(fragments.talent_recommendations(talent_id))
    return stored


def _refresh_talent(*, talent_id: int, today: dt.date | None) -> int:
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


# --- the incremental path: postings opening and closing -----------------------------------------

# The consenting talents' facts stay in the process between posting events (reading 100,000
# of them takes about 18 s on PostgreSQL): read again when a stamp of the tables they come
# from changes (counts, last ids, last update times: a consent given or withdrawn, a talent
# added, merged or edited, an education added, preferences saved, a major category's
# occupations edited, sums of the education columns read), and at the latest after this many
# seconds (an import's in-place edit of an education that leaves those sums as they were).
TALENT_CACHE_SECONDS = 3600.0
# Ids per ``IN`` list when reading the stored lists of many talents.
IN_CHUNK = 5000


@dataclass
class TalentSet:
    """Every consenting talent's facts, with their rows by id and the fairness groups."""

    facts: list[TalentFacts]
    row_of: dict[int, int]
    groups: dict[str, np.ndarray]
    stamp: tuple[Any, ...]
    loaded: float


_talent_lock = threading.Lock()
_talent_cache: dict[str, TalentSet] = {}


def _talents_stamp() -> tuple[Any, ...]:
    from qinghe.talents.models import Consent, Education, Talent

    from ..models import MajorOccupation

    stamp: list[Any] = []
    for model, last in (
        (Consent, "id"),
        (Talent, "updated_at"),
        (Education, "id"),
        (MatchingProfile, "updated_at"),
        (MatchingProfile.preferred_towns.through, "id"),
        (MatchingProfile.preferred_industries.through, "id"),
    ):
        row = model.objects.aggregate(n=Count("id"), last=Max(last))
        stamp += [row["n"], row["last"]]
    # What an import's in-place edit of an education changes (sums of the columns read).
    row = Education.objects.aggregate(
        years=Sum("graduation_year"),
        majors=Sum("major_id"),
        categories=Sum("major_category_id"),
        universities=Sum("university_id"),
        names=Sum(Length("major_name") * F("id")),
        levels=Sum(Length("level") * F("id")),
        dfc=Count("id", filter=Q(is_double_first_class=True)),
    )
    stamp += list(row.values())
    row = MajorOccupation.objects.filter(removed=False).aggregate(
        n=Count("id"), last=Max("id"), order=Sum(F("rank") * F("id"))
    )
    stamp += [row["n"], row["last"], row["order"]]
    return tuple(stamp)


def talent_set() -> TalentSet:
    """Every consenting talent's facts, kept in the process (``TALENT_CACHE_SECONDS``)."""
    stamp = _talents_stamp()
    with _talent_lock:
        cached = _talent_cache.get("talents")
        if (
            cached is not None
            and cached.stamp == stamp
            and time.monotonic() - cached.loaded < TALENT_CACHE_SECONDS
        ):
            return cached
    facts = fetch.talent_facts()
    fresh = TalentSet(
        facts=facts,
        row_of={t.talent_id: i for i, t in enumerate(facts)},
        groups={
            name: np.asarray([member(t) for t in facts], dtype=bool)
            for name, (_label, member) in fair.GROUPS.items()
        },
        stamp=stamp,
        loaded=time.monotonic(),
    )
    with _talent_lock:
        _talent_cache["talents"] = fresh
    return fresh


def stale_postings(*, today: dt.date | None = None) -> set[int]:
    """Postings whose lists do not follow their state: open ones never processed (no fairness
    row) or changed since (the row older than the posting), and postings no longer open that
    still have a fairness row. What a posting event (``postings_refresh(sweep=True)``) takes
    along with its own posting, so that events arriving close together are done in one go."""
    open_qs = fetch.open_postings(today=today)
    opened = set(
        open_qs.filter(
            Q(fairness__isnull=True) | Q(fairness__computed_at__lt=F("updated_at"))
        ).values_list("id", flat=True)
    )
    closed = set(
        PostingFairness.objects.exclude(posting_id__in=open_qs.values("id")).values_list(
            "posting_id", flat=True
        )
    )
    return opened | closed


@dataclass
class PostingsRefreshed:
    opened: list[int]
    closed: list[int]
    # Posting id -> talents whose list changed because of it (it entered their list, or they
    # had it and their list was computed again).
    changed: dict[int, int]
    seconds: float = 0.0


def postings_refresh(posting_ids: Iterable[int] = (), *, sweep: bool = False) -> PostingsRefreshed:
    """Postings opened, changed or closed: each talent's list and each posting's candidates
    made what a full recompute would store, without one.

    - A closed posting leaves every list; the talents who had it get their whole list
      computed again from the postings open now (the cached ``posting_index``).
    - An opened (or changed) posting is tagged and scored against every consenting talent
      at once (the cached ``talent_set``, vectorised): its top 50 candidates and fairness row
      are stored, and it enters the list of each talent whose 20th it beats (their 20th
      dropped). Talents who had it before (a change) get their whole list computed again.

    ``sweep``: also every posting ``stale_postings`` finds (the events queued behind this one:
    their own runs then find nothing to do)."""
    # One run at a time with the full recompute (and other events' runs) across processes.
    with dblocks.held(dblocks.MATCHING_LISTS):
        refreshed = _postings_refresh(posting_ids, sweep=sweep)
    if refreshed.opened or refreshed.closed or refreshed.changed:
        fragments.bump(fragments.RECOMMENDATIONS)  # the lists of the talents it touched
    return refreshed


def _postings_refresh(posting_ids: Iterable[int], *, sweep: bool) -> PostingsRefreshed:
    started = time.perf_counter()
    today = timezone.localdate()
    now = timezone.now()  # before anything is read: a change while this runs is stale after
    wanted = set(posting_ids)
    if sweep:
        wanted |= stale_postings(today=today)
    if not wanted:
        return PostingsRefreshed([], [], {}, time.perf_counter() - started)
    open_ids = set(
        fetch.open_postings(today=today).filter(pk__in=wanted).values_list("id", flat=True)
    )
    if open_ids and Occupation.objects.filter(level=Occupation.Level.OCCUPATION).exists():
        postings_classify(posting_ids=sorted(open_ids))
    opened = fetch.posting_facts(posting_ids=open_ids, today=today)
    closed = sorted(wanted - {p.posting_id for p in opened})
    weights = weights_from_settings()
    scorer = RowScorer(weights)
    changed: dict[int, int] = {}
    # Talents whose whole list is computed again at the end: they had a posting that closed
    # or changed.
    refill: set[int] = set()
    for posting_id in [*closed, *(p.posting_id for p in opened)]:
        had = set(
            Recommendation.objects.filter(posting_id=posting_id).values_list("talent_id", flat=True)
        )
        refill |= had
        changed[posting_id] = len(had)
    if closed:
        with transaction.atomic():
            Recommendation.objects.filter(posting_id__in=closed).delete()
            Candidate.objects.filter(posting_id__in=closed).delete()
            PostingFairness.objects.filter(posting_id__in=closed).delete()
    if opened:
        talents = talent_set()
        one_by_one = MatchIndex(opened, weights)
        batch = one_by_one.encode(talents.facts)
        for posting in opened:
            scores = one_by_one.scores_for_posting(batch, posting.posting_id)
            changed[posting.posting_id] += _posting_opened(
                posting, scores, talents, scorer, refill, now
            )
    if refill:
        _lists_again(sorted(refill), scorer, posting_index(today=today), now)
    return PostingsRefreshed(
        [p.posting_id for p in opened], closed, changed, time.perf_counter() - started
    )


def _posting_opened(
    posting: PostingFacts,
    scores: np.ndarray,
    talents: TalentSet,
    scorer: RowScorer,
    skip: set[int],
    now: dt.datetime,
) -> int:
    """Stores an open posting's candidates and fairness row and puts it into the lists of the
    talents (outside ``skip``) whose 20th it beats; returns how many."""
    weights = scorer.weights
    facts = talents.facts
    prepared = scorer.posting(posting)
    floor = weights.min_total
    ranked: list[tuple[TalentFacts, Any]] = []
    for row in np.argsort(-scores, kind="stable")[: POSTING_TOP * 2].tolist():
        if scores[row] < floor:
            break
        result = scorer.rows(facts[row], [prepared], scores=True)[0]
        if result is not None:
            ranked.append((facts[row], result))
    ranked.sort(key=lambda pair: (-pair[1][2].total, pair[0].talent_id))
    ranked = ranked[:POSTING_TOP]
    qualified = np.isfinite(scores)
    pool = {"all": int(qualified.sum())} | {
        name: int((qualified & members).sum()) for name, members in talents.groups.items()
    }
    fairness = _fairness_row(
        posting.posting_id,
        [(t, result[2]) for t, result in ranked],
        weights.boost_for(natives_first=posting.natives_first),
        pool,
        complete=int((scores >= floor).sum()) <= POSTING_TOP,
        now=now,
    )
    # The talent side: the stored lists (without this posting) of whoever it could enter.
    eligible = [
        row for row in np.flatnonzero(scores >= floor).tolist() if facts[row].talent_id not in skip
    ]
    ids = [facts[row].talent_id for row in eligible]
    stored: dict[int, list[tuple[float, int]]] = {}
    for start in range(0, len(ids), IN_CHUNK):
        for talent_id, rec_id, score in (
            Recommendation.objects.filter(talent_id__in=ids[start : start + IN_CHUNK])
            .exclude(posting_id=posting.posting_id)
            .values_list("talent_id", "id", "score")
        ):
            stored.setdefault(talent_id, []).append((score, rec_id))
    new_rows: list[tuple[Any, ...]] = []
    dropped: list[int] = []
    for row in eligible:
        talent = facts[row]
        have = stored.get(talent.talent_id, [])
        # The list kept: the best TALENT_TOP by (-score, id), as ``_trim`` keeps them.
        have.sort(key=lambda pair: (-pair[0], pair[1]))
        if len(have) >= TALENT_TOP and scores[row] < have[TALENT_TOP - 1][0] - 0.01:
            continue
        result = scorer.rows(talent, [prepared])[0]
        if result is None:
            continue
        if len(have) >= TALENT_TOP and not result[0] > have[TALENT_TOP - 1][0]:
            continue
        new_rows.append((talent.talent_id, posting.posting_id, result[0], result[1], now))
        dropped += [rec_id for _score, rec_id in have[TALENT_TOP - 1 :]]
    with transaction.atomic():
        Recommendation.objects.filter(posting_id=posting.posting_id).delete()
        Candidate.objects.filter(posting_id=posting.posting_id).delete()
        PostingFairness.objects.filter(posting_id=posting.posting_id).delete()
        insert_rows(Recommendation, RECOMMENDATION_COLUMNS, new_rows)
        insert_rows(
            Candidate,
            CANDIDATE_COLUMNS,
            [(posting.posting_id, t.talent_id, result[0], result[1], now) for t, result in ranked],
        )
        fairness.save()
        for start in range(0, len(dropped), IN_CHUNK):
            Recommendation.objects.filter(pk__in=dropped[start : start + IN_CHUNK]).delete()
    return len(new_rows)


def _lists_again(
    talent_ids: Sequence[int], scorer: RowScorer, index: MatchIndex, now: dt.datetime
) -> None:
    """The whole lists of these talents from the postings open now (``index``); a talent who
    no longer consents to matching is left with none."""
    talents = talent_set()
    rows: list[tuple[Any, ...]] = []
    for talent_id in talent_ids:
        row = talents.row_of.get(talent_id)
        if row is None:
            continue
        talent = talents.facts[row]
        postings = [scorer.posting(p) for p, _vector in index.top_for_talent(talent, TALENT_TOP)]
        for p, result in zip(postings, scorer.rows(talent, postings), strict=True):
            if result is not None:
                rows.append((talent_id, p.posting_id, result[0], result[1], now))
    with transaction.atomic():
        for start in range(0, len(talent_ids), IN_CHUNK):
            Recommendation.objects.filter(
                talent_id__in=talent_ids[start : start + IN_CHUNK]
            ).delete()
        insert_rows(Recommendation, RECOMMENDATION_COLUMNS, rows)


def recommendations_on_posting_published(posting_id: int) -> int:
    """A posting was published (or changed while published): see ``postings_refresh``.
    Returns how many talents' lists changed. A posting that is not open is treated as
    closed."""
    return postings_refresh([posting_id]).changed.get(posting_id, 0)


def recommendations_on_posting_closed(posting_id: int) -> int:
    """A posting closed (or expired, or was withdrawn): it leaves every list, and the talents
    who had it get their lists computed again. Returns how many talents' lists were."""
    return postings_refresh([posting_id]).changed.get(posting_id, 0)


def posting_events(posting_id: int) -> PostingsRefreshed:
    """What the task worker runs for a posting event (tasks ``refresh_posting``,
    ``posting_published``, ``posting_closed``): this posting and every stale one."""
    return postings_refresh([posting_id], sweep=True)


def posting_refresh(posting_id: int) -> int:
    """The right hook for a posting's current state (with the stale ones, ``posting_events``);
    returns how many talents' lists changed because of this posting."""
    return posting_events(posting_id).changed.get(posting_id, 0)
