"""`make bench`: runs every bench/bench_*.py in turn and lets each print its own figures.

PostgreSQL figures need BENCH_PG_URL (e.g. postgres://qinghe:qinghe@127.0.0.1:5432/qinghe_bench);
without it each benchmark says "postgresql: skipped (set BENCH_PG_URL)". The growth curves
(bench_growth.py, about an hour at 1M talents) are not run here: `make growth`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEPARATE = {"bench_growth.py": "make growth"}  # too long for this run


def main() -> int:
    failed = 0
    for script in sorted(HERE.glob("bench_*.py")):
        if script.name in SEPARATE:
            print(f"== {script.name}: not run here ({SEPARATE[script.name]})", flush=True)
            continue
        print(f"== {script.name}", flush=True)
        failed |= subprocess.run([sys.executable, str(script)], cwd=HERE.parent).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
