"""Occupation classification quality: prints measured figures.

    .venv/bin/python bench/bench_classify.py [--folds 5] [--ablation]

The labelled set is built from the 2022 catalog itself (qinghe/reference/data/
occupations_2022.csv): every common job title (alias) that differs from its occupation's name
is a query labelled with that occupation (1,643 titles). The titles are held out of the index
they are ranked against, in two ways:

- k-fold: the titles are split into k folds; each fold is ranked against an index built with
  the other folds' titles only (how the classifier meets a title nobody listed yet);
- no titles: no alias at all in the index (names, definitions, tasks and groups only);
- learning curve: k-fold again, with only 0 %, 25 %, 50 % or all of the other folds' titles
  listed (what staff corrections buy: each correction becomes a listed title).

A second, smaller set is closer to what the platform meets: 87 job-board titles as Heshan
employers write them (some with the notes job boards add, "【急聘】", "（五险一金）", "8k-15k"),
labelled by the team with the occupation(s) a careful coder would accept
(bench/data/job_titles_labelled.csv). It is ranked against the whole catalog, aliases included,
as in production. It is small and hand-made: a sanity check, not a measure to tune against.

The rankers run on the same folds in the same process: the model of qinghe.matching.classify;
the same model without its sentence-embedding signal (the lexical blend alone); the sentence
embeddings alone (a title's cosine with each occupation's name and definition); and the
baseline, character 1-3-gram TF-IDF cosine over the same occupation texts.

The embedding model (multilingual-e5-small) was pre-trained by others on general text; it was
not trained on this catalog here, and nothing of a held-out title reaches the classifier but
the title itself. Its vectors for the catalog's texts are looked up in the shipped cache
(qinghe/matching/data/e5_catalog.npz); any other title is embedded when met.
Reported: top-1 and top-5 accuracy and MRR@10 (the mean of 1/rank of the right occupation
when it is in the first ten, else 0).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from qinghe.matching.classify import (  # noqa: E402
    BM25Classifier,
    CharTfidfBaseline,
    ClassifierParams,
    EmbeddingSignals,
    OccupationClassifier,
    docs_from_csv,
)
from qinghe.matching.embedding import default_encoder  # noqa: E402
from qinghe.matching.evaluation import (  # noqa: E402
    Metrics,
    evaluate,
    folds,
    labelled_set,
    without_aliases,
)


class EmbeddingAlone:
    """A title's cosine with each occupation's name and definition, nothing else."""

    name = "句向量单独（名称+定义余弦）"

    def __init__(self, docs: list) -> None:
        self.codes = [d.code for d in docs]
        self.signals = EmbeddingSignals(docs, default_encoder())

    def rank(self, queries: list[tuple[str, str]], k: int = 10) -> list[list[tuple[str, float]]]:
        definition, _, _ = self.signals.scores(queries)
        out = []
        for row in definition:
            order = sorted(range(len(row)), key=lambda j: (-row[j], self.codes[j]))[:k]
            out.append([(self.codes[j], float(row[j])) for j in order])
        return out


LEXICAL = "同上，不含句向量（词面信号）"


def run(
    name: str, make: object, docs: list, parts: list[list], keep: float = 1.0, quiet: bool = False
) -> dict[str, float]:
    """Each part ranked against an index without its titles; with ``keep`` < 1, the index also
    keeps only that share of the other parts' titles (the same ones for every ranker)."""
    metrics = Metrics()
    build = 0.0
    query = 0.0
    everything = [e for part in parts for e in part]
    for held in parts:
        held_titles = {e.title for e in held}
        if keep < 1.0:
            others = [e for e in everything if e.title not in held_titles]
            order = sorted(others, key=lambda e: (_rank_key(e.title), e.title))
            kept = {e.title for e in order[: round(len(order) * keep)]}
            held_titles |= {e.title for e in others if e.title not in kept}
        started = time.perf_counter()
        ranker = make(without_aliases(docs, held_titles))  # type: ignore[operator]
        build += time.perf_counter() - started
        started = time.perf_counter()
        evaluate(ranker, held, metrics)
        query += time.perf_counter() - started
    result = metrics.as_dict()
    result["build_s"] = build / len(parts)
    result["query_ms"] = query * 1000 / max(metrics.n, 1)
    if quiet:
        return result
    print(
        f"  {name:<44} top-1 {result['top1']:6.1%}   top-5 {result['top5']:6.1%}   "
        f"MRR@10 {result['mrr10']:.3f}   (n={metrics.n}; index {result['build_s']:.2f} s, "
        f"{result['query_ms']:.2f} ms/title)"
    )
    return result


def _rank_key(title: str) -> int:
    h = 7
    for ch in title:
        h = (h * 1_000_003 + ord(ch)) % 2_147_483_647
    return h


def learning_curve(docs: list, examples: list, k: int, params: ClassifierParams) -> None:
    """Top-1 on held-out titles as more titles are listed: what staff corrections, which
    become listed titles, buy."""
    parts = folds(examples, k)
    print(f"\n[learning curve: {k}-fold, share of the other titles listed in the index]")
    print(
        f"  {'listed':>8}   {'model top-1':>11}   {'lexical top-1':>13}   "
        f"{'baseline top-1':>14}   {'model MRR@10':>12}   {'baseline MRR@10':>15}"
    )
    lexical = replace(params, embedding=0.0)
    for keep in (0.0, 0.25, 0.5, 1.0):
        ours = run("", lambda d: OccupationClassifier(d, params), docs, parts, keep, quiet=True)
        lex = run("", lambda d: OccupationClassifier(d, lexical), docs, parts, keep, quiet=True)
        base = run("", CharTfidfBaseline, docs, parts, keep, quiet=True)
        print(
            f"  {keep:>8.0%}   {ours['top1']:>11.1%}   {lex['top1']:>13.1%}   "
            f"{base['top1']:>14.1%}   {ours['mrr10']:>12.3f}   {base['mrr10']:>15.3f}"
        )


def job_board_titles() -> list[tuple[str, set[str]]]:
    path = ROOT / "bench" / "data" / "job_titles_labelled.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        return [(row["title"], set(row["codes"].split())) for row in csv.DictReader(handle)]


def run_accepting(name: str, ranker: object, labelled: list[tuple[str, set[str]]]) -> dict:
    ranked = ranker.rank([(title, "") for title, _ in labelled], 10)  # type: ignore[attr-defined]
    top1 = top5 = mrr = 0.0
    for (_, accepted), result in zip(labelled, ranked, strict=True):
        for position, (code, _) in enumerate(result[:10], start=1):
            if code in accepted:
                top1 += position == 1
                top5 += position <= 5
                mrr += 1.0 / position
                break
    n = len(labelled)
    result = {"top1": top1 / n, "top5": top5 / n, "mrr10": mrr / n}
    print(
        f"  {name:<44} top-1 {result['top1']:6.1%}   top-5 {result['top5']:6.1%}   "
        f"MRR@10 {result['mrr10']:.3f}   (n={n})"
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--ablation", action="store_true", help="also run variants of BM25")
    args = parser.parse_args()

    docs = docs_from_csv()
    examples = labelled_set(docs)
    print("Occupation classification benchmark (qinghe.matching.classify)")
    print(f"  catalog: {len(docs)} detailed occupations; labelled titles: {len(examples)}")

    params = ClassifierParams()
    lexical = replace(params, embedding=0.0)
    setups = [
        (f"{args.folds}-fold, held-out titles", folds(examples, args.folds)),
        ("no titles in the index", [examples]),
    ]
    summary: list[tuple[str, dict[str, float], dict[str, float]]] = []
    for label, parts in setups:
        print(f"\n[{label}]")
        ours = run(
            OccupationClassifier.name, lambda d: OccupationClassifier(d, params), docs, parts
        )
        run(LEXICAL, lambda d: OccupationClassifier(d, lexical), docs, parts)
        run(EmbeddingAlone.name, EmbeddingAlone, docs, parts)
        base = run(CharTfidfBaseline.name, CharTfidfBaseline, docs, parts)
        summary.append((label, ours, base))
        if args.ablation:
            variants = {
                "without title neighbours": replace(params, neighbours=0.0),
                "without BM25F text": replace(params, text=0.0),
                "without the char TF-IDF voice": replace(params, chars=0.0),
                "without priors": replace(params, popularity=0.0, heads=0.0),
                "head counts as much as modifier": replace(params, head_weight=1.0),
                "embeddings: without the definition view": replace(
                    params, embedding_definition=0.0
                ),
                "embeddings: without the neighbour view": replace(params, embedding_neighbours=0.0),
                "embeddings: without the mapped view": replace(params, embedding_mapped=0.0),
            }
            for name, variant in variants.items():
                run(name, lambda d, v=variant: OccupationClassifier(d, v), docs, parts)
            run("BM25F alone", BM25Classifier, docs, parts)

    learning_curve(docs, examples, args.folds, params)

    labelled = job_board_titles()
    label = f"{len(labelled)} job-board titles"
    print(f"\n[{label}, whole catalog]")
    ours = run_accepting(OccupationClassifier.name, OccupationClassifier(docs, params), labelled)
    run_accepting(LEXICAL, OccupationClassifier(docs, lexical), labelled)
    base = run_accepting(CharTfidfBaseline.name, CharTfidfBaseline(docs), labelled)
    summary.append((label, ours, base))

    print("\nSummary (model vs baseline):")
    for label, ours, base in summary:
        print(
            f"  {label:<28} top-1 {ours['top1']:.1%} vs {base['top1']:.1%} "
            f"({(ours['top1'] - base['top1']) * 100:+.1f} pt)   "
            f"top-5 {ours['top5']:.1%} vs {base['top5']:.1%} "
            f"({(ours['top5'] - base['top5']) * 100:+.1f} pt)   "
            f"MRR@10 {ours['mrr10']:.3f} vs {base['mrr10']:.3f} "
            f"(x{ours['mrr10'] / max(base['mrr10'], 1e-9):.2f})"
        )


if __name__ == "__main__":
    main()
