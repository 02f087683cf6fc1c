"""The vectorised engine against the pure scoring functions: no database."""

from __future__ import annotations

import math
import random
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qinghe.matching import scoring
from qinghe.matching.index import MatchIndex
from qinghe.matching.scoring import Weights

from .strategies import posting, postings, talent, talents  # noqa: F401

W = Weights()


def pure_total(t: scoring.TalentFacts, p: scoring.PostingFacts) -> float:
    result = scoring.score(t, p, W)
    return -math.inf if result is None else result.total


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ts=st.lists(talents(), min_size=1, max_size=8),
    ps=st.lists(postings(), min_size=1, max_size=25),
)
def test_vector_scores_equal_pure_scores_for_random_pairs(
    ts: list[scoring.TalentFacts], ps: list[scoring.PostingFacts]
) -> None:
    ps = [replace(p, posting_id=i) for i, p in enumerate(ps, 1)]
    index = MatchIndex(ps, W)
    batch = index.encode(ts)
    block = index.score_block(batch, 0, len(ts))
    for row, t in enumerate(ts):
        one = index.scores_for_talent(t)
        for p in ps:
            slot = index.slot_of[p.posting_id]
            expected = pure_total(t, p)
            if expected == -math.inf:
                assert one[slot] == -math.inf
                assert block[row, slot] == -math.inf
            else:
                assert one[slot] == pytest.approx(expected, abs=1e-6)
                assert block[row, slot] == pytest.approx(expected, abs=1e-3)
    for p in ps:
        column = index.scores_for_posting(batch, p.posting_id)
        for row, t in enumerate(ts):
            expected = pure_total(t, p)
            if expected == -math.inf:
                assert column[row] == -math.inf
            else:
                assert column[row] == pytest.approx(expected, abs=1e-3)


def _world(
    seed: int, n_talents: int, n_postings: int
) -> tuple[list[scoring.TalentFacts], list[scoring.PostingFacts]]:
    rng = random.Random(seed)
    ts = []
    for i in range(1, n_talents + 1):
        ts.append(
            talent(
                talent_id=i,
                level_rank=rng.choice([2, 3, 3, 4]),
                graduation_year=rng.randint(2023, 2029),
                major_id=rng.randint(1, 6),
                category_id=rng.randint(1, 3),
                is_native=rng.random() < 0.7,
                is_double_first_class=rng.random() < 0.2,
                home_town_id=rng.randint(1, 4),
                preferred_town_ids=frozenset(rng.sample(range(1, 5), rng.randint(0, 2))),
                expected_salary=rng.choice([None, 5000, 7000, 9000]),
                skills=frozenset(rng.sample(["python", "java", "cad", "excel"], rng.randint(0, 2))),
            )
        )
    ps = []
    for j in range(1, n_postings + 1):
        ps.append(
            posting(
                posting_id=j,
                kind=rng.choice(scoring.KINDS),
                min_level_rank=rng.choice([0, 2, 3]),
                town_id=rng.randint(1, 4),
                division_id=rng.choice([64, 65, 26]),
                section_id=rng.choice([9, 3]),
                required_major_ids=frozenset(rng.sample(range(1, 7), rng.choice([0, 0, 1]))),
                salary_min=rng.choice([None, 4000, 6000]),
                salary_max=rng.choice([None, 9000, 12000]),
                tokens=frozenset(rng.sample(["python", "java", "cad", "excel", "开发"], 2)),
                natives_first=rng.random() < 0.3,
            )
        )
    return ts, ps


def test_one_talents_top_is_the_best_by_pure_score_with_reasons() -> None:
    ts, ps = _world(1, 5, 300)
    index = MatchIndex(ps, W)
    for t in ts:
        top = index.recommend(t, 20)
        brute = sorted(
            (pure_total(t, p), p.posting_id) for p in ps if pure_total(t, p) >= W.min_total
        )[::-1][:20]
        assert [round(r.total, 4) for _, r in top] == [round(s, 4) for s, _ in brute]
        for p, result in top:
            assert result.total == pytest.approx(sum(r.points for r in result.reasons))
            assert scoring.score(t, p, W) == result


def test_all_talents_top_both_ways_match_brute_force() -> None:
    ts, ps = _world(2, 300, 120)
    index = MatchIndex(ps, W)
    batch = index.encode(ts)
    native = np.asarray([t.is_native for t in ts])
    dfc = np.asarray([t.is_double_first_class for t in ts])
    result = index.top_all(
        batch,
        k=5,
        posting_k=7,
        block_size=64,
        rows_in_cache=8,
        workers=2,
        pool_groups={"native": native, "dfc": dfc},
    )
    totals = np.array([[pure_total(t, p) for p in ps] for t in ts])
    for row in range(len(ts)):
        got = [v for v in result.talent_scores[row] if np.isfinite(v)]
        want = sorted((v for v in totals[row] if v >= W.min_total), reverse=True)[:5]
        assert got == pytest.approx(want, abs=1e-3)
    for slot in range(len(ps)):
        got = [v for v in result.posting_scores[:, slot] if np.isfinite(v)]
        want = sorted((v for v in totals[:, slot] if v >= W.min_total), reverse=True)[:7]
        assert got == pytest.approx(want, abs=1e-3)
        qualified = np.isfinite(totals[:, slot])
        assert result.pool["all"][slot] == qualified.sum()
        assert result.pool["native"][slot] == (qualified & native).sum()
        assert result.pool["dfc"][slot] == (qualified & dfc).sum()


def test_a_posting_is_added_and_removed_without_rebuilding() -> None:
    ts, ps = _world(3, 3, 50)
    index = MatchIndex(ps[:40], W)
    t = ts[0]
    before = index.scores_for_talent(t).copy()
    slots_before = dict(index.slot_of)
    # Adding: the new posting gets a new slot; every other slot keeps its score.
    for p in ps[40:]:
        index.add_posting(p)
    after = index.scores_for_talent(t)
    assert index.slot_of.items() >= slots_before.items()
    np.testing.assert_array_equal(after[: len(before)], before)
    for p in ps[40:]:
        expected = pure_total(t, p)
        got = after[index.slot_of[p.posting_id]]
        assert got == pytest.approx(expected) if expected > -math.inf else got == -math.inf
    # Removing: the slot is switched off, and the posting leaves every top list.
    best = index.top_for_talent(t, 1)
    if best:
        gone = best[0][0].posting_id
        assert index.remove_posting(gone)
        assert gone not in {p.posting_id for p, _ in index.top_for_talent(t, 50)}
        assert index.scores_for_talent(t)[slots_before.get(gone, index.n_slots - 1)] == -math.inf
        batch = index.encode(ts)
        result = index.top_all(batch, k=50, posting_k=3, workers=1)
        assert gone not in {p.posting_id for p, _ in index.talent_top(result, 0)}
    assert len(index) == len(ps) - (1 if best else 0)
    assert not index.remove_posting(987654)


def test_a_closed_posting_never_scores() -> None:
    index = MatchIndex([posting(posting_id=1, is_open=False), posting(posting_id=2)], W)
    scores = index.scores_for_talent(talent())
    assert scores[index.slot_of[1]] == -math.inf
    assert scores[index.slot_of[2]] > 0


def test_an_empty_index_recommends_nothing() -> None:
    index = MatchIndex([], W)
    assert index.recommend(talent(), 20) == []
    batch = index.encode([talent()])
    result = index.top_all(batch, k=20, posting_k=5)
    assert index.talent_top(result, 0) == []
