"""The plan's board, return funnel and public figures: prints measured figures.

    .venv/bin/python bench/bench_board.py [--talents 100000] [--postings 20000] [--runs 30]

Fills a fresh database (bulk) with Heshan talents (natives and incomers, each with an education
and, for those past graduation, an employment record in a city and an industry), postings of
300 enterprises (quality jobs and internships among them) and a year of events with
registrations; then times, over ``--runs`` repetitions each after one warm-up:

- the 十个一 board (``qinghe.plan.board.board``), against the plain way: each indicator computed
  on its own (one fresh ``Measured`` per figure, so shared groups are queried again);
- the return funnel page's reads (year-on-year, the university breakdown, destinations), against
  the plain way: one COUNT per stage and per row of the breakdown (the 30 rows the page shows);
- the public figures (``qinghe.plan.public.public_figures``).

Prints p50/p95 in ms and the ratio plain / ours. Liaison contacts, applications, cards, station
services and subsidies are left empty here (their selectors are grouped queries whose cost does
not grow with the talents); the goal is p95 under 200 ms on PostgreSQL.

SQLite runs on a temporary file; PostgreSQL when BENCH_PG_URL is set (a temporary database on
that server, migrated, dropped afterwards). Each database runs in its own process."""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from _shared import django_setup, pg_admin, pg_drop, pg_server_url, with_database  # noqa: E402

GOAL_P95_MS = 200.0
CITIES = [
    ("广东省江门市鹤山市沙坪街道", "heshan", 26),
    ("广东省江门市蓬江区", "jiangmen", 14),
    ("广东省广州市天河区", "elsewhere", 20),
    ("广东省佛山市顺德区", "elsewhere", 18),
    ("广东省深圳市南山区", "elsewhere", 12),
    ("广东省珠海市香洲区", "elsewhere", 4),
    ("广东省东莞市", "elsewhere", 4),
]
UNIVERSITIES = [f"示例大学{n}" for n in range(120)]


def _load(talents: int, postings: int, rng: random.Random) -> None:
    import datetime as dt

    from django.db import transaction
    from django.utils import timezone

    from qinghe.accounts.models import Organisation
    from qinghe.enterprises.models import Enterprise
    from qinghe.enterprises.uscc import make_uscc
    from qinghe.events.models import Event, Registration
    from qinghe.jobs.models import Posting
    from qinghe.reference.models import Industry, Town
    from qinghe.talents.models import Destination, Education, Talent

    now = timezone.now()
    year = timezone.localdate().year
    with transaction.atomic():
        industries = [
            Industry.objects.create(code=f"{n:02d}", name=f"行业{n}", level="division", position=n)
            for n in range(13, 40)
        ]
        towns = [
            Town.objects.create(code=f"440784{n:03d}", name=f"镇街{n}", county_code="440784")
            for n in range(1, 11)
        ]
        statuses = [
            ("studying", 30),
            ("graduating", 8),
            ("employed_heshan", 15),
            ("employed_jiangmen", 8),
            ("employed_elsewhere", 25),
            ("further_study", 6),
            ("seeking", 5),
            ("unknown", 3),
        ]
        names, weights = zip(*statuses, strict=True)
        rows = []
        for n in range(talents):
            native = n % 4 != 0
            rows.append(
                Talent(
                    name=f"学子{n}",
                    native_evidence="id_prefix" if native else "none",
                    status=rng.choices(names, weights)[0],
                    graduation_year=rng.randint(year - 6, year + 2),
                    town=rng.choice(towns) if native else None,
                    last_confirmed_at=now - dt.timedelta(days=rng.randint(0, 700)),
                )
            )
        created = Talent.objects.bulk_create(rows, batch_size=5000)
        Education.objects.bulk_create(
            [
                Education(
                    talent=t,
                    university_name=rng.choice(UNIVERSITIES),
                    graduation_year=t.graduation_year,
                    is_double_first_class=rng.random() < 0.15,
                    source="survey",
                )
                for t in created
            ],
            batch_size=5000,
        )
        regions, areas, cw = zip(*CITIES, strict=True)
        dests = []
        for t in created:
            if t.status.startswith("employed"):
                i = rng.choices(range(len(CITIES)), cw)[0]
                dests.append(
                    Destination(
                        talent=t,
                        kind="employed",
                        region_text=regions[i],
                        area=areas[i],
                        industry=rng.choice(industries),
                        year=t.graduation_year,
                        source="survey",
                    )
                )
        Destination.objects.bulk_create(dests, batch_size=5000)
        orgs = Organisation.objects.bulk_create(
            [Organisation(kind="enterprise", name=f"鹤山企业{n}") for n in range(300)]
        )
        ents = Enterprise.objects.bulk_create(
            [
                Enterprise(
                    organisation=org,
                    uscc=make_uscc(f"91440784MA{n:07d}"),
                    name=org.name,
                    industry=rng.choice(industries),
                    town=rng.choice(towns),
                    size="medium",
                    contact_name="人事部",
                    state="verified",
                )
                for n, org in enumerate(orgs)
            ]
        )
        Posting.objects.bulk_create(
            [
                Posting(
                    enterprise=rng.choice(ents),
                    kind=rng.choices(["job", "internship", "traineeship"], [7, 2, 1])[0],
                    title=f"岗位{n}",
                    description="岗位职责",
                    town=rng.choice(towns),
                    headcount=rng.randint(1, 10),
                    state="published",
                    published_at=now - dt.timedelta(days=rng.randint(0, 300)),
                    is_quality=rng.random() < 0.05,
                    quality_certified_at=now - dt.timedelta(days=rng.randint(0, 300)),
                )
                for n in range(postings)
            ],
            batch_size=2000,
        )
        org = orgs[0]
        types = [t.value for t in Event.Type]
        events = Event.objects.bulk_create(
            [
                Event(
                    organiser=org,
                    type=rng.choice(types),
                    title=f"活动{n}",
                    state="finished",
                    starts_at=start,
                    ends_at=start + dt.timedelta(hours=3),
                    registration_opens_at=start - dt.timedelta(days=20),
                    registration_closes_at=start - dt.timedelta(days=1),
                    cancel_deadline=start - dt.timedelta(days=2),
                )
                for n, start in enumerate(
                    now - dt.timedelta(days=rng.randint(1, 300)) for _ in range(300)
                )
            ]
        )
        from qinghe.accounts.models import User

        users = User.objects.bulk_create(
            [User(username=f"bench{n}", role="student") for n in range(3000)], batch_size=2000
        )
        Registration.objects.bulk_create(
            [
                Registration(
                    event=e,
                    user=u,
                    status="confirmed",
                    registered_at=now,
                    attended_at=now if rng.random() < 0.7 else None,
                )
                for e in events
                for u in rng.sample(users, 20)
            ],
            batch_size=5000,
        )


def _time(fn: Callable[[], Any], runs: int) -> list[float]:
    fn()  # warm-up
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def _plain_board(year: int) -> None:
    from qinghe.plan.indicators import INDICATORS, Measured

    for ind in INDICATORS:
        ind.value(Measured(year=year))  # every figure on its own: groups queried again


def _plain_funnel(year: int) -> None:
    from django.db.models import Q

    from qinghe.plan import funnel
    from qinghe.talents.models import Education

    stages = [count.filter or Q() for count in funnel.STAGE_COUNTS.values()]
    for y in (year, year - 1):
        cohort = funnel.natives().filter(graduation_year=y)
        for q in stages:
            cohort.filter(q).count()
    cohort = funnel.natives().filter(graduation_year=year)
    shown = [f.label for f in funnel.breakdown(by="university", year=year, top=30)][:30]
    for uni in (
        Education.objects.filter(university_name__in=shown)
        .values_list("university_name", flat=True)
        .distinct()
    ):
        per = cohort.filter(educations__university_name=uni)
        for q in stages:
            per.filter(q).distinct().count()
    funnel.destinations(year=year)


def worker(database_url: str, talents: int, postings: int, runs: int) -> dict[str, Any]:
    django_setup(database_url)
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    _load(talents, postings, random.Random(2026))
    loaded = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    from qinghe.plan import board, funnel, public

    year = timezone.localdate().year
    cohort = year - 1

    def ours_funnel() -> None:
        funnel.year_on_year(year=cohort)
        funnel.breakdown(by="university", year=cohort, top=30)
        funnel.destinations(year=cohort)

    figures = {
        "board": (
            _time(lambda: board.board(year=year), runs),
            _time(lambda: _plain_board(year), max(5, runs // 3)),
        ),
        "funnel": (
            _time(ours_funnel, runs),
            _time(lambda: _plain_funnel(cohort), max(3, runs // 10)),
        ),
        "public": (_time(public.public_figures, runs), None),
    }
    out: dict[str, Any] = {"vendor": connection.vendor, "load_s": round(loaded, 1)}
    for name, (ours, plain) in figures.items():
        p95 = statistics.quantiles(ours, n=20)[-1]
        row = {"p50": round(statistics.median(ours), 1), "p95": round(p95, 1)}
        if plain:
            row["plain_p50"] = round(statistics.median(plain), 1)
            row["ratio"] = round(statistics.median(plain) / statistics.median(ours), 1)
        out[name] = row
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--talents", type=int, default=100_000)
    parser.add_argument("--postings", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--worker", default="")
    args = parser.parse_args()
    if args.worker:
        result = worker(args.worker, args.talents, args.postings, args.runs)
        print("RESULT " + json.dumps(result), flush=True)
        return 0
    targets: list[tuple[str, str, Callable[[], None]]] = []
    tmp = tempfile.TemporaryDirectory(prefix="qinghe-bench-board-")
    targets.append(("sqlite", f"sqlite:///{tmp.name}/bench.sqlite3", lambda: None))
    server = pg_server_url()
    if server:
        name = f"qinghe_bench_board_{os.getpid()}"
        pg_admin(server, f'CREATE DATABASE "{name}"')
        targets.append(("postgresql", with_database(server, name), lambda: pg_drop(server, name)))
    else:
        print("postgresql: skipped (set BENCH_PG_URL)")
    failed = False
    for label, url, cleanup in targets:
        try:
            run = subprocess.run(
                [sys.executable, __file__, "--worker", url, "--talents", str(args.talents),
                 "--postings", str(args.postings), "--runs", str(args.runs)],
                capture_output=True, text=True, cwd=ROOT,
            )  # fmt: skip
        finally:
            cleanup()
        line = next((x for x in run.stdout.splitlines() if x.startswith("RESULT ")), "")
        if not line:
            print(f"{label}: failed\n{run.stderr[-2000:]}")
            failed = True
            continue
        r = json.loads(line[7:])
        print(
            f"{label}: {args.talents} talents, {args.postings} postings (loaded in {r['load_s']} s)"
        )
        for name in ("board", "funnel", "public"):
            f = r[name]
            extra = (
                f", plain way p50 {f['plain_p50']} ms (ratio {f['ratio']}x)" if "ratio" in f else ""
            )
            ok = "ok" if f["p95"] <= GOAL_P95_MS else "over the goal"
            print(
                f"  {name}: p50 {f['p50']} ms, p95 {f['p95']} ms ({ok}: {GOAL_P95_MS:.0f} ms){extra}"
            )
    tmp.cleanup()
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
