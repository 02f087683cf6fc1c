"""Tiers of the 鹤才青年卡 and their benefits, as data (data/tiers.json), and the pure rule
that says which tiers a person's facts meet. No ORM here."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).with_name("data") / "tiers.json"
RELATIONS = frozenset({"spouse", "child"})
LEVEL_ORDER = {"junior": 1, "bachelor": 2, "master": 3, "doctor": 4}


@dataclass(frozen=True)
class Criterion:
    label: str
    level_at_least: str = ""
    double_first_class: bool = False
    qualification: bool = False


@dataclass(frozen=True)
class Tier:
    code: str
    name: str
    rank: int
    criteria: tuple[Criterion, ...]
    benefits: tuple[str, ...]
    # Dependants' cards: the relations the tier allows (none: no dependants' cards) and the
    # benefits a dependant's card carries.
    dependant_relations: tuple[str, ...] = ()
    dependant_benefits: tuple[str, ...] = ()


@dataclass(frozen=True)
class Benefit:
    code: str
    name: str


@dataclass(frozen=True)
class Scheme:
    max_years: int
    max_age: int
    tiers: tuple[Tier, ...]
    benefits: dict[str, Benefit]
    child_max_age: int = 18

    def tier(self, code: str) -> Tier | None:
        return next((t for t in self.tiers if t.code == code), None)

    def tier_name(self, code: str) -> str:
        tier = self.tier(code)
        return tier.name if tier else code

    def benefits_of(self, code: str) -> list[Benefit]:
        tier = self.tier(code)
        return [self.benefits[b] for b in tier.benefits] if tier else []

    def dependant_relations(self, code: str) -> tuple[str, ...]:
        tier = self.tier(code)
        return tier.dependant_relations if tier else ()

    def dependant_benefits_of(self, code: str) -> list[Benefit]:
        tier = self.tier(code)
        return [self.benefits[b] for b in tier.dependant_benefits] if tier else []

    def benefit_name(self, code: str) -> str:
        benefit = self.benefits.get(code)
        return benefit.name if benefit else code


def _criterion(raw: dict[str, Any]) -> Criterion:
    return Criterion(
        label=str(raw["label"]),
        level_at_least=str(raw.get("level_at_least", "")),
        double_first_class=bool(raw.get("double_first_class", False)),
        qualification=bool(raw.get("qualification", False)),
    )


@cache
def scheme() -> Scheme:
    raw = json.loads(DATA.read_text(encoding="utf-8"))
    benefits = {b["code"]: Benefit(code=b["code"], name=b["name"]) for b in raw["benefits"]}
    tiers = tuple(
        Tier(
            code=t["code"],
            name=t["name"],
            rank=int(t["rank"]),
            criteria=tuple(_criterion(c) for c in t["criteria"]),
            benefits=tuple(t["benefits"]),
            dependant_relations=tuple(t.get("dependants", {}).get("relations", ())),
            dependant_benefits=tuple(t.get("dependants", {}).get("benefits", ())),
        )
        for t in sorted(raw["tiers"], key=lambda t: t["rank"])
    )
    for tier in tiers:
        unknown = (set(tier.benefits) | set(tier.dependant_benefits)) - set(benefits)
        if unknown:
            raise ValueError(f"tier {tier.code}: unknown benefits {sorted(unknown)}")
        if set(tier.dependant_relations) - RELATIONS:
            raise ValueError(f"tier {tier.code}: dependants are spouse or child")
    return Scheme(
        max_years=int(raw["max_years"]),
        max_age=int(raw["max_age"]),
        tiers=tiers,
        benefits=benefits,
        child_max_age=int(raw.get("child_max_age", 18)),
    )


@dataclass(frozen=True)
class Facts:
    """What the platform knows of a person, for the criteria: their degrees (level and whether
    the school is 双一流) and whether they hold a qualification certificate."""

    degrees: tuple[tuple[str, bool], ...]
    qualification: bool = False


def _meets(criterion: Criterion, facts: Facts) -> bool:
    if criterion.qualification and not facts.qualification:
        return False
    if criterion.level_at_least:
        wanted = LEVEL_ORDER[criterion.level_at_least]
        if not any(
            LEVEL_ORDER.get(level, 0) >= wanted and (dfc or not criterion.double_first_class)
            for level, dfc in facts.degrees
        ):
            return False
    elif criterion.double_first_class and not any(dfc for _, dfc in facts.degrees):
        return False
    return True


def eligible(facts: Facts) -> list[tuple[Tier, Criterion]]:
    """Every tier the facts meet with the first criterion met, best tier first."""
    result: list[tuple[Tier, Criterion]] = []
    for tier in scheme().tiers:
        met = next((c for c in tier.criteria if _meets(c, facts)), None)
        if met is not None:
            result.append((tier, met))
    return result


def validity_end(*, start: dt.date, contract_end: dt.date) -> dt.date:
    """No later than the labour contract, and at most ``max_years`` from ``start``."""
    years = scheme().max_years
    try:
        limit = start.replace(year=start.year + years)
    except ValueError:  # 29 February
        limit = start.replace(year=start.year + years, day=28)
    return min(contract_end, limit - dt.timedelta(days=1))
