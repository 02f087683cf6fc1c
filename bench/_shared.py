"""What several benchmarks share: setting Django up in a worker process, and temporary
databases on the PostgreSQL server named by ``BENCH_PG_URL`` (or ``DATABASE_URL``).
Not a benchmark itself (``bench/run.py`` runs ``bench_*.py`` only)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

# What the load test's students type into the job search (bench/locustfile.py), and what
# bench/page_cost.py times the search with.
SEARCH_WORDS = [
    "工程师",
    "技术员",
    "销售",
    "会计",
    "机械",
    "电气",
    "质检",
    "文员",
    "设计",
    "数控",
    "物流",
    "行政",
]


def django_setup(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()


def pg_server_url() -> str | None:
    url = os.environ.get("BENCH_PG_URL") or os.environ.get("DATABASE_URL") or ""
    return url if url.startswith(("postgres://", "postgresql://")) else None


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def pg_admin(url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute(statement)


def pg_drop(url: str, name: str) -> None:
    """Drops a temporary database, waiting for autovacuum to leave it (WITH (FORCE) would
    need the right to end the autovacuum worker)."""
    import psycopg

    for _ in range(60):
        try:
            pg_admin(url, f'DROP DATABASE IF EXISTS "{name}"')
            return
        except psycopg.errors.ObjectInUse:
            time.sleep(1)
    print(f"postgresql: could not drop the temporary database {name}; drop it by hand")


def processes_cpu_seconds(keep: Callable[[int, int, int], bool]) -> float:
    """User + system CPU seconds of the live processes that ``keep(pid, ppid, pgrp)`` selects,
    from ``/proc/<pid>/stat`` (Linux)."""
    ticks = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if keep(int(entry.name), int(fields[1]), int(fields[2])):
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")
