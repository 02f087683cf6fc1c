"""Reads a traced load test (`bench/loadtest.py --trace DIR`): where in the minute the slow
requests fall, second by second, beside the machine's run queue and CPU (`vmstat 1`), and how
much of a request's time nginx saw the application take (`$upstream_response_time`).

    .venv/bin/python bench/latency_trace.py DIR [--slow 300]
"""

from __future__ import annotations

import argparse
import statistics
from collections import defaultdict
from pathlib import Path


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def read_requests(path: Path) -> list[tuple[float, str, float, int]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        start, name, ms, failed = line.split("\t")
        rows.append((float(start), name, float(ms), int(failed)))
    return rows


def read_events(path: Path) -> dict[str, float]:
    events = {}
    for line in path.read_text().splitlines():
        when, what = line.split("\t", 1)
        events[what] = float(when)
    return events


def read_vmstat(path: Path) -> dict[str, dict[str, int]]:
    """vmstat -n -t 1: keyed by HH:MM:SS (UTC of the machine)."""
    lines = path.read_text().splitlines()
    header = next(line.split() for line in lines if line.split()[:2] == ["r", "b"])
    out = {}
    for line in lines:
        parts = line.split()
        if not parts or not parts[0].isdigit():
            continue
        values = dict(zip(header, parts, strict=False))
        out[parts[-1]] = {k: int(v) for k, v in values.items() if v.isdigit()}
    return out


def nginx_times(path: Path) -> list[tuple[float, float]]:
    """(request_time, upstream_response_time) in ms of the application's requests."""
    out = []
    for line in path.read_text(errors="replace").splitlines():
        parts = line.split()
        if len(parts) < 2 or parts[-1] == "-" or "/static/" in line:
            continue
        try:
            out.append((float(parts[-2]) * 1000, float(parts[-1]) * 1000))
        except ValueError:
            continue
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("trace", type=Path)
    parser.add_argument("--slow", type=float, default=300.0)
    args = parser.parse_args()
    events = read_events(args.trace / "events.tsv")
    # the measured seconds (after loadtest.py's warm-up; the warm-up's seconds are negative)
    t0 = events.get("measured seconds start", events["mix starts"])
    requests = read_requests(args.trace / "requests-mix.tsv")
    students = [r for r in requests if r[1].startswith("student")]
    print(
        f"mix requests {len(requests)}, student {len(students)}; seconds from the measured start (negative: the warm-up)"
    )
    # Whole run, then after the first 5, 10, 20 s (ramp and cold start excluded)
    for skip in (0, 5, 10, 20, 30):
        ms = [r[2] for r in students if r[0] - t0 >= skip]
        print(
            f"  students from {skip:>2} s: n {len(ms):>5} median {pct(ms, 0.5):>5.0f} "
            f"p95 {pct(ms, 0.95):>5.0f} p99 {pct(ms, 0.99):>5.0f} max {max(ms, default=0):>5.0f}"
        )
    vm = read_vmstat(args.trace / "vmstat.txt") if (args.trace / "vmstat.txt").exists() else {}
    import time

    per_second: dict[int, list[float]] = defaultdict(list)
    everyone: dict[int, list[float]] = defaultdict(list)
    for start, name, ms, _ in requests:
        everyone[int(start - t0)].append(ms)
        if name.startswith("student"):
            per_second[int(start - t0)].append(ms)
    print(
        f"\n{'s':>3} {'reqs':>4} {'stud':>4} {'med':>5} {'max':>5} {'>' + str(int(args.slow)):>5}"
        "   vmstat r  b us sy id wa st"
    )
    for second in sorted(everyone):
        ms = per_second.get(second, [])
        stamp = time.strftime("%H:%M:%S", time.gmtime(t0 + second))
        v = vm.get(stamp, {})
        vmtext = " ".join(f"{v.get(k, 0):>2}" for k in ("r", "b", "us", "sy", "id", "wa", "st"))
        slow = sum(1 for m in everyone[second] if m > args.slow)
        print(
            f"{second:>3} {len(everyone[second]):>4} {len(ms):>4} "
            f"{statistics.median(ms) if ms else 0:>5.0f} {max(ms, default=0):>5.0f} {slow:>5}"
            f"   {vmtext}"
        )
    access = args.trace / "logs" / "qinghe.access.log"
    if access.exists():
        times = nginx_times(access)
        whole = [t for t, _ in times]
        upstream = [u for _, u in times]
        gap = [t - u for t, u in times]
        print(f"\nnginx, every application request of the run ({len(times)}):")
        for label, values in (("request_time", whole), ("upstream", upstream), ("nginx own", gap)):
            print(
                f"  {label:<13} median {pct(values, 0.5):>6.0f} p95 {pct(values, 0.95):>6.0f} "
                f"p99 {pct(values, 0.99):>6.0f} max {max(values, default=0):>6.0f} ms"
            )


if __name__ == "__main__":
    main()
