"""What serving a request costs the application server, by gunicorn worker class: the CPU of
gunicorn's processes (master and workers, every thread) per request, for the same Django views
with the production settings on the load test's prepared database (var/loadtest/, bench/loadtest.py).

    .venv/bin/python bench/serving_cost.py [--requests 400] [--rounds 2]

For each worker class in turn — uvicorn on config.asgi (production's), gunicorn's gthread and
sync on config.wsgi — starts gunicorn with one worker straight on a local port (no nginx: TLS is
the same for every class), warms it up, then asks each path ``--requests`` times over one
keep-alive connection, one request at a time, and reads the user + system time of gunicorn's
process group from /proc before and after. The classes run in turn ``--rounds`` times (the
machine is shared: compare figures of the same round). Prints the CPU per request in ms.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "bench"))
from _shared import processes_cpu_seconds  # noqa: E402
from privatepg import PrivatePostgres  # noqa: E402
from prodstack import HOST, VENV_BIN, Stack, http_ok, wait_for  # noqa: E402

CLASSES = {
    "uvicorn (ASGI)": ["--worker-class", "qinghe.realtime.worker.UvicornWorker", "config.asgi:application"],
    "uvicorn, Django's handler": ["--worker-class", "qinghe.realtime.worker.UvicornWorker", "--pythonpath", "bench", "asgi_stock:application"],
    "gthread (WSGI)": ["--worker-class", "gthread", "--threads", "4", "config.wsgi:application"],
    "sync (WSGI)": ["--worker-class", "sync", "config.wsgi:application"],
}  # fmt: skip
PATHS = ["/healthz", "/accounts/login/"]


def group_cpu(pgid: int) -> float:
    return processes_cpu_seconds(lambda _pid, _ppid, pgrp: pgrp == pgid)


def ask(port: int, path: str, n: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Host": HOST, "X-Forwarded-Proto": "https"}
    for _ in range(n):
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status}")
    conn.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--database", default="qinghe_load")
    args = parser.parse_args()
    pg = PrivatePostgres(keep=ROOT / "var" / "loadtest" / "pg")
    results: dict[tuple[str, str], list[float]] = {}
    try:
        with Stack(database=args.database, keep_database=True, pg_server=pg.url) as stack:
            stack.env["STATIC_ROOT"] = str(ROOT / "var" / "loadtest" / "static")  # its manifest
            stack.start_redis()
            print(f"load average before: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
            for round_ in range(args.rounds):
                for name, argv in CLASSES.items():
                    proc = stack.spawn(
                        "web",
                        [
                            str(VENV_BIN / "gunicorn"), "-c", "config/gunicorn.conf.py",
                            "--no-control-socket", "--workers", "1",
                            "--bind", f"127.0.0.1:{stack.app_port}", *argv,
                        ],
                    )  # fmt: skip
                    wait_for(
                        lambda: http_ok(f"http://127.0.0.1:{stack.app_port}/healthz", host=HOST),
                        "gunicorn",
                        proc,
                        timeout=120,
                    )
                    pgid = os.getpgid(proc.popen.pid)
                    for path in PATHS:
                        ask(stack.app_port, path, 30)  # warm-up
                        before = group_cpu(pgid)
                        ask(stack.app_port, path, args.requests)
                        per = (group_cpu(pgid) - before) * 1000 / args.requests
                        results.setdefault((name, path), []).append(per)
                        print(
                            f"round {round_ + 1}: {name:<16} {path:<18} {per:6.2f} ms CPU/request",
                            flush=True,
                        )
                    stack.stop_proc("web")
                    time.sleep(1)
            print(f"load average after: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
            for (name, path), figures in results.items():
                print(
                    f"{name:<16} {path:<18} median {statistics.median(figures):6.2f} ms ({figures})"
                )
    finally:
        pg.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
