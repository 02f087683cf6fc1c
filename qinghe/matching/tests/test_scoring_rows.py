"""The faster full recompute (``scoring_rows.RowScorer`` and the service's ``RecomputeRows``)
stores exactly what the previous one stored: the same pairs in the same order, the same
scores, the same reasons (byte for byte as JSON), the same fairness rows. The previous code is
frozen in ``bench/_baseline_recompute.py`` (the benchmarks time both in one run)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from qinghe.matching import scoring
from qinghe.matching.models import PostingFairness
from qinghe.matching.scoring import Weights
from qinghe.matching.scoring_rows import RowScorer
from qinghe.matching.services import recompute

from . import strategies
from .conftest import Matching
from .test_recompute import crowd, stored  # noqa: F401  (the fixture)

BENCH = Path(__file__).resolve().parents[3] / "bench"


def _load(name: str) -> ModuleType:
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


baseline = _load("_baseline_recompute")


def old_row(talent: Any, posting: Any, weights: Weights) -> tuple[float, str] | None:
    result = scoring.score(talent, posting, weights)
    if result is None:
        return None
    return round(result.total, 3), json.dumps([r.as_dict() for r in result.reasons])


@settings(max_examples=400, deadline=None)
@given(
    talent=strategies.talents(),
    postings=st.lists(strategies.postings(), min_size=1, max_size=6),
    natives_first=st.booleans(),
)
def test_a_row_is_the_score_and_its_reasons_as_json(
    talent: Any, postings: list[Any], natives_first: bool
) -> None:
    weights = Weights()
    scorer = RowScorer(weights)
    prepared = [scorer.posting(p) for p in postings]
    # Twice: the second time every part comes from the caches.
    for _ in range(2):
        got = scorer.rows(talent, prepared, scores=True)
        for posting, row in zip(postings, got, strict=True):
            expected = scoring.score(talent, posting, weights)
            if expected is None:
                assert row is None
                continue
            assert row is not None
            assert row[:2] == old_row(talent, posting, weights)
            assert row[2] == expected  # the Score itself: total to the last bit, reasons
            assert type(row[0]) is float and row[2].total == expected.total


def test_rows_under_other_weights_and_a_boost_of_nothing() -> None:
    weights = Weights(major=40.0, town=7.5, salary=12.25, native_boost=0.0)
    talent = strategies.talent(
        is_native=True, expected_salary=7000, skills=frozenset({"python", "java"})
    )
    plain = strategies.posting(posting_id=1)
    flagged = strategies.posting(posting_id=2, natives_first=True, salary_max=None)
    scorer = RowScorer(weights)
    rows = [scorer.row(talent, p) for p in (plain, flagged)]
    assert rows == [old_row(talent, p, weights) for p in (plain, flagged)]
    assert "native" not in rows[0][1] and '"criterion": "native"' in rows[1][1]  # type: ignore[index]


@pytest.fixture(scope="module")
def generated() -> tuple[list[Any], list[Any]]:
    """300 talents and 200 open postings as the matching benchmark generates them."""
    return _load("bench_matching").make_world(300, 200, seed=19)


def test_the_rows_of_a_recompute_are_those_of_the_previous_code(
    generated: tuple[list[Any], list[Any]],
) -> None:
    talents, postings = generated
    weights = Weights()
    now = timezone.now()
    old = baseline.baseline_engine_facts(talents, postings, weights)
    new = recompute.engine_from_facts(talents, postings, weights)
    for name in ("talent_slots", "talent_scores", "posting_talents", "posting_scores"):
        assert (getattr(old.top, name) == getattr(new.top, name)).all(), name
    assert old.top.pool.keys() == new.top.pool.keys() == {"all", "native", "dfc", "woman", "junior"}
    for name, counts in old.top.pool.items():
        assert (counts == new.top.pool[name]).all(), name

    rows = recompute.RecomputeRows(new)
    recommendations = rows.recommendations(range(len(talents)), now)
    before = baseline.baseline_recommendation_rows(old, range(len(talents)), now)
    assert len(recommendations) == len(before) > 2000
    assert [r[:3] for r in recommendations] == [r[:3] for r in before]
    assert [r[3] for r in recommendations] == [json.dumps(r[3]) for r in before]

    slots = list(range(len(postings)))
    candidates, fairness = rows.candidates(slots, now)
    old_candidates, old_fairness = baseline.baseline_candidate_rows(old, slots, now)
    assert len(candidates) == len(old_candidates) > 2000
    assert [r[:3] for r in candidates] == [r[:3] for r in old_candidates]
    assert [r[3] for r in candidates] == [json.dumps(r[3]) for r in old_candidates]
    values = [f.attname for f in PostingFairness._meta.concrete_fields if f.attname != "id"]
    assert [[getattr(f, v) for v in values] for f in fairness] == [
        [getattr(f, v) for v in values] for f in old_fairness
    ]
    assert any(f.top_natives != f.top_natives_without_boost for f in fairness) or any(
        f.groups["native"]["gap"] for f in fairness
    )


@pytest.mark.django_db
def test_a_stored_recompute_is_the_previous_one(crowd: Matching) -> None:  # noqa: F811
    baseline.baseline_recompute_all()
    before = stored()
    assert before["recommendations"] and before["candidates"]
    result = recompute.recommendations_recompute_all()
    assert stored() == before
    assert (result.recommendations, result.candidates) == (
        len(before["recommendations"]),
        len(before["candidates"]),
    )
