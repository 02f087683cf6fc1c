"""Majors to occupations, pure: the ranking of a field of study's occupations from the
catalogs' texts, the shipped hand corrections, and the map of every major category built from
the reference files (no database; ``services.majors`` writes it, ``bench/bench_classify.py``
measures it)."""

from __future__ import annotations

import csv
import math
import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from . import classify

DATA_DIR = Path(__file__).resolve().parent / "data"
REFERENCE_DIR = Path(__file__).resolve().parent.parent / "reference" / "data"


def strip_category(name: str) -> str:
    return re.sub(r"(大类|类)$", "", name)


def vocational_subcategories() -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    with (DATA_DIR / "vocational_subcategories_2021.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            out[row["category_code"]].append(row["name"])
    return out


def curated_lists() -> dict[str, list[str]]:
    """The hand-written occupations of a category, best first (rows of
    ``data/major_occupation_curated.csv`` whose code has no leading "-")."""
    out: dict[str, list[str]] = defaultdict(list)
    with (DATA_DIR / "major_occupation_curated.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if not row["occupation_code"].startswith("-"):
                out[row["category_code"]].append(row["occupation_code"])
    return out


def curated_exclusions() -> dict[str, set[str]]:
    """Occupations the text-derived ranking must not give a category (rows whose code starts
    with "-": 政治学类 is not 国际快递业务师)."""
    out: dict[str, set[str]] = defaultdict(set)
    with (DATA_DIR / "major_occupation_curated.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["occupation_code"].startswith("-"):
                out[row["category_code"]].add(row["occupation_code"][1:])
    return out


def rank_for_field(
    model: classify.OccupationClassifier, name: str, members: Sequence[str], k: int
) -> list[tuple[str, float]]:
    """Occupations for a field of study: its name and each member's name (majors or 专业类)
    as queries, each query's signals normalised to its best, the members together counting
    as much as the name."""
    queries = [(strip_category(name), "")] + [(strip_category(m), "") for m in members]

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


def merged(
    curated: Sequence[str],
    ranked: Sequence[str],
    known: set[str],
    top: int,
    excluded: frozenset[str] | set[str] = frozenset(),
) -> list[str]:
    """The curated codes first, then the ranked ones, each once, known codes only, none of
    the excluded ones, at most ``top``."""
    out: list[str] = []
    for code in [*curated, *ranked]:
        if code in known and code not in out and code not in excluded:
            out.append(code)
        if len(out) >= top:
            break
    return out


def categories_from_reference() -> list[tuple[str, str, list[str]]]:
    """(code, name, member names) of the 93 undergraduate 专业类 (members: their majors) and
    the 19 vocational 专业大类 (members: their 专业类), from the reference files."""
    majors: dict[str, list[str]] = defaultdict(list)
    with (REFERENCE_DIR / "undergrad_2025_majors.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            majors[row["major_category_code"]].append(row["major_name"])
    out: list[tuple[str, str, list[str]]] = []
    with (REFERENCE_DIR / "undergrad_2025_categories.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            code = row["major_category_code"]
            out.append((code, row["major_category_name"], majors.get(code, [])))
    vocational = vocational_subcategories()
    with (REFERENCE_DIR / "vocational_categories_2021.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            out.append((row["code"], row["name"], vocational.get(row["code"], [])))
    return out


def build_map(model: classify.OccupationClassifier, top: int = 20) -> dict[str, list[str]]:
    """Every category's occupations as ``services.majors.major_occupations_build`` ranks
    them before staff edits: the curated list first, then the text-derived ranking."""
    curated = curated_lists()
    excluded = curated_exclusions()
    known = set(model.codes)
    out: dict[str, list[str]] = {}
    for code, name, members in categories_from_reference():
        ranked = [c for c, _ in rank_for_field(model, name, members, top * 3)]
        out[code] = merged(curated.get(code, []), ranked, known, top, excluded.get(code, set()))
    return out
