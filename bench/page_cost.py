"""CPU cost of the load test's pages, one request at a time: what each page costs the web
process and the database server, measured with Django's test client against the load test's
prepared database (bench/loadtest.py: 100,000 talents, 20,000 postings, kept in var/loadtest/).

    .venv/bin/python bench/page_cost.py [--runs 30] [--database qinghe_load]

Starts the kept private PostgreSQL (var/loadtest/pg; not while `make loadtest` runs: both
would start the same data folder), runs Django in this process with the production settings
and the database's own keys (var/prodstack/), signs in the load test's accounts (the demo
student, the demo enterprise, staff member load_staff_0 with its TOTP device) and asks each
page of bench/locustfile.py ``--runs`` times after two warm-ups, the random choices of the
locustfile taken in turn. Per page it prints: the queries of one request, the median CPU of
the web process (time.process_time) and its 90th percentile, the mean CPU of the database
server (user + system time of all the private server's processes from /proc, in 10 ms ticks:
hence a mean; the server does nothing else meanwhile) and the median wall time. Static URLs
come from the plain storage (no collectstatic here). The machine is shared: compare CPU
time, not wall time, between runs; the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))  # this checkout's code (the shared .venv may point elsewhere)
from _shared import SEARCH_WORDS, processes_cpu_seconds  # noqa: E402
from privatepg import PrivatePostgres  # noqa: E402

PREPARED = ROOT / "var" / "loadtest"
STAFF_QUERIES = [
    "",
    "?status=returned",
    "?graduation_year=2025",
    "?native_evidence=id_number",
    "?q=李",
]


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def server_cpu_seconds(postmaster_pid: int) -> float:
    """User + system CPU of the postmaster and all its children (backends, background)."""
    return processes_cpu_seconds(lambda pid, ppid, _pgrp: postmaster_pid in (pid, ppid))


def setup(database_url: str, database: str) -> None:
    keys = json.loads((ROOT / "var" / "prodstack" / f"{database}.keys.json").read_text())
    from prodstack import card_signing_keys

    keys.setdefault("QINGHE_EVENT_SIGNING_KEYS", card_signing_keys("smoke-event-1"))
    os.environ.update(keys)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DATABASE_URL": database_url,
            "ALLOWED_HOSTS": "testserver",
            "LOG_LEVEL": "WARNING",
            "MEDIA_ROOT": str(ROOT / "var" / "bench" / "media"),
        }
    )
    import django

    django.setup()
    from django.conf import settings

    # No collectstatic here: static URLs from the plain storage (no manifest to read).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def clients() -> dict[str, Any]:
    from django.test import Client
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from qinghe.accounts.models import User

    made = {}
    for role, username in (
        ("student", "xuezi"),
        ("enterprise", "qiye"),
        ("staff", "load_staff_0"),
    ):
        client = Client(secure=True, headers={"X-Forwarded-Proto": "https"})
        user = User.objects.get(username=username)
        client.force_login(user)
        if role == "staff":
            device = TOTPDevice.objects.get(user=user, name="load")
            session = client.session
            session["otp_device_id"] = device.persistent_id
            session.save()
        made[role] = client
    return made


def pages(student_postings: list[str]) -> list[tuple[str, str, Any, str]]:
    """(name, client role, path or a function of the run number giving it, content checked)."""
    return [
        ("bare /healthz", "student", "/healthz", ""),
        ("student 为你推荐", "student", "/matching/for-me/", "为你推荐"),
        (
            "student 搜索岗位",
            "student",
            lambda i: f"/jobs/?q={SEARCH_WORDS[i % len(SEARCH_WORDS)]}",
            "岗位",
        ),
        (
            "student 岗位详情",
            "student",
            lambda i: f"/jobs/{student_postings[i % len(student_postings)]}/",
            "岗位",
        ),
        ("enterprise 应聘者", "enterprise", "/jobs/mine/applicants/", "应聘"),
        ("enterprise 我的岗位", "enterprise", "/jobs/mine/", "岗位"),
        (
            "staff 人才库筛选",
            "staff",
            lambda i: f"/talents/{STAFF_QUERIES[i % len(STAFF_QUERIES)]}",
            "人才",
        ),
        ("staff 计划看板", "staff", "/jobs/targets/", "目标"),
    ]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--database", default="qinghe_load")
    parser.add_argument("--only", default="", help="pages whose name contains this")
    parser.add_argument("--profile", action="store_true", help="cProfile the pages (slower)")
    parser.add_argument("--migrate", action="store_true", help="apply the code's migrations first")
    parser.add_argument("--sql", action="store_true", help="print each query of one request")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="empty the kept page parts (core/fragments.py) before each measured request: "
        "the cost of a page whose part is missing (the first view, or after a change)",
    )
    args = parser.parse_args()
    pg = PrivatePostgres(keep=PREPARED / "pg")
    try:
        postmaster = int((pg.data / "postmaster.pid").read_text().split()[0])
        setup(pg.url.rsplit("/", 1)[0] + f"/{args.database}", args.database)
        import re

        from django.core.cache import caches
        from django.db import connection

        if args.migrate:
            from django.core.management import call_command

            call_command("migrate", "--noinput", verbosity=0)
        made = clients()
        listing = made["student"].get("/jobs/?q=工程师").content.decode()
        postings = re.findall(r'href="/jobs/(\d+)/"', listing)[:20]
        print(
            f"load average before: {loadavg()}; {args.runs} runs a page after 2 warm-ups; "
            + ("kept parts emptied before each run" if args.cold else "kept parts as they come")
        )
        print(
            f"{'page':<22} {'queries':>7} {'web CPU ms':>10} {'db CPU ms':>9} {'wall ms':>8} "
            f"{'(web p90)':>9}"
        )
        for name, role, path, must in pages(postings):
            if args.only and args.only not in name:
                continue
            client = made[role]

            def url(i: int, path: Any = path) -> str:
                return path(i) if callable(path) else path

            for i in range(2):
                response = client.get(url(i))
                assert response.status_code == 200, (name, response.status_code)
                assert must in response.content.decode(), (name, "content")
            queries: list[str] = []

            def count(execute: Any, sql: str, *rest: Any, queries: list[str] = queries) -> Any:
                queries.append(sql)
                started = time.perf_counter()
                try:
                    return execute(sql, *rest)
                finally:
                    if args.sql:
                        ms = (time.perf_counter() - started) * 1000
                        print(f"   {ms:7.1f} ms  {sql[:220]}")

            with connection.execute_wrapper(count):
                client.get(url(0))
            cpu, db, wall = [], [], []
            for i in range(args.runs):
                if args.cold:
                    caches["fragments"].clear()
                d0 = server_cpu_seconds(postmaster)  # outside the web process's window
                c0, w0 = time.process_time(), time.perf_counter()
                client.get(url(i))
                cpu.append((time.process_time() - c0) * 1000)
                wall.append((time.perf_counter() - w0) * 1000)
                db.append((server_cpu_seconds(postmaster) - d0) * 1000)
            if args.profile:
                import cProfile
                import pstats

                profiler = cProfile.Profile(time.process_time)
                profiler.enable()
                for i in range(args.runs):
                    client.get(url(i))
                profiler.disable()
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(r"qinghe|template", 40)
            p90 = sorted(cpu)[int(len(cpu) * 0.9) - 1]
            print(
                f"{name:<22} {len(queries):>7} {statistics.median(cpu):>10.1f} "
                f"{statistics.mean(db):>9.1f} {statistics.median(wall):>8.1f} {p90:>9.1f}",
                flush=True,
            )
        print(f"load average after: {loadavg()}")
    finally:
        pg.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
