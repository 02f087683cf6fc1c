"""Occupation classification of job titles and postings: BM25 over the 2022 occupation
catalog, and the character n-gram TF-IDF baseline it is measured against. Pure: documents
come in as plain dataclasses (from the database through ``fetch.occupation_docs`` or from
the catalog file through ``docs_from_csv``), no ORM here.

The ranking model is a field-weighted BM25 (BM25F-style: each field's term frequency is
weighted before saturation) over two views of the text, jieba words and character bigrams.
An occupation's document is its name (weighted highest), its common job titles (aliases),
its definition, its main tasks, and the names of the groups above it (小类, 中类), so that
"工程师" finds 工程技术人员 even when the occupation's own text does not say it. A query is the
title (weighted, widened with the catalog's words for job-title words) plus the description.
Finally each score borrows a little from the best sibling in the same 小类 (the catalog's
structure as a prior): a title that fits a family well lifts the family's members."""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from scipy import sparse

from . import text

CATALOG_CSV = Path(__file__).resolve().parent.parent / "reference" / "data" / "occupations_2022.csv"
_FLAGS = re.compile(r"(?<=[^A-Za-z/])(L/S|S/L|L|S)$")


@dataclass(frozen=True)
class OccupationDoc:
    code: str
    name: str
    aliases: tuple[str, ...] = ()
    definition: str = ""
    tasks: str = ""
    # Names of the 小类 and 中类 above it (when the catalog has them).
    groups: tuple[str, ...] = ()


def minor_group(code: str) -> str:
    """2-02-10-03 -> 2-02-10 (the 小类)."""
    return "-".join(code.split("-")[:3])


def sub_major_group(code: str) -> str:
    """2-02-10-03 -> 2-02 (the 中类)."""
    return "-".join(code.split("-")[:2])


def docs_from_rows(rows: Iterable[dict[str, str]]) -> list[OccupationDoc]:
    """Detailed occupations (level 4) from catalog rows (the CSV's columns), with the names
    of their groups; duplicate codes are kept once, as the reference loader does."""
    rows = list(rows)
    group_names: dict[tuple[str, int], str] = {}
    for row in rows:
        level = int(row["level"])
        if level in (2, 3):
            group_names[(row["code"], level)] = _FLAGS.sub("", row["name"]).strip()
    docs: dict[str, OccupationDoc] = {}
    for row in rows:
        if int(row["level"]) != 4 or row["code"] in docs:
            continue
        name = _FLAGS.sub("", row["name"]).strip()
        aliases = [a.strip() for a in re.split(r"[,，]", row.get("alias", "")) if a.strip()]
        aliases = [a for a in dict.fromkeys(aliases) if a not in {name, row["name"]}]
        code = row["code"]
        parts = code.split("-")
        groups = tuple(
            n
            for n in (
                group_names.get(("-".join(parts[:3] + ["00"]), 3)),
                group_names.get(("-".join(parts[:2] + ["00", "00"]), 2)),
            )
            if n and n != name
        )
        docs[code] = OccupationDoc(
            code=code,
            name=name,
            aliases=tuple(aliases),
            definition=row.get("definition", "") or "",
            tasks=row.get("tasks", "") or "",
            groups=groups,
        )
    return list(docs.values())


def docs_from_csv(path: Path = CATALOG_CSV) -> list[OccupationDoc]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return docs_from_rows(csv.DictReader(handle))


@dataclass(frozen=True)
class BM25Params:
    k1: float = 1.2
    b: float = 0.75
    # Field weights (term frequency multipliers before saturation).
    name: float = 3.0
    aliases: float = 2.0
    definition: float = 1.0
    tasks: float = 0.6
    groups: float = 1.0
    # The bigram view counts this much of a word.
    bigram: float = 0.6
    # Query: the title counts this much of the description; synonyms this much of the title.
    title: float = 3.0
    synonyms: float = 0.5
    description_chars: int = 600
    # Share of the best sibling's score (same 小类) added to each score.
    group_prior: float = 0.15
    use_aliases: bool = True


@dataclass
class _Vocab:
    index: dict[str, int] = field(default_factory=dict)

    def ids(self, terms: dict[str, float], *, grow: bool) -> tuple[list[int], list[float]]:
        cols: list[int] = []
        vals: list[float] = []
        for term, weight in terms.items():
            col = self.index.get(term)
            if col is None:
                if not grow:
                    continue
                col = self.index[term] = len(self.index)
            cols.append(col)
            vals.append(weight)
        return cols, vals


def _merge(target: dict[str, float], terms: dict[str, float], weight: float) -> None:
    if not weight:
        return
    for term, tf in terms.items():
        target[term] = target.get(term, 0.0) + tf * weight


class BM25Classifier:
    """Ranks occupations for a title (and optional description)."""

    name = "BM25（jieba 词 + 字二元组，字段加权，小类先验）"

    def __init__(self, docs: Sequence[OccupationDoc], params: BM25Params | None = None) -> None:
        self.params = p = params or BM25Params()
        self.docs = list(docs)
        self.codes = [d.code for d in self.docs]
        self.position = {code: i for i, code in enumerate(self.codes)}
        self.vocab = _Vocab()
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        for i, doc in enumerate(self.docs):
            tf: dict[str, float] = {}
            _merge(tf, text.analyse(doc.name, bigram_weight=p.bigram), p.name)
            if p.use_aliases:
                for alias in doc.aliases:
                    _merge(tf, text.analyse(alias, bigram_weight=p.bigram), p.aliases)
            _merge(tf, text.analyse(doc.definition, bigram_weight=p.bigram), p.definition)
            _merge(tf, text.analyse(doc.tasks, bigram_weight=p.bigram), p.tasks)
            for group in doc.groups:
                _merge(tf, text.analyse(group, bigram_weight=p.bigram), p.groups)
            c, v = self.vocab.ids(tf, grow=True)
            rows += [i] * len(c)
            cols += c
            vals += v
        n_docs, n_terms = len(self.docs), len(self.vocab.index)
        tf_matrix = sparse.csr_matrix(
            (np.asarray(vals, dtype=np.float64), (rows, cols)), shape=(n_docs, n_terms)
        )
        lengths = np.asarray(tf_matrix.sum(axis=1)).ravel()
        avg = float(lengths.mean()) if n_docs else 1.0
        df = np.bincount(tf_matrix.indices, minlength=n_terms)
        idf = np.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))
        coo = tf_matrix.tocoo()
        norm = p.k1 * (1.0 - p.b + p.b * lengths[coo.row] / avg)
        weights = idf[coo.col] * coo.data * (p.k1 + 1.0) / (coo.data + norm)
        # Terms x documents, so that queries (rows) times this give documents.
        self.matrix = sparse.csr_matrix(
            (weights, (coo.col, coo.row)), shape=(n_terms, n_docs)
        ).tocsr()
        groups = [minor_group(code) for code in self.codes]
        group_ids = {g: i for i, g in enumerate(dict.fromkeys(groups))}
        self.group_of = np.asarray([group_ids[g] for g in groups], dtype=np.int64)
        self.n_groups = len(group_ids)

    def query_terms(self, title: str, description: str = "") -> dict[str, float]:
        p = self.params
        terms: dict[str, float] = {}
        _merge(terms, text.analyse(title, bigram_weight=p.bigram), p.title)
        expanded = text.expand_title(title)
        if expanded != text.normalise(title):
            extra = expanded[len(text.normalise(title)) :]
            _merge(terms, text.analyse(extra, bigram_weight=p.bigram), p.title * p.synonyms)
        if description:
            _merge(
                terms,
                text.analyse(description[: p.description_chars], bigram_weight=p.bigram),
                1.0,
            )
        return terms

    def _query_matrix(self, queries: Sequence[tuple[str, str]]) -> sparse.csr_matrix:
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        for i, (title, description) in enumerate(queries):
            c, v = self.vocab.ids(self.query_terms(title, description), grow=False)
            rows += [i] * len(c)
            cols += c
            vals += v
        return sparse.csr_matrix(
            (np.asarray(vals, dtype=np.float64), (rows, cols)),
            shape=(len(queries), len(self.vocab.index)),
        )

    def scores(self, queries: Sequence[tuple[str, str]]) -> np.ndarray:
        """(queries x occupations) scores."""
        raw = np.asarray((self._query_matrix(queries) @ self.matrix).todense())
        if self.params.group_prior and raw.size:
            best = np.zeros((raw.shape[0], self.n_groups))
            np.maximum.at(best.T, self.group_of, raw.T)
            raw = raw + self.params.group_prior * best[:, self.group_of]
        return raw

    def rank(
        self, queries: Sequence[tuple[str, str]], k: int = 10
    ) -> list[list[tuple[str, float]]]:
        return _top(self.scores(queries), self.codes, k)

    def top(self, title: str, description: str = "", k: int = 5) -> list[tuple[str, float]]:
        return self.rank([(title, description)], k)[0]


class CharTfidfBaseline:
    """The baseline: character 1-3-gram TF-IDF (sublinear tf, smoothed idf, l2) of the whole
    occupation text against the title's, ranked by cosine. What scikit-learn's
    ``TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True)`` does."""

    name = "基线：字 1-3 元组 TF-IDF 余弦"

    def __init__(self, docs: Sequence[OccupationDoc], *, use_aliases: bool = True) -> None:
        self.docs = list(docs)
        self.codes = [d.code for d in self.docs]
        self.vocab = _Vocab()
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        for i, doc in enumerate(self.docs):
            parts = [doc.name, *(doc.aliases if use_aliases else ()), doc.definition, doc.tasks]
            counts = text.char_range_ngrams(" ".join(parts))
            c, v = self.vocab.ids(counts, grow=True)
            rows += [i] * len(c)
            cols += c
            vals += v
        n_docs, n_terms = len(self.docs), len(self.vocab.index)
        tf = sparse.csr_matrix(
            (np.asarray(vals, dtype=np.float64), (rows, cols)), shape=(n_docs, n_terms)
        )
        df = np.bincount(tf.indices, minlength=n_terms)
        self.idf = np.log((1.0 + n_docs) / (1.0 + df)) + 1.0
        tf.data = 1.0 + np.log(tf.data)
        tf = tf.multiply(self.idf[np.newaxis, :]).tocsr()
        self.matrix = _l2_rows(tf).T.tocsr()

    def scores(self, queries: Sequence[tuple[str, str]]) -> np.ndarray:
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        for i, (title, description) in enumerate(queries):
            c, v = self.vocab.ids(
                text.char_range_ngrams(text.join_nonempty([title, description])), grow=False
            )
            rows += [i] * len(c)
            cols += c
            vals += v
        q = sparse.csr_matrix(
            (np.asarray(vals, dtype=np.float64), (rows, cols)),
            shape=(len(queries), len(self.vocab.index)),
        )
        q.data = 1.0 + np.log(q.data)
        q = _l2_rows(q.multiply(self.idf[np.newaxis, :]).tocsr())
        return np.asarray((q @ self.matrix).todense())

    def rank(
        self, queries: Sequence[tuple[str, str]], k: int = 10
    ) -> list[list[tuple[str, float]]]:
        return _top(self.scores(queries), self.codes, k)


def _l2_rows(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.diags(1.0 / norms) @ matrix


def _top(scores: np.ndarray, codes: Sequence[str], k: int) -> list[list[tuple[str, float]]]:
    out: list[list[tuple[str, float]]] = []
    k = min(k, scores.shape[1]) if scores.ndim == 2 else 0
    for row in scores:
        if k <= 0:
            out.append([])
            continue
        idx = np.argpartition(-row, k - 1)[:k]
        # Ties broken by code, so that the output is deterministic.
        idx = sorted(idx, key=lambda j: (-row[j], codes[j]))
        out.append([(codes[j], float(row[j])) for j in idx if row[j] > 0])
    return out


def shares(ranked: Sequence[tuple[str, float]]) -> list[tuple[str, float]]:
    """Scores turned into shares that add up to 1 (the posting's occupation distribution)."""
    total = sum(max(s, 0.0) for _, s in ranked)
    if total <= 0:
        return [(code, 1.0 / len(ranked)) for code, _ in ranked] if ranked else []
    return [(code, max(s, 0.0) / total) for code, s in ranked]


# --- evaluation on a labelled set built from the catalog itself ------------------------------


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

    def as_dict(self) -> dict[str, float]:
        n = max(self.n, 1)
        return {
            "n": self.n,
            "top1": self.top1 / n,
            "top5": self.top5 / n,
            "mrr10": self.mrr10 / n,
        }


def evaluate(ranker: object, examples: Sequence[Example], metrics: Metrics | None = None) -> Metrics:
    metrics = metrics or Metrics()
    ranked = ranker.rank([(e.title, "") for e in examples], 10)  # type: ignore[attr-defined]
    for example, result in zip(examples, ranked, strict=True):
        metrics.add([code for code, _ in result], example.code)
    return metrics


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
