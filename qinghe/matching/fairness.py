"""The fairness figures of one posting and the four-fifths rule: pure functions, no ORM.

For each group (鹤山籍 natives, 双一流 graduates, women, 专科 graduates) a posting stores, in
``PostingFairness.groups``:

- ``pool``: how many of the qualified pool (consenting talents passing the hard filters) are in
  the group;
- ``top`` / ``no_boost`` / ``no_home``: how many are in the top 20 as recommended, re-ranked
  without the disclosed native boost, and re-ranked without the home-town points (离家近);
- ``gap``: per scoring component, the mean points of the top 20's other members minus the mean
  points of the group's members among the stored candidates (top 50), from the same reasons
  that are stored with each candidate. A positive gap is a criterion that put others ahead.

The four-fifths rule (``verdict``): a group is flagged on a posting when its share of the top
list is below four fifths of its share of the pool. No verdict when the pool holds fewer than
``MIN_GROUP_IN_POOL`` of the group, or when the group's pool share would put fewer than one
of them in the top list (``top x pool share < 1``): zero of them there is then no evidence.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .scoring import CRITERIA_LABELS, HOME_TOWN_TEXT, Score, TalentFacts

TOP = 20
# The rule: top share < 4/5 of pool share.
RATIO_NUM, RATIO_DEN = 4, 5
# Small pools: no verdict below this many of the group in the pool ...
MIN_GROUP_IN_POOL = 5
# ... nor when top x pool share (the expected number in the top list) is below this.
MIN_EXPECTED_IN_TOP = 1

GROUPS: dict[str, tuple[str, Callable[[TalentFacts], bool]]] = {
    "native": ("鹤山籍", lambda t: t.is_native),
    "dfc": ("双一流", lambda t: t.is_double_first_class),
    "woman": ("女性", lambda t: t.is_woman),
    "junior": ("专科", lambda t: t.level_rank == 2),
}

# Score components, in the order shown; the town criterion is split into a preferred town and
# the home town (离家近) so the home-town points can be told apart from the native boost.
COMPONENTS: tuple[str, ...] = (
    "major",
    "level",
    "timing",
    "town",
    "home_town",
    "industry",
    "skills",
    "salary",
    "native",
)
COMPONENT_LABELS: dict[str, str] = {
    **CRITERIA_LABELS,
    "home_town": "离家近（户籍镇街）",
    "native": "鹤山籍加分",
}


def component(criterion: str, text: str) -> str:
    """A stored reason's component: its criterion, with 离家近 apart from a preferred town."""
    if criterion == "town" and text.startswith(HOME_TOWN_TEXT):
        return "home_town"
    return criterion


def components(result: Score) -> dict[str, float]:
    out: dict[str, float] = {}
    for reason in result.reasons:
        key = component(reason.criterion, reason.text_zh)
        out[key] = out.get(key, 0.0) + reason.points
    return out


def _top_ids(
    ranked: Sequence[tuple[TalentFacts, Score]],
    parts: Sequence[dict[str, float]],
    minus: Sequence[str],
) -> set[int]:
    """The top list re-ranked without the ``minus`` components (``parts``: each candidate's
    ``components``, in ``ranked`` order)."""
    keyed = sorted(
        (
            (-(score.total - sum(p.get(m, 0.0) for m in minus)), talent.talent_id)
            for (talent, score), p in zip(ranked, parts, strict=True)
        )
    )
    return {talent_id for _key, talent_id in keyed[:TOP]}


def group_figures(
    ranked: Sequence[tuple[TalentFacts, Score]], pool: dict[str, int]
) -> dict[str, dict[str, Any]]:
    """``ranked``: the posting's stored candidates, best first; ``pool``: group → how many of
    the qualified pool are in it. The JSON stored in ``PostingFairness.groups``."""
    top = list(ranked[:TOP])
    top_ids = {t.talent_id for t, _ in top}
    components_in_order = [components(s) for _t, s in ranked]
    no_boost = _top_ids(ranked, components_in_order, ("native",))
    no_home = _top_ids(ranked, components_in_order, ("home_town",))
    parts = {t.talent_id: c for (t, _s), c in zip(ranked, components_in_order, strict=True)}
    out: dict[str, dict[str, Any]] = {}
    for name, (_label, member) in GROUPS.items():
        inside = [t.talent_id for t, _ in ranked if member(t)]
        others = [t.talent_id for t, _ in top if not member(t)]
        gap: dict[str, float] = {}
        if inside and others:
            for c in COMPONENTS:
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


def group_figures_many(
    totals: np.ndarray,
    counts: np.ndarray,
    talent_ids: np.ndarray,
    points: np.ndarray,
    members: dict[str, np.ndarray],
    pools: Sequence[dict[str, int]],
) -> list[dict[str, dict[str, Any]]]:
    """``group_figures`` of many postings at once (the full recompute), the same figures to
    the last bit. Posting ``j``'s stored candidates, best first, are the first ``counts[j]``
    entries of row ``j`` of: ``totals`` (the scores' totals, float64), ``talent_ids``,
    ``points`` (postings x entries x ``COMPONENTS``: each candidate's ``components``, 0.0
    where absent) and ``members[name]`` (bool, for every name of ``GROUPS``); ``pools[j]``:
    group -> how many of its qualified pool are in it.

    The means are sums in the candidates' order (``np.cumsum`` adds one after the other, as
    ``sum`` does; the zeros put in for those left out change nothing), divided by the count,
    then rounded by Python's ``round``."""
    n, k = totals.shape
    rank = np.arange(k)[None, :]
    ok = rank < counts[:, None]
    top = rank < np.minimum(counts, TOP)[:, None]

    def top_without(component_name: str) -> np.ndarray:
        """Which entries are in the top list re-ranked without a component (``_top_ids``)."""
        key = np.where(ok, -(totals - points[:, :, COMPONENTS.index(component_name)]), np.inf)
        order = np.lexsort((talent_ids, key), axis=1)
        chosen = np.zeros((n, k), dtype=bool)
        np.put_along_axis(chosen, order, top, axis=1)
        return chosen

    no_boost = top_without("native")
    no_home = top_without("home_town")
    pool_of = [[int(pool.get(name, 0)) for name in GROUPS] for pool in pools]
    figures: dict[str, tuple[list[Any], ...]] = {}
    for name in GROUPS:
        inside = members[name] & ok
        others = top & ~inside
        n_inside = inside.sum(axis=1)
        n_others = others.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            a = np.cumsum(np.where(others[:, :, None], points, 0.0), axis=1)[:, -1, :]
            b = np.cumsum(np.where(inside[:, :, None], points, 0.0), axis=1)[:, -1, :]
            diff = a / n_others[:, None] - b / n_inside[:, None]
        figures[name] = (
            n_inside.tolist(),
            n_others.tolist(),
            (inside & top).sum(axis=1).tolist(),
            (inside & no_boost).sum(axis=1).tolist(),
            (inside & no_home).sum(axis=1).tolist(),
            diff.tolist(),
        )
    out: list[dict[str, dict[str, Any]]] = []
    for j in range(n):
        posting: dict[str, dict[str, Any]] = {}
        for g, name in enumerate(GROUPS):
            n_in, n_oth, in_top, in_no_boost, in_no_home, diff_of = figures[name]
            gap: dict[str, float] = {}
            if n_in[j] and n_oth[j]:
                for c, d in zip(COMPONENTS, diff_of[j], strict=True):
                    if shown := round(d, 2):
                        gap[c] = shown
            posting[name] = {
                "pool": pool_of[j][g],
                "top": in_top[j],
                "no_boost": in_no_boost[j],
                "no_home": in_no_home[j],
                "candidates": n_in[j],
                "gap": gap,
            }
        out.append(posting)
    return out


@dataclass(frozen=True)
class Verdict:
    group: str
    label: str
    pool: int
    pool_total: int
    top: int
    top_total: int
    no_boost: int
    no_home: int
    # "flag", "ok" or "small" (no verdict: see the module's doc).
    status: str
    # The top share over the pool share, when both are defined.
    ratio: float | None
    reasons: tuple[str, ...] = ()

    @property
    def flagged(self) -> bool:
        return self.status == "flag"

    @property
    def pool_share(self) -> float | None:
        return 100.0 * self.pool / self.pool_total if self.pool_total else None

    @property
    def top_share(self) -> float | None:
        return 100.0 * self.top / self.top_total if self.top_total else None


def below_four_fifths(part: int, whole: int, pool_part: int, pool_whole: int) -> bool:
    """part/whole < 4/5 x pool_part/pool_whole, in integers (no rounding at the edge)."""
    return RATIO_DEN * part * pool_whole < RATIO_NUM * pool_part * whole


def verdict(
    group: str, figures: dict[str, Any], pool_total: int, top_total: int, *, explain: bool = True
) -> Verdict:
    label = GROUPS[group][0]
    pool, top = int(figures.get("pool", 0)), int(figures.get("top", 0))
    no_boost, no_home = int(figures.get("no_boost", top)), int(figures.get("no_home", top))
    ratio = (top * pool_total) / (pool * top_total) if pool and top_total else None
    small = (
        pool < MIN_GROUP_IN_POOL
        or not top_total
        or top_total * pool < MIN_EXPECTED_IN_TOP * pool_total
    )
    if small:
        status = "small"
    elif below_four_fifths(top, top_total, pool, pool_total):
        status = "flag"
    else:
        status = "ok"
    reasons: tuple[str, ...] = ()
    if status == "flag" and explain:
        reasons = explanation(figures, pool_total, top_total)
    return Verdict(
        group, label, pool, pool_total, top, top_total, no_boost, no_home, status, ratio, reasons
    )


def explanation(figures: dict[str, Any], pool_total: int, top_total: int) -> tuple[str, ...]:
    """Why a flagged group fell short, in Chinese: the components that separated it (largest
    first), then what the top list would hold without the boost and without 离家近."""
    pool = int(figures.get("pool", 0))
    gap: dict[str, float] = figures.get("gap") or {}
    lines: list[str] = []
    drivers = sorted(
        ((points, c) for c, points in gap.items() if points > 0), key=lambda x: (-x[0], x[1])
    )
    if not figures.get("candidates"):
        lines.append("该群体无人在存储的候选中（前 50 名且达到推荐线），无法按推荐理由分解")
    elif not drivers:
        lines.append("各评分项均未拉开差距")
    for points, c in drivers[:3]:
        lines.append(f"{COMPONENT_LABELS[c]}：前 20 名其他人平均多 {points:.1f} 分")
    for key, what in (("no_boost", "不计鹤山籍加分"), ("no_home", "不计离家近")):
        n = int(figures.get(key, 0))
        still = below_four_fifths(n, top_total, pool, pool_total)
        lines.append(f"{what}时前 20 名中 {n} 人（{'仍低于' if still else '不再低于'}五分之四）")
    return tuple(lines)


def verdicts(groups: dict[str, Any], pool_total: int, top_total: int) -> list[Verdict]:
    return [verdict(g, groups.get(g) or {}, pool_total, top_total) for g in GROUPS]
