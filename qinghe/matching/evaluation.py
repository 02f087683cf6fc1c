"""Evaluating the occupation classifier on a labelled set built from the catalog itself:
every listed title (an alias that is not the occupation's name) is a job title labelled with
its occupation; folds hold titles out of the documents (and so out of every signal), and the
metrics are top-1, top-5 and MRR@10. Used by ``bench/bench_classify.py`` and the tests."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from . import text
from .classify import OccupationDoc


@dataclass(frozen=True)
class Example:
    title: str
    code: str


def labelled_set(docs: Sequence[OccupationDoc]) -> list[Example]:
    """Every alias that differs from its occupation's name is a job title labelled with that
    occupation (aliases claimed by two occupations are left out as ambiguous)."""
    owners: dict[str, set[str]] = {}
    for doc in docs:
        for alias in doc.aliases:
            if text.normalise(alias) and alias != doc.name:
                owners.setdefault(alias, set()).add(doc.code)
    return [Example(alias, next(iter(codes))) for alias, codes in owners.items() if len(codes) == 1]


def without_aliases(docs: Sequence[OccupationDoc], held_out: set[str]) -> list[OccupationDoc]:
    return [
        replace(d, aliases=tuple(a for a in d.aliases if a not in held_out)) if d.aliases else d
        for d in docs
    ]


@dataclass
class Metrics:
    n: int = 0
    top1: float = 0.0
    top5: float = 0.0
    mrr10: float = 0.0

    def add(self, ranked_codes: Sequence[str], gold: str) -> None:
        self.n += 1
        for position, code in enumerate(ranked_codes[:10], start=1):
            if code == gold:
                self.top1 += position == 1
                self.top5 += position <= 5
                self.mrr10 += 1.0 / position
                break

    def add_accepting(self, ranked_codes: Sequence[str], accepted: Iterable[str]) -> None:
        """As ``add``, where any of the accepted codes is right (a real posting's label)."""
        accepted = set(accepted)
        self.n += 1
        for position, code in enumerate(ranked_codes[:10], start=1):
            if code in accepted:
                self.top1 += position == 1
                self.top5 += position <= 5
                self.mrr10 += 1.0 / position
                break

    def as_dict(self) -> dict[str, float]:
        n = max(self.n, 1)
        return {
            "n": self.n,
            "top1": self.top1 / n,
            "top5": self.top5 / n,
            "mrr10": self.mrr10 / n,
        }


def evaluate(
    ranker: object, examples: Sequence[Example], metrics: Metrics | None = None
) -> Metrics:
    metrics = metrics or Metrics()
    ranked = ranker.rank([(e.title, "") for e in examples], 10)  # type: ignore[attr-defined]
    for example, result in zip(examples, ranked, strict=True):
        metrics.add([code for code, _ in result], example.code)
    return metrics


@dataclass(frozen=True)
class Posting:
    """A real posting's title (and the start of its description) with the occupations a
    careful coder accepts for it."""

    title: str
    description: str
    accepted: tuple[str, ...]


def evaluate_postings(
    ranker: object, postings: Sequence[Posting], *, with_description: bool = True
) -> tuple[Metrics, list[list[tuple[str, float]]]]:
    """Metrics over real postings (any accepted code is right) and the rankings."""
    queries = [(p.title, p.description if with_description else "") for p in postings]
    ranked = ranker.rank(queries, 10)  # type: ignore[attr-defined]
    metrics = Metrics()
    for posting, result in zip(postings, ranked, strict=True):
        metrics.add_accepting([code for code, _ in result], posting.accepted)
    return metrics, ranked


def not_sure_threshold(
    top_scores: Sequence[float], right: Sequence[bool], precision: float
) -> float:
    """The lowest top score above which the answers kept are right at least ``precision`` of
    the time (answers below it go to staff as "not sure"); 0 when every answer already is.
    Choose it on a development set and report it on another."""
    pairs = sorted(zip(top_scores, right, strict=True), key=lambda p: -p[0])
    best = float("inf")
    kept = correct = 0
    for score, ok in pairs:
        kept += 1
        correct += ok
        if correct / kept >= precision:
            best = score
    if best == float("inf"):
        return float("inf")
    return 0.0 if best <= min(top_scores, default=0.0) else best


def folds(examples: Sequence[Example], k: int, seed: int = 2022) -> list[list[Example]]:
    order = sorted(examples, key=lambda e: (_stable_hash(e.title, seed), e.title))
    return [order[i::k] for i in range(k)]


def _stable_hash(value: str, seed: int) -> int:
    h = seed
    for ch in value:
        h = (h * 1_000_003 + ord(ch)) % 2_147_483_647
    return h


def mean(values: Iterable[float]) -> float:
    values = list(values)
    return math.fsum(values) / len(values) if values else 0.0
