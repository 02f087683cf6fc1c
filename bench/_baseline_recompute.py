"""The full recompute as it was before the faster one (issue 19, item 4), frozen here so that
the benchmarks time today's code against it in the same run and the tests hold the two to the
same rows. Not a benchmark itself (``bench/run.py`` runs ``bench_*.py`` only).

Frozen: ``MatchIndex.top_all`` (``baseline_top_all``), its ``_fill`` (``baseline_fill``) and
``_ColumnTop`` (the per-posting top 50, as of commit 5f47027), the engine step of the service
(``baseline_engine``), the rows (``scoring.score`` per pair, then ``Reason.as_dict``; the JSON
field encodes them when they are written) and ``recommendations_recompute_all``
(``baseline_recompute_all``), all as of commit 413fd57. What they call (``scoring.score``, the
index's tables and fills, the fetchers, ``insert_tuples``) is shared; the fairness figures
(``baseline_group_figures``, ``baseline_fairness_row``) are frozen too and
held to the same results by the matching tests."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from qinghe.core.bulk import insert_tuples
from qinghe.core.gcpause import gc_paused
from qinghe.matching import fairness as fair
from qinghe.matching import fetch, scoring
from qinghe.matching.index import (
    NEG,
    AllTop,
    MatchIndex,
    TalentBatch,
    _accumulate,
    _subset,
    _top_rows,
)
from qinghe.matching.models import Candidate, MatchingProfile, PostingFairness, Recommendation
from qinghe.matching.scoring import Score, TalentFacts
from qinghe.matching.services.recompute import (
    CANDIDATE_COLUMNS,
    FAIRNESS_TOP,
    POSTING_TOP,
    RECOMMENDATION_COLUMNS,
    RECOMPUTE_CHUNK_POSTINGS,
    RECOMPUTE_CHUNK_TALENTS,
    TALENT_TOP,
    RecomputeInput,
    RecomputeResult,
    _ensure_profiles,
    _Phases,
)
from qinghe.matching.services.tags import BULK, postings_classify
from qinghe.matching.services.weights import weights_from_settings
from qinghe.reference.models import Occupation


# The fairness figures as they were (``fairness.group_figures`` and
# ``recompute._fairness_row`` of commit 3be6774; the components of each candidate were
# computed three times).
def _baseline_top_ids(
    ranked: Sequence[tuple[TalentFacts, Score]], minus: Sequence[str]
) -> set[int]:
    def key(pair: tuple[TalentFacts, Score]) -> tuple[float, int]:
        parts = fair.components(pair[1])
        return (-(pair[1].total - sum(parts.get(m, 0.0) for m in minus)), pair[0].talent_id)

    return {t.talent_id for t, _ in sorted(ranked, key=key)[: fair.TOP]}


def baseline_group_figures(
    ranked: Sequence[tuple[TalentFacts, Score]], pool: dict[str, int]
) -> dict[str, dict[str, Any]]:
    """``ranked``: the posting's stored candidates, best first; ``pool``: group → how many of
    the qualified pool are in it. The JSON stored in ``PostingFairness.groups``."""
    top = list(ranked[: fair.TOP])
    top_ids = {t.talent_id for t, _ in top}
    no_boost = _baseline_top_ids(ranked, ("native",))
    no_home = _baseline_top_ids(ranked, ("home_town",))
    parts = {t.talent_id: fair.components(s) for t, s in ranked}
    out: dict[str, dict[str, Any]] = {}
    for name, (_label, member) in fair.GROUPS.items():
        inside = [t.talent_id for t, _ in ranked if member(t)]
        others = [t.talent_id for t, _ in top if not member(t)]
        gap: dict[str, float] = {}
        if inside and others:
            for c in fair.COMPONENTS:
                a = sum(parts[i].get(c, 0.0) for i in others) / len(others)
                b = sum(parts[i].get(c, 0.0) for i in inside) / len(inside)
                if round(a - b, 2):
                    gap[c] = round(a - b, 2)
        out[name] = {
            "pool": int(pool.get(name, 0)),
            "top": sum(1 for i in inside if i in top_ids),
            "no_boost": sum(1 for i in inside if i in no_boost),
            "no_home": sum(1 for i in inside if i in no_home),
            "candidates": len(inside),
            "gap": gap,
        }
    return out


def baseline_fairness_row(
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
        groups=baseline_group_figures(ranked, pool),
        computed_at=now,
    )


def reasons_json(result: Score) -> list[dict[str, Any]]:
    return [reason.as_dict() for reason in result.reasons]


class _ColumnTop:
    """``index._ColumnTop`` as it was (commit 5f47027): per column (posting), the best ``k``
    rows (talents) seen so far, candidates ordered by ``np.lexsort``."""

    def __init__(self, k: int, columns: int) -> None:
        self.k = k
        self.rows = np.full((columns, k), -1, dtype=np.int64)
        self.vals = np.full((columns, k), NEG, dtype=np.float32)
        self.threshold = np.full(columns, NEG, dtype=np.float32)

    def merge(self, other: _ColumnTop) -> None:
        cols, ranks = np.nonzero(np.isfinite(other.vals))
        if cols.size:
            self.add(other.rows[cols, ranks], cols, other.vals[cols, ranks])

    def add(self, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray) -> None:
        k = self.k
        fresh = vals >= self.threshold[cols]
        if not fresh.all():
            rows, cols, vals = rows[fresh], cols[fresh], vals[fresh]
        if not cols.size:
            return
        order = np.lexsort((-vals, cols))
        rows, cols, vals = rows[order], cols[order], vals[order]
        starts = np.concatenate(([0], np.flatnonzero(np.diff(cols)) + 1))
        affected = cols[starts]
        group = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, len(cols))))
        rank = np.arange(len(cols)) - starts[group]
        keep = rank < k
        new_rows = np.full((len(affected), k), -1, dtype=np.int64)
        new_vals = np.full((len(affected), k), NEG, dtype=np.float32)
        new_rows[group[keep], rank[keep]] = rows[keep]
        new_vals[group[keep], rank[keep]] = vals[keep]
        all_rows = np.hstack([self.rows[affected], new_rows])
        all_vals = np.hstack([self.vals[affected], new_vals])
        part = np.argpartition(all_vals, k, axis=1)[:, k:]  # the k largest of 2k
        self.rows[affected] = np.take_along_axis(all_rows, part, axis=1)
        self.vals[affected] = np.take_along_axis(all_vals, part, axis=1)
        self.threshold[affected] = np.maximum(
            self.threshold[affected], self.vals[affected].min(axis=1)
        )

    def sorted(self) -> tuple[np.ndarray, np.ndarray]:
        """(k x columns) talents and totals, best first."""
        order = np.argsort(-self.vals, axis=1, kind="stable")
        vals = np.take_along_axis(self.vals, order, axis=1)
        rows = np.take_along_axis(self.rows, order, axis=1)
        rows[~np.isfinite(vals)] = -1
        return np.ascontiguousarray(rows.T), np.ascontiguousarray(vals.T)


def baseline_fill(
    self: MatchIndex,
    batch: TalentBatch,
    start: int,
    stop: int,
    t: dict[str, Any],
    out: np.ndarray,
    lut: np.ndarray | None,
    skills: Any,
    offset: int = 0,
    scratch: np.ndarray | None = None,
) -> np.ndarray:
    """``MatchIndex._fill`` as it was (the town and industry points gathered by ``np.take``)."""
    major, base = t["major"], t["base"]
    major_group, base_group = batch.major_group, batch.base_group
    for i in range(start, stop):
        np.add(major[major_group[i]], base[base_group[i]], out=out[i - start])
    if lut is not None:
        rows = lut[start - offset : stop - offset]
        tmp = scratch[: stop - start] if scratch is not None else None
        out += np.take(rows, t["place"], axis=1, out=tmp)
    if skills is not None:
        _accumulate(skills[start - offset : stop - offset], out)
    return out


def baseline_top_all(
    self: MatchIndex,
    batch: TalentBatch,
    *,
    k: int = 20,
    posting_k: int = 50,
    block_size: int = 1024,
    rows_in_cache: int = 24,
    workers: int = 2,
    pool_groups: dict[str, np.ndarray] | None = None,
) -> AllTop:
    """Every talent's top k postings and every posting's top ``posting_k`` talents.

    Talents go in blocks (shared lookups per block), each scored ``rows_in_cache`` rows
    at a time so that the rows being summed, ranked and searched stay in the CPU cache;
    blocks are shared between ``workers`` threads (numpy releases the GIL on the array
    work). Totals below ``weights.min_total`` are left out both ways."""
    t = self._tables(batch)
    n, p = len(batch), self.n_slots
    talent_slots = np.full((n, k), -1, dtype=np.int64)
    talent_scores = np.full((n, k), NEG, dtype=np.float32)
    floor = np.float32(self.weights.min_total)
    perm = t["perm"]
    starts = list(range(0, n, block_size))
    # A first bound for every posting's top list from a sample of talents: the k-th best
    # of a sample is never above the k-th best of all, and it keeps the first rows from
    # offering every pair as a candidate.
    initial = np.full(p, floor, dtype=np.float32)
    if posting_k and p and n > 4 * posting_k:
        sample = np.sort(np.random.default_rng(0).choice(n, size=min(n, 2048), replace=False))
        sub = _subset(batch, sample)
        scores = np.empty((len(sample), p), dtype=np.float32)
        baseline_fill(
            self,
            sub,
            0,
            len(sample),
            t,
            scores,
            self._place_lut(sub, 0, len(sample), t),
            self._skill_points(sub, 0, len(sample), t),
        )
        scores = np.ascontiguousarray(scores.T)
        m = min(posting_k, len(sample))
        initial = np.maximum(
            initial, np.partition(scores, scores.shape[1] - m, axis=1)[:, scores.shape[1] - m]
        )
        del scores

    groups_wanted = {"all": None, **(pool_groups or {})}

    def work(chunk_starts: list[int]) -> tuple[_ColumnTop, dict[str, np.ndarray]]:
        best = _ColumnTop(posting_k, p)
        best.threshold = initial.copy()
        pool = {name: np.zeros(p, dtype=np.int64) for name in groups_wanted}
        buffer = np.empty((rows_in_cache, p), dtype=np.float32)
        flush_at = max(4 * p, 50_000)
        scratch = np.empty((rows_in_cache, p), dtype=np.float32)
        for start in chunk_starts:
            stop = min(start + block_size, n)
            lut = self._place_lut(batch, start, stop, t)
            skills = self._skill_points(batch, start, stop, t)
            cand_rows: list[np.ndarray] = []
            cand_cols: list[np.ndarray] = []
            cand_vals: list[np.ndarray] = []
            pending = 0
            for s in range(start, stop, rows_in_cache):
                e = min(s + rows_in_cache, stop)
                block = baseline_fill(
                    self,
                    batch,
                    s,
                    e,
                    t,
                    buffer[: e - s],
                    lut,
                    skills,
                    offset=start,
                    scratch=scratch,
                )
                if pool_groups is not None and p:
                    passed = block > NEG
                    pool["all"] += passed.sum(axis=0)
                    for name, mask in pool_groups.items():
                        rows = mask[s:e]
                        if rows.any():
                            pool[name] += passed[rows].sum(axis=0)
                if k and p:
                    idx, vals = _top_rows(block, k, floor)
                    talent_slots[s:e] = np.where(idx >= 0, perm[np.maximum(idx, 0)], -1)
                    talent_scores[s:e] = vals
                if posting_k and p:
                    flat = np.flatnonzero(block >= best.threshold)
                    if flat.size:
                        r, c = np.divmod(flat, p)
                        cand_rows.append(r + s)
                        cand_cols.append(c)
                        cand_vals.append(block.ravel()[flat])
                        pending += flat.size
                    # Folding candidates in often keeps the thresholds tight.
                    if pending > flush_at:
                        best.add(
                            np.concatenate(cand_rows),
                            np.concatenate(cand_cols),
                            np.concatenate(cand_vals),
                        )
                        cand_rows, cand_cols, cand_vals, pending = [], [], [], 0
            if cand_rows:
                best.add(
                    np.concatenate(cand_rows),
                    np.concatenate(cand_cols),
                    np.concatenate(cand_vals),
                )
        return best, pool

    groups = [g for g in (starts[i::workers] for i in range(max(workers, 1))) if g]
    if len(groups) > 1:
        with ThreadPoolExecutor(max_workers=len(groups)) as executor:
            results = list(executor.map(work, groups))
    else:
        results = [work(g) for g in groups]
    merged = _ColumnTop(posting_k, p)
    pool_total = {name: np.zeros(p, dtype=np.int64) for name in groups_wanted}
    for part, pool in results:
        merged.merge(part)
        for name, counts in pool.items():
            pool_total[name] += counts
    posting_talents, posting_scores = merged.sorted()
    # Back from place order to slot order.
    position = t["position"]
    return AllTop(
        talent_slots,
        talent_scores,
        posting_talents[:, position] if p else posting_talents,
        posting_scores[:, position] if p else posting_scores,
        {name: counts[position] for name, counts in pool_total.items()}
        if pool_groups is not None
        else {},
    )


def baseline_engine(
    *, today: dt.date | None = None, phases: _Phases | None = None
) -> RecomputeInput:
    """``recompute_engine`` with the frozen ``top_all``."""
    phases = phases or _Phases()
    today = today or timezone.localdate()
    weights = weights_from_settings()
    if Occupation.objects.filter(level=Occupation.Level.OCCUPATION).exists():
        postings_classify(
            posting_ids=fetch.open_postings(today=today).values_list("id", flat=True),
            only_untagged=True,
        )
    phases.lap("classify")
    postings = fetch.posting_facts(today=today)
    talents = fetch.talent_facts()
    phases.lap("fetch")
    return baseline_engine_facts(talents, postings, weights, phases)


def baseline_engine_facts(
    talents: list[TalentFacts],
    postings: list[scoring.PostingFacts],
    weights: scoring.Weights,
    phases: _Phases | None = None,
) -> RecomputeInput:
    phases = phases or _Phases()
    index = MatchIndex(postings, weights)
    batch = index.encode(talents)
    top = baseline_top_all(
        index,
        batch,
        k=TALENT_TOP,
        posting_k=POSTING_TOP,
        pool_groups={
            name: np.asarray([member(t) for t in talents], dtype=bool)
            for name, (_label, member) in fair.GROUPS.items()
        },
    )
    phases.lap("engine")
    return RecomputeInput(talents, postings, index, top, weights)


def baseline_recommendation_rows(
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


def baseline_candidate_rows(
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
        pool = {name: int(counts[slot]) for name, counts in top.pool.items()}
        fairness.append(
            baseline_fairness_row(
                facts.posting_id,
                ranked,
                weights.boost_for(natives_first=facts.natives_first),
                pool,
                complete=False,
                now=now,
            )
        )
    return out, fairness


def baseline_recompute_all(*, today: dt.date | None = None) -> RecomputeResult:
    """``recommendations_recompute_all`` as it was."""
    started = time.perf_counter()
    phases = _Phases()
    now = timezone.now()
    computed = baseline_engine(today=today, phases=phases)
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
                chunk = baseline_recommendation_rows(computed, rows, now)
                phases.lap("rows")
                insert_tuples(Recommendation, RECOMMENDATION_COLUMNS, chunk)
                recommendations += len(chunk)
                del chunk
            talent_ids = [talents[row].talent_id for row in rows]
            MatchingProfile.objects.filter(talent_id__in=talent_ids).update(recommended_at=now)
            _ensure_profiles(talent_ids, now)
            phases.lap("write")
        for start in range(0, len(slots), RECOMPUTE_CHUNK_POSTINGS):
            with gc_paused():
                chunk, fairness = baseline_candidate_rows(
                    computed, slots[start : start + RECOMPUTE_CHUNK_POSTINGS], now
                )
                phases.lap("rows")
                insert_tuples(Candidate, CANDIDATE_COLUMNS, chunk)
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
