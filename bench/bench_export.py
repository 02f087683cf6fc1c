"""Talent export benchmark: prints measured figures.

    .venv/bin/python bench/bench_export.py [--rows 22800]

Builds a fresh database with N talents (encrypted ID numbers, a current phone, an education
each) and times, as HR staff, for the whole list:
  1. the immediate export (``talents_export``, what a click did before: the browser waits
     with nothing on screen until the file arrives);
  2. the background export: the request (count + queue: the progress page opens after it),
     the worker's first progress step on screen (rows written > 0), and the file stored,
     encrypted, with its inbox message (``export_run``, here in-process, as the worker).
SQLite runs on a temporary file; PostgreSQL runs when BENCH_PG_URL is set (a temporary
database is created on that server and dropped).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _shared import pg_admin, pg_drop, pg_server_url, with_database  # noqa: E402


def child(rows: int) -> dict[str, object]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    # The worker is this process, below: the request only queues the task.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    from stdnum.cn import ric

    from qinghe.accounts.models import User
    from qinghe.accounts.phones import phone_index
    from qinghe.exports import services as export_services
    from qinghe.exports.models import Export
    from qinghe.talents import exporting, services
    from qinghe.talents.identity import parse_id_number
    from qinghe.talents.models import Education, PhoneNumber, Source, Talent
    from qinghe.talents.selectors import TalentFilter, talent_list

    t0 = time.perf_counter()
    staff = User.objects.create(username="bench-hr", role="hr_staff")
    talents = []
    for i in range(rows):
        body = f"440784{2000 + i % 6}{1 + i % 12:02d}{1 + i % 28:02d}{i % 1000:03d}"
        parsed = parse_id_number(body + ric.calc_check_digit(body + "0"))
        talents.append(
            Talent(
                name=f"黄{'嘉志晓诗文俊子永国乐'[i % 10]}{'怡伟彤婷静杰涵康强乐'[i // 10 % 10]}",
                id_number=parsed.number,
                id_index=f"{parsed.index[:40]}{i}",
                id_prefix=parsed.prefix,
                gender=parsed.gender,
                graduation_year=2020 + i % 7,
                native_evidence="id_prefix",
            )
        )
    Talent.objects.bulk_create(talents, batch_size=2000)
    ids = list(Talent.objects.order_by("pk").values_list("pk", flat=True))
    PhoneNumber.objects.bulk_create(
        [
            PhoneNumber(
                talent_id=pk,
                number=f"139{i:08d}",
                number_index=phone_index(f"139{i:08d}"),
                source=Source.SURVEY,
            )
            for i, pk in enumerate(ids)
        ],
        batch_size=2000,
    )
    Education.objects.bulk_create(
        [
            Education(
                talent_id=pk,
                university_name="五邑大学",
                major_name="软件工程",
                level="bachelor",
                graduation_year=2020 + i % 7,
                source=Source.SURVEY,
            )
            for i, pk in enumerate(ids)
        ],
        batch_size=2000,
    )
    setup_s = time.perf_counter() - t0
    everyone = TalentFilter()

    t = time.perf_counter()
    _content, immediate_rows = services.talents_export(viewer=staff, filters=everyone, unmask=False)
    immediate_s = time.perf_counter() - t

    clicked = time.perf_counter()
    count = talent_list(viewer=staff, filters=everyone).count()
    export = exporting.talents_export_start(
        viewer=staff, filters=everyone, unmask=False, reason="", rows=count
    )
    page_s = time.perf_counter() - clicked
    first_progress: list[float] = []
    step = export_services._progress

    def timed(export_id: int, done: int, total: int) -> None:
        step(export_id, done, total)
        if done and not first_progress:
            first_progress.append(time.perf_counter() - clicked)

    export_services._progress = timed  # type: ignore[assignment]  # the benchmark's stopwatch
    export_services.export_run(export_id=export.pk)
    total_s = time.perf_counter() - clicked
    export.refresh_from_db()
    return {
        "setup_s": setup_s,
        "immediate_s": immediate_s,
        "immediate_rows": immediate_rows,
        "page_s": page_s,
        "first_progress_s": first_progress[0] if first_progress else -1.0,
        "total_s": total_s,
        "state": export.state,
        "rows": export.rows_done,
        "steps": Export.objects.count(),
    }


def run_engine(name: str, database_url: str, rows: int) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
    }
    done = subprocess.run(
        [sys.executable, __file__, "--child", "--rows", str(rows)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        print(f"{name}: FAILED\n{done.stderr[-3000:]}")
        return
    r = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"{name}: {rows:,} talents (setup {r['setup_s']:.1f} s)")
    print(
        f"{name}: immediate export {r['immediate_rows']:,} rows in {r['immediate_s']:.2f} s with nothing on screen"
    )
    print(
        f"{name}: background export: progress page after {r['page_s']:.2f} s, first progress at {r['first_progress_s']:.2f} s, file ready at {r['total_s']:.2f} s ({r['state']}, {r['rows']:,} rows)"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=22_800)
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.rows)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        run_engine("sqlite", f"sqlite:///{tmp}/bench.sqlite3", args.rows)
    server = pg_server_url() if os.environ.get("BENCH_PG_URL") else None
    if not server:
        print("postgresql: skipped (set BENCH_PG_URL)")
        return 0
    name = f"qinghe_bench_export_{os.getpid()}"
    pg_admin(server, f'CREATE DATABASE "{name}"')
    try:
        run_engine("postgresql", with_database(server, name), args.rows)
    finally:
        pg_drop(server, name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
