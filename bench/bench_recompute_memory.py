"""The full recompute in memory, today's code against the previous one in the same run:
prints measured figures and the ratio (issue 19, item 4: at most half).

    .venv/bin/python bench/bench_recompute_memory.py [--talents 100000] [--postings 20000]
                                                     [--repeat 1]

The world is ``bench_matching.make_world`` (talents and open postings as facts, no database).
Each run is a fresh process that generates the world, then times what
``recommendations_recompute_all`` does between fetching and writing, chunk by chunk as the
service does (5,000 talents, then 2,000 postings, at a time; each chunk's rows dropped once
built):

- "previous": ``bench/_baseline_recompute.py`` (the code before the change, frozen):
  the engine with its ``top_all``, then ``scoring.score`` for every stored pair and its
  reasons as dicts (the JSON field encoded them later, when writing: not counted here);
- "today": ``recompute.engine_from_facts`` and ``recompute.RecomputeRows`` (the same rows,
  reasons already as JSON text).

Both store every talent's top 20 and every posting's top 50 with reasons and the fairness rows.
Printed per run: seconds (engine, rows, whole), CPU seconds of the process, peak resident
memory (``ru_maxrss`` of the run's process, world included), the machine's load average; then
medians and the ratio today / previous. Runs alternate (previous, today, previous, ...) so
that both see the same machine. The tests (``test_scoring_rows``) hold both to the same rows.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

GOAL_RATIO = 0.5
GOAL_PEAK_MB = 1536.0


def worker(variant: str, talents: int, postings: int) -> dict[str, Any]:
    import tempfile

    from _shared import django_setup

    django_setup(f"sqlite:///{tempfile.gettempdir()}/qinghe-bench-recompute-memory.sqlite3")
    from bench_matching import make_world
    from django.utils import timezone

    from qinghe.core.gcpause import gc_paused
    from qinghe.matching.scoring import Weights
    from qinghe.matching.services import recompute

    facts, open_postings = make_world(talents, postings)
    weights = Weights()
    now = timezone.now()
    rss_world = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    cpu0 = time.process_time()
    started = time.perf_counter()
    if variant == "previous":
        import _baseline_recompute as baseline

        computed = baseline.baseline_engine_facts(facts, open_postings, weights)
        engine_s = time.perf_counter() - started

        def recommendations(rows: range) -> int:
            return len(baseline.baseline_recommendation_rows(computed, rows, now))

        def candidates(slots: list[int]) -> int:
            return len(baseline.baseline_candidate_rows(computed, slots, now)[0])

    else:
        computed = recompute.engine_from_facts(facts, open_postings, weights)
        engine_s = time.perf_counter() - started
        rows_of = recompute.RecomputeRows(computed)

        def recommendations(rows: range) -> int:
            return len(rows_of.recommendations(rows, now))

        def candidates(slots: list[int]) -> int:
            return len(rows_of.candidates(slots, now)[0])

    n_recommendations = n_candidates = 0
    for start in range(0, len(facts), recompute.RECOMPUTE_CHUNK_TALENTS):
        with gc_paused():
            n_recommendations += recommendations(
                range(start, min(start + recompute.RECOMPUTE_CHUNK_TALENTS, len(facts)))
            )
    slots = [s for s, f in enumerate(computed.index.facts) if f is not None]
    for start in range(0, len(slots), recompute.RECOMPUTE_CHUNK_POSTINGS):
        with gc_paused():
            n_candidates += candidates(slots[start : start + recompute.RECOMPUTE_CHUNK_POSTINGS])
    whole = time.perf_counter() - started
    return {
        "variant": variant,
        "engine_seconds": engine_s,
        "rows_seconds": whole - engine_s,
        "seconds": whole,
        "cpu_seconds": time.process_time() - cpu0,
        "recommendations": n_recommendations,
        "candidates": n_candidates,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "world_rss_mb": rss_world,
        "load": os.getloadavg()[0],
    }


def run(variant: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--worker",
        variant,
        "--talents",
        str(args.talents),
        "--postings",
        str(args.postings),
    ]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{variant} worker failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--talents", type=int, default=100_000)
    parser.add_argument("--postings", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each variant")
    parser.add_argument("--worker", choices=["previous", "today"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.talents, args.postings)))
        return 0

    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(
        f"full recompute in memory: {args.talents:,} talents x {args.postings:,} open postings, "
        f"today's code against the previous (bench/_baseline_recompute.py), {args.repeat} run(s) "
        f"each, alternating; machine: {os.cpu_count()} CPUs, load average {load}",
        flush=True,
    )
    results: dict[str, list[dict[str, Any]]] = {"previous": [], "today": []}
    for i in range(args.repeat):
        for variant in ("previous", "today"):
            r = run(variant, args)
            results[variant].append(r)
            print(
                f"  run {i + 1} {variant:8s}: whole {r['seconds']:6.1f} s (engine "
                f"{r['engine_seconds']:.1f}, rows {r['rows_seconds']:.1f}); CPU {r['cpu_seconds']:.1f} s; "
                f"{r['recommendations']:,} recommendations + {r['candidates']:,} candidates; "
                f"peak RSS {r['peak_rss_mb']:,.0f} MB (world alone {r['world_rss_mb']:,.0f} MB); "
                f"load {r['load']:.2f}",
                flush=True,
            )
    same = {(r["recommendations"], r["candidates"]) for rs in results.values() for r in rs}
    med = {
        v: {
            key: statistics.median(r[key] for r in rs)
            for key in ("seconds", "engine_seconds", "rows_seconds", "cpu_seconds", "peak_rss_mb")
        }
        for v, rs in results.items()
    }
    ratio = med["today"]["seconds"] / med["previous"]["seconds"]
    cpu_ratio = med["today"]["cpu_seconds"] / med["previous"]["cpu_seconds"]
    peak = med["today"]["peak_rss_mb"]
    for v in ("previous", "today"):
        m = med[v]
        print(
            f"  median {v:8s}: whole {m['seconds']:.1f} s (engine {m['engine_seconds']:.1f}, rows "
            f"{m['rows_seconds']:.1f}), CPU {m['cpu_seconds']:.1f} s, peak RSS {m['peak_rss_mb']:,.0f} MB"
        )
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(
        f"  ratio today / previous: {ratio:.2f} wall, {cpu_ratio:.2f} CPU (goal <= {GOAL_RATIO}: "
        f"{'met' if ratio <= GOAL_RATIO else 'NOT met'}); peak {peak:,.0f} MB (goal <= "
        f"{GOAL_PEAK_MB:,.0f} MB: {'met' if peak <= GOAL_PEAK_MB else 'NOT met'}); "
        f"same row counts: {'yes' if len(same) == 1 else 'NO'}; load average now {load}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
