"""The vectorised matching engine: the same scores as ``scoring.score``, for one talent against
every posting in about a millisecond, and for every talent against every posting in blocks.

Postings live in slots (arrays that grow; a removed posting's slot is switched off), with
inverted lists (major -> slots, occupation -> slots and shares, token -> slots) for one
talent's query. Adding or removing a posting touches only its own slot and lists: nothing is
rebuilt.

For many talents the total is a sum of parts that depend on few things about the talent, so
each part is computed once per distinct value and gathered per talent:

    total[t, p] = MAJOR[major group of t, p] + LEVEL_TIMING[level and year of t, p]
                + SALARY[expectation of t, p] + town(t, p) + industry(t, p) + skills(t, p)
                + native(t) x boost(p)

Excluded pairs (level, timing, closed) are -inf in LEVEL_TIMING. Reasons are never built here:
the top postings of a talent go through ``scoring.score`` (the tests hold both to the same
totals)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

from . import scoring
from .scoring import PostingFacts, Score, TalentFacts, Weights

NEG = -np.inf
_KIND_ID = {kind: i for i, kind in enumerate(scoring.KINDS)}
_SPAN = scoring.TIMING_SPAN
# TIMING_TABLE[kind, delta + span]: the fit, NaN where excluded.
TIMING_TABLE = np.array(
    [
        [np.nan if (v := scoring.TIMING[kind][d]) is None else v for d in range(-_SPAN, _SPAN + 1)]
        for kind in scoring.KINDS
    ],
    dtype=np.float64,
)
_MAX_RANK = max(scoring.LEVEL_RANK.values())
# LEVEL_TABLE[talent rank, minimum rank]: the fit, NaN where excluded.
LEVEL_TABLE = np.array(
    [
        [
            np.nan if (v := scoring.level_fit(mine, required)) is None else v
            for required in range(_MAX_RANK + 1)
        ]
        for mine in range(_MAX_RANK + 1)
    ],
    dtype=np.float64,
)


class _Column:
    """A growable 1-D numpy array."""

    def __init__(self, dtype: Any, fill: Any = 0) -> None:
        self.data = np.full(64, fill, dtype=dtype)
        self.fill = fill
        self.size = 0

    def append(self, value: Any) -> None:
        if self.size == len(self.data):
            grown = np.full(len(self.data) * 2, self.fill, dtype=self.data.dtype)
            grown[: self.size] = self.data
            self.data = grown
        self.data[self.size] = value
        self.size += 1

    def view(self) -> np.ndarray:
        return self.data[: self.size]


class _Inverted:
    """key -> slots (and optional values), appended to; arrays cached until the key changes."""

    def __init__(self) -> None:
        self.lists: dict[Any, tuple[list[int], list[float]]] = {}
        self.cache: dict[Any, tuple[np.ndarray, np.ndarray]] = {}

    def add(self, key: Any, slot: int, value: float = 1.0) -> None:
        slots, values = self.lists.setdefault(key, ([], []))
        slots.append(slot)
        values.append(value)
        self.cache.pop(key, None)

    def get(self, key: Any) -> tuple[np.ndarray, np.ndarray] | None:
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        entry = self.lists.get(key)
        if entry is None:
            return None
        cached = (np.asarray(entry[0], dtype=np.int64), np.asarray(entry[1], dtype=np.float64))
        self.cache[key] = cached
        return cached


@dataclass
class TalentBatch:
    """Talents encoded for block scoring against one index (``MatchIndex.encode``)."""

    facts: list[TalentFacts]
    # Group of (major, category, occupations): one row of the MAJOR table each.
    major_group: np.ndarray
    # Group of (level, graduation year, expected salary, native): one row of the BASE table.
    base_group: np.ndarray
    towns: sparse.csr_matrix  # talent x town column: 1.0 preferred, 0.6 home town
    divisions: sparse.csr_matrix  # talent x division column: 1.0 chosen
    sections: sparse.csr_matrix  # talent x section column: 1.0 chosen, 0.5 near
    skills: sparse.csr_matrix  # talent x token (posting vocabulary)
    major_keys: list[tuple[Any, ...]]
    base_keys: list[tuple[int, int | None, int, bool]]

    def __len__(self) -> int:
        return len(self.facts)


@dataclass
class AllTop:
    """Every talent's top postings and every posting's top talents (indices into the batch);
    -1 / -inf where there are fewer."""

    talent_slots: np.ndarray  # talents x k
    talent_scores: np.ndarray  # talents x k
    posting_talents: np.ndarray  # posting_k x slots
    posting_scores: np.ndarray  # posting_k x slots
    # Per slot: how many talents pass the hard filters ("all"), and how many of them are in
    # each group asked for (``pool_groups``).
    pool: dict[str, np.ndarray] = field(default_factory=dict)


class MatchIndex:
    def __init__(
        self, postings: Iterable[PostingFacts] = (), weights: Weights | None = None
    ) -> None:
        self.weights = weights or Weights()
        self.facts: list[PostingFacts | None] = []
        self.slot_of: dict[int, int] = {}
        self._active = _Column(np.bool_, False)
        self._kind = _Column(np.int8)
        self._min_level = _Column(np.int8)
        self._start_year = _Column(np.int32)
        self._town = _Column(np.int32)
        self._division = _Column(np.int32)
        self._section = _Column(np.int32)
        self._salary = _Column(np.float64)
        self._restricted = _Column(np.bool_, False)
        self._natives_first = _Column(np.bool_, False)
        # Ids of towns, divisions, sections, tokens -> columns (0 is "none").
        self.town_col: dict[int | None, int] = {None: 0}
        self.division_col: dict[int | None, int] = {None: 0}
        self.section_col: dict[int | None, int] = {None: 0}
        self.token_col: dict[str, int] = {}
        self._by_major = _Inverted()
        self._by_category = _Inverted()
        self._by_major_category = _Inverted()
        self._by_occupation = _Inverted()
        self._by_token = _Inverted()
        self._version = 0
        self._cache: dict[str, Any] = {}
        for posting in postings:
            self.add_posting(posting)

    # --- postings -----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.slot_of)

    @property
    def n_slots(self) -> int:
        return len(self.facts)

    def posting(self, posting_id: int) -> PostingFacts | None:
        slot = self.slot_of.get(posting_id)
        return self.facts[slot] if slot is not None else None

    def add_posting(self, posting: PostingFacts) -> int:
        """Adds (or replaces) a posting; returns its slot. Open postings only take part."""
        if posting.posting_id in self.slot_of:
            self.remove_posting(posting.posting_id)
        slot = len(self.facts)
        self.facts.append(posting)
        self.slot_of[posting.posting_id] = slot
        self._active.append(posting.is_open)
        self._kind.append(_KIND_ID.get(posting.kind, 0))
        self._min_level.append(posting.min_level_rank)
        self._start_year.append(posting.start_year)
        self._town.append(self.town_col.setdefault(posting.town_id, len(self.town_col)))
        self._division.append(
            self.division_col.setdefault(posting.division_id, len(self.division_col))
        )
        self._section.append(self.section_col.setdefault(posting.section_id, len(self.section_col)))
        self._salary.append(float(posting.salary_top))
        self._restricted.append(posting.majors_restricted)
        self._natives_first.append(posting.natives_first)
        for major in posting.required_major_ids:
            self._by_major.add(major, slot)
        for category in posting.required_category_ids:
            self._by_category.add(category, slot)
        for category in posting.required_major_category_ids:
            self._by_major_category.add(category, slot)
        for code, _name, share in posting.occupations:
            self._by_occupation.add(code, slot, share)
        for token in posting.tokens:
            self.token_col.setdefault(token, len(self.token_col))
            self._by_token.add(token, slot)
        self._changed()
        return slot

    def remove_posting(self, posting_id: int) -> bool:
        """Switches the posting's slot off (closed, withdrawn); True if it was there."""
        slot = self.slot_of.pop(posting_id, None)
        if slot is None:
            return False
        self._active.data[slot] = False
        self.facts[slot] = None
        self._changed()
        return True

    def _changed(self) -> None:
        self._version += 1
        self._cache.clear()

    # --- one talent ---------------------------------------------------------------------------

    def _major_row(
        self,
        major_id: int | None,
        category_id: int | None,
        occupations: tuple[tuple[str, float], ...],
    ) -> np.ndarray:
        n = self.n_slots
        occ = np.zeros(n)
        for code, weight in occupations:
            entry = self._by_occupation.get(code)
            if entry is not None:
                occ[entry[0]] += weight * entry[1]
        np.minimum(occ, 1.0, out=occ)
        occ *= np.where(self._restricted.view(), scoring.RESTRICTED_OCCUPATION_FACTOR, 1.0)
        required = np.zeros(n)
        for index, key, fit in (
            (self._by_major_category, category_id, scoring.FIT_SAME_CATEGORY),
            (self._by_category, category_id, scoring.FIT_REQUIRED_CATEGORY),
            (self._by_major, major_id, scoring.FIT_REQUIRED_MAJOR),
        ):
            if key is None:
                continue
            entry = index.get(key)
            if entry is not None:
                required[entry[0]] = np.maximum(required[entry[0]], fit)
        return self.weights.major * np.maximum(required, occ)

    def _level_timing_row(self, level_rank: int, graduation_year: int | None) -> np.ndarray:
        w = self.weights
        level = LEVEL_TABLE[min(max(level_rank, 0), _MAX_RANK)][self._min_level.view()]
        if graduation_year is None:
            timing = np.full(self.n_slots, scoring.FIT_TIMING_UNKNOWN)
        else:
            delta = np.clip(graduation_year - self._start_year.view(), -_SPAN, _SPAN) + _SPAN
            timing = TIMING_TABLE[self._kind.view(), delta]
        row = w.level * level + w.timing * timing
        row[np.isnan(row) | ~self._active.view()] = NEG
        return row

    def _salary_row(self, expected: int | None) -> np.ndarray:
        offered = self._salary.view()
        if not expected or expected <= 0:
            return np.zeros(self.n_slots)
        floor = scoring.SALARY_FLOOR * expected
        fit = np.clip((offered - floor) / (expected - floor), 0.0, 1.0)
        fit[offered <= 0] = 0.0
        return self.weights.salary * fit

    def _boost_row(self) -> np.ndarray:
        row = self._cache.get("boost")
        if row is None:
            w = self.weights
            row = np.where(
                self._natives_first.view(),
                w.boost_for(natives_first=True),
                w.boost_for(natives_first=False),
            )
            self._cache["boost"] = row
        return row

    def scores_for_talent(self, talent: TalentFacts) -> np.ndarray:
        """The total for every slot (-inf: excluded or switched off)."""
        w = self.weights
        total = self._major_row(talent.major_id, talent.category_id, talent.occupations)
        total += self._level_timing_row(talent.level_rank, talent.graduation_year)
        total += self._salary_row(talent.expected_salary)
        town_lut = np.zeros(len(self.town_col))
        if talent.home_town_id in self.town_col and talent.home_town_id is not None:
            town_lut[self.town_col[talent.home_town_id]] = scoring.FIT_HOME_TOWN
        for town in talent.preferred_town_ids:
            col = self.town_col.get(town)
            if col:
                town_lut[col] = 1.0
        total += w.town * town_lut[self._town.view()]
        div_lut = np.zeros(len(self.division_col))
        for division in talent.preferred_division_ids:
            col = self.division_col.get(division)
            if col:
                div_lut[col] = 1.0
        sec_lut = np.zeros(len(self.section_col))
        for section in talent.near_section_ids:
            col = self.section_col.get(section)
            if col:
                sec_lut[col] = scoring.FIT_NEAR_SECTION
        for section in talent.preferred_section_ids:
            col = self.section_col.get(section)
            if col:
                sec_lut[col] = 1.0
        total += w.industry * np.maximum(
            div_lut[self._division.view()], sec_lut[self._section.view()]
        )
        if talent.skills:
            matched = np.zeros(self.n_slots)
            for token in talent.skills:
                entry = self._by_token.get(token)
                if entry is not None:
                    matched[entry[0]] += 1.0
            total += w.skills * np.minimum(matched, scoring.SKILLS_FULL) / scoring.SKILLS_FULL
        if talent.is_native:
            total += self._boost_row()
        return total

    def top_for_talent(self, talent: TalentFacts, k: int = 20) -> list[tuple[PostingFacts, float]]:
        """The k best postings by vector score (excluded ones and those below the minimum
        total left out), best first."""
        scores = self.scores_for_talent(talent)
        return [(self.facts[s], float(scores[s])) for s in self._top_slots(scores, k)]  # type: ignore[misc]

    def _top_slots(self, scores: np.ndarray, k: int) -> list[int]:
        n = len(scores)
        if n == 0:
            return []
        k = min(k, n)
        idx = np.argpartition(scores, n - k)[n - k :]
        idx = idx[scores[idx] >= self.weights.min_total]
        return sorted(idx.tolist(), key=lambda s: (-scores[s], self.facts[s].posting_id))  # type: ignore[union-attr]

    def recommend(self, talent: TalentFacts, k: int = 20) -> list[tuple[PostingFacts, Score]]:
        """The talent's top k with reasons: chosen by the vector scores, explained (and
        ordered) by ``scoring.score``."""
        out: list[tuple[PostingFacts, Score]] = []
        for posting, _vector in self.top_for_talent(talent, k):
            result = scoring.score(talent, posting, self.weights)
            if result is not None:
                out.append((posting, result))
        out.sort(key=lambda pair: (-pair[1].total, pair[0].posting_id))
        return out

    # --- many talents -------------------------------------------------------------------------

    def encode(self, talents: Sequence[TalentFacts]) -> TalentBatch:
        major_ids: dict[tuple[Any, ...], int] = {}
        base_ids: dict[tuple[int, int | None, int, bool], int] = {}
        n = len(talents)
        major_group = np.empty(n, dtype=np.int64)
        base_group = np.empty(n, dtype=np.int64)
        towns = _Triplets()
        divisions = _Triplets()
        sections = _Triplets()
        skills = _Triplets()
        for i, t in enumerate(talents):
            key = (t.major_id, t.category_id, t.occupations)
            major_group[i] = major_ids.setdefault(key, len(major_ids))
            base = (t.level_rank, t.graduation_year, t.expected_salary or 0, t.is_native)
            base_group[i] = base_ids.setdefault(base, len(base_ids))
            cells: dict[int, float] = {}
            home = self.town_col.get(t.home_town_id) if t.home_town_id is not None else None
            if home:
                cells[home] = scoring.FIT_HOME_TOWN
            for town in t.preferred_town_ids:
                if col := self.town_col.get(town):
                    cells[col] = 1.0
            towns.extend(i, cells)
            divisions.extend(
                i,
                {col: 1.0 for d in t.preferred_division_ids if (col := self.division_col.get(d))},
            )
            near: dict[int, float] = {}
            for section in t.near_section_ids:
                if col := self.section_col.get(section):
                    near[col] = scoring.FIT_NEAR_SECTION
            for section in t.preferred_section_ids:
                if col := self.section_col.get(section):
                    near[col] = 1.0
            sections.extend(i, near)
            skills.extend(
                i, {col: 1.0 for tok in t.skills if (col := self.token_col.get(tok)) is not None}
            )
        return TalentBatch(
            facts=list(talents),
            major_group=major_group,
            base_group=base_group,
            towns=towns.csr(n, len(self.town_col)),
            divisions=divisions.csr(n, len(self.division_col)),
            sections=sections.csr(n, len(self.section_col)),
            skills=skills.csr(n, len(self.token_col)),
            major_keys=list(major_ids),
            base_keys=list(base_ids),
        )

    def _base_row(self, level_rank: int, year: int | None, salary: int, native: bool) -> np.ndarray:
        row = self._level_timing_row(level_rank, year) + self._salary_row(salary)
        if native:
            row += self._boost_row()
        return row

    def _tables(self, batch: TalentBatch) -> dict[str, Any]:
        """Per-group rows (float32) and the posting side, for this batch and index state.

        Columns are in "place" order (slots sorted by town, division and section), so that
        the town and industry part of a block is a run-length expansion of a small table;
        ``perm[position]`` is the slot at each position."""
        cached = self._cache.get("tables")
        if cached is not None and cached[0] is batch:
            return cached[1]
        town = self._town.view()
        division = self._division.view()
        section = self._section.view()
        place = (town.astype(np.int64) * len(self.division_col) + division) * len(
            self.section_col
        ) + section
        perm = np.argsort(place, kind="stable")
        places, place_of_position = np.unique(place[perm], return_inverse=True)
        combo_section = places % len(self.section_col)
        combo_division = (places // len(self.section_col)) % len(self.division_col)
        combo_town = places // (len(self.section_col) * len(self.division_col))

        def stack(rows: list[np.ndarray]) -> np.ndarray:
            if not rows:
                return np.zeros((1, self.n_slots), dtype=np.float32)
            return np.ascontiguousarray(np.vstack(rows)[:, perm], dtype=np.float32)

        tables = {
            "perm": perm,
            "position": np.argsort(perm),
            "major": stack([self._major_row(m, c, o) for m, c, o in batch.major_keys]),
            "base": stack([self._base_row(*key) for key in batch.base_keys]),
            "place": place_of_position.astype(np.int64),
            # Positions per place (``place`` is sorted: a place's positions are a run).
            "place_runs": np.bincount(place_of_position, minlength=len(places)),
            "combo_town": combo_town,
            "combo_division": combo_division,
            "combo_section": combo_section,
            "tokens": self._token_matrix()[:, perm].tocsr(),
        }
        self._cache["tables"] = (batch, tables)
        return tables

    def _token_matrix(self) -> sparse.csr_matrix:
        """token x slot (1 where the posting has the token), for skills x postings products."""
        rows: list[int] = []
        cols: list[int] = []
        for token, (slots, _values) in self._by_token.lists.items():
            rows += [self.token_col[token]] * len(slots)
            cols += slots
        return sparse.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, cols)),
            shape=(max(len(self.token_col), 1), self.n_slots),
        )

    def _place_lut(
        self, batch: TalentBatch, start: int, stop: int, t: dict[str, Any]
    ) -> np.ndarray | None:
        """Town and industry points of talents start..stop for each place (town, division,
        section) that postings have: (talents x places), or None when nobody has any."""
        towns = batch.towns[start:stop]
        divisions = batch.divisions[start:stop]
        sections = batch.sections[start:stop]
        if not (towns.nnz or divisions.nnz or sections.nnz):
            return None
        w = self.weights
        lut = w.town * towns.toarray()[:, t["combo_town"]]
        lut += w.industry * np.maximum(
            divisions.toarray()[:, t["combo_division"]],
            sections.toarray()[:, t["combo_section"]],
        )
        return np.ascontiguousarray(lut, dtype=np.float32)

    def _skill_points(
        self, batch: TalentBatch, start: int, stop: int, t: dict[str, Any]
    ) -> sparse.csr_matrix | None:
        skills = batch.skills[start:stop]
        if not skills.nnz:
            return None
        matched = (skills @ t["tokens"]).tocsr()
        if not matched.nnz:
            return None
        w = self.weights
        matched.data = (
            np.minimum(matched.data, scoring.SKILLS_FULL)
            * np.float32(w.skills / scoring.SKILLS_FULL)
        ).astype(np.float32)
        return matched

    def _fill(
        self,
        batch: TalentBatch,
        start: int,
        stop: int,
        t: dict[str, Any],
        out: np.ndarray,
        lut: np.ndarray | None,
        skills: sparse.csr_matrix | None,
        offset: int = 0,
        scratch: np.ndarray | None = None,
    ) -> np.ndarray:
        """Totals of talents start..stop (float32, place order) into ``out``. ``lut`` and
        ``skills`` hold rows from ``offset`` (the start of the larger block they were made
        for). Row by row for the gathers: each row stays in the cache, which on this kind of
        machine is several times faster than one big fancy-indexed gather."""
        major, base = t["major"], t["base"]
        major_group, base_group = batch.major_group, batch.base_group
        for i in range(start, stop):
            np.add(major[major_group[i]], base[base_group[i]], out=out[i - start])
        if lut is not None:
            # Each place's points repeated over its run of positions (several times faster
            # than the same gather by ``np.take``; the same values).
            out += np.repeat(lut[start - offset : stop - offset], t["place_runs"], axis=1)
        if skills is not None:
            _accumulate(skills[start - offset : stop - offset], out)
        return out

    def score_block(self, batch: TalentBatch, start: int, stop: int) -> np.ndarray:
        """Totals of talents start..stop against every slot (slot order; for tests and
        benchmarks: the engine itself works in place order)."""
        t = self._tables(batch)
        out = np.empty((stop - start, self.n_slots), dtype=np.float32)
        self._fill(
            batch,
            start,
            stop,
            t,
            out,
            self._place_lut(batch, start, stop, t),
            self._skill_points(batch, start, stop, t),
            offset=start,
        )
        return out[:, t["position"]]

    def scores_for_posting(self, batch: TalentBatch, posting_id: int) -> np.ndarray:
        """Every talent's total for one posting (-inf: excluded)."""
        slot = self.slot_of.get(posting_id)
        if slot is None:
            return np.full(len(batch), NEG, dtype=np.float32)
        t = self._tables(batch)
        w = self.weights
        col = int(t["position"][slot])
        total = t["major"][batch.major_group, col] + t["base"][batch.base_group, col]
        place = t["place"][col]
        towns = batch.towns[:, [int(t["combo_town"][place])]].toarray().ravel()
        division = batch.divisions[:, [int(t["combo_division"][place])]].toarray().ravel()
        section = batch.sections[:, [int(t["combo_section"][place])]].toarray().ravel()
        total = total + w.town * towns + w.industry * np.maximum(division, section)
        matched = (batch.skills @ t["tokens"][:, [col]]).toarray().ravel()
        total = total + w.skills * np.minimum(matched, scoring.SKILLS_FULL) / scoring.SKILLS_FULL
        return total.astype(np.float32)

    def top_all(
        self,
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
            self._fill(
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

        def work(chunk_starts: list[int]) -> _ColumnTop:
            best = _ColumnTop(posting_k, p)
            best.threshold = initial.copy()
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
                    block = self._fill(
                        batch, s, e, t, buffer[: e - s], lut, skills, offset=start, scratch=scratch
                    )
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
            return best

        groups = [g for g in (starts[i::workers] for i in range(max(workers, 1))) if g]
        pool_total = (
            _pool_counts(t["base"], batch.base_group, pool_groups)
            if pool_groups is not None
            else {}
        )
        if len(groups) > 1:
            with ThreadPoolExecutor(max_workers=len(groups)) as executor:
                results = list(executor.map(work, groups))
        else:
            results = [work(g) for g in groups]
        merged = _ColumnTop(posting_k, p)
        for part in results:
            merged.merge(part)
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

    def talent_top(self, result: AllTop, row: int) -> list[tuple[PostingFacts, float]]:
        out = []
        for slot, value in zip(result.talent_slots[row], result.talent_scores[row], strict=True):
            if slot >= 0 and math.isfinite(value):
                posting = self.facts[slot]
                if posting is not None:
                    out.append((posting, float(value)))
        return out


def _pool_counts(
    base: np.ndarray, base_group: np.ndarray, pool_groups: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Per column, how many talents pass the hard filters ("all"), and how many of each
    group. Only the base table (level, timing, closed) holds -inf, so a talent passes where
    its base group's row does: counts of talents per base group times the rows' passes."""
    passed = (base > NEG).astype(np.int64)
    out: dict[str, np.ndarray] = {}
    for name, mask in {"all": None, **pool_groups}.items():
        members = base_group if mask is None else base_group[mask]
        out[name] = np.bincount(members, minlength=len(base)).astype(np.int64) @ passed
    return out


def _subset(batch: TalentBatch, rows: np.ndarray) -> TalentBatch:
    return TalentBatch(
        facts=[batch.facts[i] for i in rows],
        major_group=batch.major_group[rows],
        base_group=batch.base_group[rows],
        towns=batch.towns[rows],
        divisions=batch.divisions[rows],
        sections=batch.sections[rows],
        skills=batch.skills[rows],
        major_keys=batch.major_keys,
        base_keys=batch.base_keys,
    )


class _Triplets:
    def __init__(self) -> None:
        self.rows: list[int] = []
        self.cols: list[int] = []
        self.vals: list[float] = []

    def extend(self, row: int, cells: dict[int, float]) -> None:
        for col, value in cells.items():
            self.rows.append(row)
            self.cols.append(col)
            self.vals.append(value)

    def csr(self, n: int, width: int) -> sparse.csr_matrix:
        return sparse.csr_matrix(
            (np.asarray(self.vals, dtype=np.float32), (self.rows, self.cols)),
            shape=(n, max(width, 1)),
        )


try:  # scipy's own kernel: adds a CSR matrix into a dense array in place
    from scipy.sparse._sparsetools import csr_todense as _csr_add
except ImportError:  # pragma: no cover - a future scipy without it
    _csr_add = None


def _accumulate(matrix: sparse.csr_matrix, dense: np.ndarray) -> None:
    if _csr_add is not None and dense.flags.c_contiguous and dense.dtype == matrix.dtype:
        _csr_add(
            matrix.shape[0], matrix.shape[1], matrix.indptr, matrix.indices, matrix.data, dense
        )
    else:
        dense += matrix.toarray()


def _kth_group_max(values: np.ndarray, k: int, axis: int, groups: int = 64) -> np.ndarray:
    """A lower bound of the k-th largest value along an axis: the k-th largest of the maxima
    of ``groups`` slices. (k slices have a maximum at least that large, so k distinct values
    are at least that large.) -inf when the axis is too short to bound."""
    length = values.shape[axis]
    size = length // groups
    if size < 1 or groups < k:
        shape = list(values.shape)
        del shape[axis]
        return np.full(shape, NEG, dtype=values.dtype)
    body = values[:, : size * groups] if axis == 1 else values[: size * groups]
    if axis == 1:
        maxima = body.reshape(values.shape[0], groups, size).max(axis=2)
        tail = values[:, size * groups :]
        if tail.shape[1]:
            maxima = np.concatenate([maxima, tail.max(axis=1, keepdims=True)], axis=1)
        g = maxima.shape[1]
        return np.partition(maxima, g - k, axis=1)[:, g - k]
    maxima = body.reshape(groups, size, values.shape[1]).max(axis=1)
    tail = values[size * groups :]
    if tail.shape[0]:
        maxima = np.concatenate([maxima, tail.max(axis=0, keepdims=True)], axis=0)
    g = maxima.shape[0]
    return np.partition(maxima, g - k, axis=0)[g - k]


def _top_rows(block: np.ndarray, k: int, floor: np.float32) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the k largest values at least ``floor`` (positions, values), best first,
    padded with -1 / -inf. Only values above a cheap per-row bound are sorted."""
    n, p = block.shape
    bound = np.maximum(_kth_group_max(block, k, axis=1), floor)
    flat = np.flatnonzero(block >= bound[:, None])
    rows, cols = np.divmod(flat, p)
    vals = block.ravel()[flat]
    order = np.lexsort((cols, -vals, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    first = np.searchsorted(rows, np.arange(n))
    rank = np.arange(len(rows)) - first[rows]
    keep = rank < k
    idx = np.full((n, k), -1, dtype=np.int64)
    out = np.full((n, k), NEG, dtype=np.float32)
    idx[rows[keep], rank[keep]] = cols[keep]
    out[rows[keep], rank[keep]] = vals[keep]
    return idx, out


def _column_value_key(cols: np.ndarray, vals: np.ndarray) -> np.ndarray:
    """uint64 keys that sort as (column, -value): the column in the high 32 bits, the float32
    value's bits in the low 32, mapped so that they order as the values do (negative values'
    bits inverted, the sign bit set on the others; -0.0 made 0.0 first, so that they tie as
    equal floats do), then inverted for descending."""
    bits = (vals.astype(np.float32) + np.float32(0.0)).view(np.uint32)
    ascending = np.where(bits >> 31, ~bits, bits | np.uint32(0x80000000))
    return (cols.astype(np.uint64) << np.uint64(32)) | (~ascending).astype(np.uint64)


class _ColumnTop:
    """Per column (posting), the best ``k`` rows (talents) seen so far; stored one posting
    per row (columns x k) so that the per-posting work is contiguous."""

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
        # Candidates were taken against the thresholds of their block; those since risen
        # leave out values that can no longer enter (below k kept values: never chosen).
        fresh = vals >= self.threshold[cols]
        if not fresh.all():
            rows, cols, vals = rows[fresh], cols[fresh], vals[fresh]
        if not cols.size:
            return
        # By column, then value (best first), ties in the order given: one stable sort of a
        # 64-bit key (column, then the value's bits turned so that a larger value comes first)
        # is the order of ``np.lexsort((-vals, cols))``, in about half its time.
        order = np.argsort(_column_value_key(cols, vals), kind="stable")
        rows, cols, vals = rows[order], cols[order], vals[order]
        starts = np.flatnonzero(np.diff(cols, prepend=-1))
        affected = cols[starts]
        group = np.repeat(np.arange(len(starts)), np.diff(starts, append=len(cols)))
        rank = np.arange(len(cols)) - starts[group]
        keep = np.flatnonzero(rank < k)
        group, rank = group[keep], rank[keep]
        # Each affected column's k kept, then its best k new (padded): one array, filled in
        # place (the same values in the same places as stacking the two).
        all_rows = np.empty((len(affected), 2 * k), dtype=np.int64)
        all_vals = np.empty((len(affected), 2 * k), dtype=np.float32)
        all_rows[:, :k] = self.rows[affected]
        all_vals[:, :k] = self.vals[affected]
        all_rows[:, k:] = -1
        all_vals[:, k:] = NEG
        all_rows[group, rank + k] = rows[keep]
        all_vals[group, rank + k] = vals[keep]
        part = np.argpartition(all_vals, k, axis=1)[:, k:]  # the k largest of 2k
        kept = np.take_along_axis(all_vals, part, axis=1)
        self.rows[affected] = np.take_along_axis(all_rows, part, axis=1)
        self.vals[affected] = kept
        self.threshold[affected] = np.maximum(self.threshold[affected], kept.min(axis=1))

    def sorted(self) -> tuple[np.ndarray, np.ndarray]:
        """(k x columns) talents and totals, best first."""
        order = np.argsort(-self.vals, axis=1, kind="stable")
        vals = np.take_along_axis(self.vals, order, axis=1)
        rows = np.take_along_axis(self.rows, order, axis=1)
        rows[~np.isfinite(vals)] = -1
        return np.ascontiguousarray(rows.T), np.ascontiguousarray(vals.T)
