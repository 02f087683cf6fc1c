"""Where a survey import's wall time goes on PostgreSQL: one import into a new database, with
wall-clock timers around its steps.

    .venv/bin/python bench/profile_import.py var/bench/survey-100000.xlsx \
        --database-url postgres://qinghe:qinghe@127.0.0.1:5432/postgres --name qinghe_x_prof

Prints the wall time, the client's CPU (both threads), the server backend's CPU (from /proc,
so the server must run on this machine) and, in seconds over the whole import: reading the
file (``open_table``), the chunks (``process``), their writes (``flush``: all of a chunk's
INSERTs and UPDATEs), each table's INSERT (``insert:<model>``) and, within it, the wait at the
end of its COPY while the server inserts, indexes and checks the rows the client has sent
(``copy_end:<model>``: the read-ahead thread parses meanwhile), the waits for the read-ahead
thread's next chunk (``next_chunk``) and the commits. ``process`` minus ``flush`` is the
chunks' look-ups and matching, when the server is mostly idle. When chunks overlap (the
default on PostgreSQL) ``overlap:compute`` is the look-ups and matching, ``overlap:write`` the
writes in the writer thread, and ``overlap:wait_for_writes`` the importing thread's waits for
them; the server CPU then adds the writer's connections.

The database is created, migrated and dropped by this script: give it a name of your own."""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from _shared import django_setup, pg_admin, pg_drop, with_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

seconds: collections.Counter[str] = collections.Counter()
calls: collections.Counter[str] = collections.Counter()


def _timed(owner: Any, attr: str, key: str) -> None:
    original = getattr(owner, attr)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            seconds[key] += time.perf_counter() - started
            calls[key] += 1

    setattr(owner, attr, wrapper)


def _instrument() -> None:
    from qinghe.talents.importing import chunks, reader, run

    current = ["?"]
    insert_records = chunks.insert_records

    def timed_insert(model: Any, records: Any, **kwargs: Any) -> None:
        current[0] = model.__name__
        started = time.perf_counter()
        try:
            insert_records(model, records, **kwargs)
        finally:
            seconds[f"insert:{model.__name__}"] += time.perf_counter() - started

    chunks.insert_records = timed_insert  # type: ignore[assignment]
    running = reader.ReadAhead.running

    @contextlib.contextmanager
    def timed_running(self: Any) -> Iterator[None]:
        started = time.perf_counter()
        with running(self):
            yield
        seconds[f"copy_end:{current[0]}"] += time.perf_counter() - started
        calls["copy_end"] += 1

    reader.ReadAhead.running = timed_running  # type: ignore[method-assign,assignment]
    iterate = reader.ReadAhead.__iter__

    def timed_iter(self: Any) -> Iterator[Any]:
        items = iterate(self)
        while True:
            started = time.perf_counter()
            try:
                item = next(items)
            except StopIteration:
                return
            finally:
                seconds["next_chunk"] += time.perf_counter() - started
            yield item

    reader.ReadAhead.__iter__ = timed_iter  # type: ignore[method-assign]
    _timed(run, "open_table", "open_table")
    _timed(run, "reference_index", "reference_index")
    _timed(run, "process_chunk", "process_chunk")
    _timed(run, "_finish", "finish")
    _timed(chunks.ChunkProcessor, "process", "process")
    _timed(chunks.ChunkProcessor, "flush", "flush")
    # Overlapping chunks (PostgreSQL): the look-ups and matching in this thread, the writes
    # in the writer thread on its own connection, and this thread's waits for them.
    _timed(run, "chunk_compute", "overlap:compute")
    _timed(run._ChunkWriter, "wait", "overlap:wait_for_writes")
    write = run.chunk_write

    def timed_write(*args: Any, **kwargs: Any) -> Any:
        from django.db import connection

        started = time.perf_counter()
        try:
            return write(*args, **kwargs)
        finally:
            seconds["overlap:write"] += time.perf_counter() - started
            calls["overlap:write"] += 1
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pid = cursor.fetchone()[0]
            writer_backends[pid] = _backend_cpu(pid)()

    run.chunk_write = timed_write  # type: ignore[assignment]


# The writer thread's backends (pid -> CPU seconds so far): new connections, so all of it is
# the import's.
writer_backends: dict[int, float] = {}


def _backend_cpu(pid: int) -> Callable[[], float]:
    ticks = os.sysconf("SC_CLK_TCK")

    def cpu() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks

    return cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--database-url", required=True, help="any database on the server")
    parser.add_argument("--name", required=True, help="the database to create, use and drop")
    parser.add_argument(
        "--no-overlap", action="store_true", help="chunks one after another (no writer thread)"
    )
    args = parser.parse_args()
    pg_drop(args.database_url, args.name)
    pg_admin(args.database_url, f'CREATE DATABASE "{args.name}"')
    os.environ.setdefault("MEDIA_ROOT", str(ROOT / "var" / "bench" / f"media-{args.name}"))
    try:
        django_setup(with_database(args.database_url, args.name))
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0, interactive=False)
        call_command("load_reference", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
        from qinghe.talents.importing.run import survey_import_path

        _instrument()
        if args.no_overlap:
            from qinghe.talents.importing import run

            run._can_overlap = lambda: False  # type: ignore[assignment]
        _timed(connection, "_commit", "commit")
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            server_cpu = _backend_cpu(cursor.fetchone()[0])
        load = os.getloadavg()
        server, client, started = server_cpu(), time.process_time(), time.perf_counter()
        result = survey_import_path(args.file, source_name="profile")
        figures = {
            "wall": time.perf_counter() - started,
            "client_cpu": time.process_time() - client,
            "server_cpu": server_cpu() - server + sum(writer_backends.values()),
            **dict(sorted(seconds.items())),
        }
        print(result.summary_line)
        print(json.dumps({k: round(v, 3) for k, v in figures.items()}, indent=1))
        print(f"calls {dict(calls)}; load before {load}, after {os.getloadavg()}")
        connection.close()
    finally:
        pg_drop(args.database_url, args.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
