"""The plan's board, return funnel, scoped boards and drill-downs: prints measured figures.

    .venv/bin/python bench/bench_board.py [--talents 100000] [--postings 20000] [--runs 30]

Fills a fresh database with ``qinghe.core.bulk`` (COPY on PostgreSQL): Heshan talents (natives
and incomers, each with an education and, past graduation, an employment record in a city and
an industry), 300 enterprises with their postings (quality jobs and internships among them;
enterprise 1 is large: a tenth of the postings and applications), and a year of activity:
liaison assignments and contact logs, applications with the share consent (a tenth withdrawn),
interviews, events with registrations, cloud fairs with booths, chapters with members.

Then requests each page ``--runs`` times (at least 20, after one warm-up) through Django's test
client, so the real views, middleware and templates are timed:

- the 十个一 board ``/plan/`` and the return funnel ``/plan/funnel/`` (HR bureau staff);
- the scoped boards ``/plan/mine/`` of the large enterprise's HR and of an ambassador;
- every drill-down: the scoped lists ``/plan/mine/<figure>/`` and the lists the board links to;
- the public figures ``/figures/``;

and, in the same run, the same figures computed the plain way (one query per figure). Prints
p50/p95 in ms, the ratio plain / ours (p50), the 200 ms goal ratio (p95 / 200 ms), the queries
of one request and the load average. SQLite runs on a temporary file; PostgreSQL when
BENCH_PG_URL is set (a temporary database on that server, migrated, dropped afterwards)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
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
ENTERPRISES = 300
CHAPTERS = 40


# ---- loading ----------------------------------------------------------------------------------


class Copier:
    """Rows of plain values into a model's table through ``qinghe.core.bulk.insert_prepared``
    (COPY on PostgreSQL), ids given by the caller so rows of other tables can point at them.
    Columns not named take their default (or NULL, or "" for text), prepared once."""

    def __init__(self, model: Any, attnames: Sequence[str]) -> None:
        from django.db import connection, models
        from django.utils import timezone

        self.model = model
        self.conn = connection
        now = timezone.now()
        named = ["id", *attnames]
        fields = {f.attname: f for f in model._meta.concrete_fields}
        self.fields = [fields[name] for name in named]
        self.constants: list[Any] = []
        for f in model._meta.concrete_fields:
            if f.attname in named:
                continue
            if f.has_default():
                value = f.get_default()
            elif f.null:
                value = None
            elif isinstance(f, models.DateTimeField):
                value = now
            elif isinstance(f, models.CharField | models.TextField):
                value = ""
            else:
                raise ValueError(f"{model.__name__}.{f.attname} needs a value")
            self.fields.append(f)
            self.constants.append(
                f.get_db_prep_save(value, connection) if value is not None else None
            )
        self.prepare = [
            isinstance(f, models.DateTimeField | models.JSONField)
            for f in self.fields[: len(named)]
        ]
        self.cache: dict[Any, Any] = {}

    def _value(self, i: int, value: Any) -> Any:
        if value is None or not self.prepare[i]:
            return value
        key = (i, value if not isinstance(value, dict | list) else json.dumps(value))
        if key not in self.cache:
            self.cache[key] = self.fields[i].get_db_prep_save(value, self.conn)
        return self.cache[key]

    def insert(self, rows: Iterable[Sequence[Any]]) -> None:
        from qinghe.core.bulk import insert_prepared

        constants = self.constants

        def prepared() -> Iterable[list[Any]]:
            for row in rows:
                yield [self._value(i, v) for i, v in enumerate(row)] + constants

        insert_prepared(self.model, self.fields, prepared(), batch_size=5000)


def _copy(model: Any, attnames: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    Copier(model, attnames).insert(rows)


def _next_id(model: Any) -> int:
    from django.db.models import Max

    return int(model.objects.aggregate(m=Max("id"))["m"] or 0) + 1


def _reset_sequences(models: list[Any]) -> None:
    from django.core.management.color import no_style
    from django.db import connection

    with connection.cursor() as cur:
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cur.execute(sql)


def _load(talents: int, postings: int, rng: random.Random) -> dict[str, Any]:
    """Fills the database; returns the ids the requests need."""
    from django.db import transaction
    from django.utils import timezone

    from qinghe.accounts.models import Organisation, User
    from qinghe.alliance.models import AmbassadorRound, Chapter, Membership, Nomination
    from qinghe.enterprises.models import Enterprise
    from qinghe.enterprises.uscc import make_uscc
    from qinghe.events.models import Event, Registration
    from qinghe.fairs.models import Booth
    from qinghe.jobs.models import Posting
    from qinghe.outreach.models import ContactLog, LiaisonAssignment
    from qinghe.recruitment.models import Application, Interview, PipelineStage
    from qinghe.reference.models import Industry, Town
    from qinghe.talents.models import Consent, Destination, Education, Talent

    now = timezone.now()
    year = timezone.localdate().year
    counts: dict[str, int] = {}

    def ago(days: int) -> dt.datetime:
        return (now - dt.timedelta(days=days)).replace(minute=0, second=0, microsecond=0)

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
        # users: students (applicants, members, visitors), liaisons, the bench's own accounts
        students = max(10_000, talents // 10)
        uid = _next_id(User)
        user_ids = list(range(uid, uid + students))
        _copy(
            User,
            ["username", "password", "role", "display_name", "date_joined"],
            ((i, f"bench{i}", "!", "student", f"学子{i}", now) for i in user_ids),
        )
        liaison_ids = list(range(uid + students, uid + students + 50))
        _copy(
            User,
            ["username", "password", "role", "display_name", "date_joined"],
            ((i, f"liaison{i}", "!", "liaison", f"专员{i}", now) for i in liaison_ids),
        )
        _reset_sequences([User])
        counts["users"] = students + len(liaison_ids)
        # talents, one education each, destinations of the employed
        tid = _next_id(Talent)
        talent_rows = []
        for n in range(talents):
            native = n % 4 != 0
            talent_rows.append(
                (
                    tid + n,
                    f"学子{n}",
                    "id_prefix" if native else "none",
                    rng.choices(names, weights)[0],
                    rng.randint(year - 6, year + 2),
                    rng.choice(towns).pk if native else None,
                    ago(rng.randint(0, 700)),
                    user_ids[n] if n < students else None,
                )
            )
        _copy(
            Talent,
            ["name", "native_evidence", "status", "graduation_year", "town_id",
             "last_confirmed_at", "user_id"],
            talent_rows,
        )  # fmt: skip
        eid = _next_id(Education)
        _copy(
            Education,
            ["talent_id", "university_name", "graduation_year", "is_double_first_class",
             "source", "created_at"],
            ((eid + i, t[0], rng.choice(UNIVERSITIES), t[4], rng.random() < 0.15, "survey", now)
             for i, t in enumerate(talent_rows)),
        )  # fmt: skip
        regions, areas, cw = zip(*CITIES, strict=True)
        dests = []
        for t in talent_rows:
            if t[3].startswith("employed"):
                i = rng.choices(range(len(CITIES)), cw)[0]
                dests.append(
                    (t[0], "employed", regions[i], areas[i], rng.choice(industries).pk, t[4], now)
                )
        did = _next_id(Destination)
        _copy(
            Destination,
            ["talent_id", "kind", "region_text", "area", "industry_id", "year", "created_at"],
            ((did + i, *d) for i, d in enumerate(dests)),
        )
        counts |= {"talents": talents, "educations": talents, "destinations": len(dests)}
        natives = [t[0] for t in talent_rows if t[2] != "none"]
        # liaison: every native assigned; a year of contacts (two per native on average)
        aid = _next_id(LiaisonAssignment)
        _copy(
            LiaisonAssignment,
            ["talent_id", "liaison_id", "active", "assigned_at"],
            ((aid + i, t, liaison_ids[i % len(liaison_ids)], True, ago(400))
             for i, t in enumerate(natives)),
        )  # fmt: skip
        contacts = 2 * len(natives)
        cid = _next_id(ContactLog)
        _copy(
            ContactLog,
            ["talent_id", "liaison_id", "channel", "outcome", "next_follow_up",
             "follow_up_done", "contacted_at"],
            ((cid + i, rng.choice(natives), rng.choice(liaison_ids),
              rng.choice(["phone", "wechat", "visit"]),
              rng.choices(["reached", "not_reached", "wrong_number"], [6, 3, 1])[0],
              (now - dt.timedelta(days=rng.randint(-30, 60))).date() if i % 5 == 0 else None,
              rng.random() < 0.5, ago(rng.randint(0, 365)))
             for i in range(contacts)),
        )  # fmt: skip
        counts |= {"liaison_assignments": len(natives), "contacts": contacts}
        # enterprises (the ORM: 300 rows) and postings (COPY); enterprise 1 is large
        orgs = Organisation.objects.bulk_create(
            [Organisation(kind="enterprise", name=f"鹤山企业{n}") for n in range(ENTERPRISES)]
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
        ent_ids = [e.pk for e in ents]
        big = ent_ids[0]

        def some_enterprise() -> int:
            return big if rng.random() < 0.1 else rng.choice(ent_ids)

        pid = _next_id(Posting)
        posting_rows = [
            (
                pid + n,
                some_enterprise(),
                rng.choices(["job", "internship", "traineeship"], [7, 2, 1])[0],
                f"岗位{n}",
                "岗位职责",
                rng.choice(towns).pk,
                rng.randint(1, 10),
                rng.choices(["published", "closed", "draft"], [8, 1, 1])[0],
                ago(rng.randint(0, 500)),
                (q := rng.random() < 0.05),
                ago(rng.randint(0, 300)) if q else None,
            )
            for n in range(postings)
        ]
        _copy(
            Posting,
            ["enterprise_id", "kind", "title", "description", "town_id", "headcount", "state",
             "published_at", "is_quality", "quality_certified_at"],
            posting_rows,
        )  # fmt: skip
        counts["postings"] = postings
        # applications (a year; three per student who applies), their consents, interviews
        applied_stage = PipelineStage.objects.get(enterprise__isnull=True, kind="applied")
        by_enterprise: dict[int, list[int]] = {}
        for p in posting_rows:
            if p[7] == "published":
                by_enterprise.setdefault(p[1], []).append(p[0])
        published = [p for p in posting_rows if p[7] == "published"]
        org_of = {e.pk: e.organisation_id for e in ents}
        applicant_talents = [t for t in talent_rows[:students]]
        apid = _next_id(Application)
        apps: list[tuple[Any, ...]] = []
        applied: set[tuple[int, int]] = set()
        for n in range(len(applicant_talents) * 3):
            t = applicant_talents[n % len(applicant_talents)]
            p = (
                rng.choice(by_enterprise[big])
                if rng.random() < 0.1 and by_enterprise.get(big)
                else rng.choice(published)[0]
            )
            if (p, t[0]) in applied:
                continue  # one application per talent and posting (a unique constraint)
            applied.add((p, t[0]))
            ent = posting_rows[p - pid][1]
            when = ago(rng.randint(0, 365))
            hired = when + dt.timedelta(days=20) if rng.random() < 0.05 else None
            apps.append((apid + len(apps), p, ent, t[0], t[7], applied_stage.pk, when, when, hired))
        _copy(
            Application,
            ["posting_id", "enterprise_id", "talent_id", "applicant_id", "stage_id",
             "applied_at", "stage_changed_at", "hired_at"],
            apps,
        )  # fmt: skip
        pairs = sorted({(a[3], org_of[a[2]]) for a in apps})
        coid = _next_id(Consent)
        _copy(
            Consent,
            ["talent_id", "purpose", "enterprise_id", "granted", "notice_version", "recorded_at"],
            ((coid + i, t, "share_enterprise", o, i % 10 != 0, "v1", ago(400))
             for i, (t, o) in enumerate(pairs)),
        )  # fmt: skip
        iid = _next_id(Interview)
        interviewed = apps[:: max(1, len(apps) // 20_000)]
        _copy(
            Interview,
            ["application_id", "starts_at", "ends_at", "state"],
            ((iid + i, a[0], a[6] + dt.timedelta(days=5), a[6] + dt.timedelta(days=5, hours=1),
              rng.choice(["done", "confirmed", "cancelled"]))
             for i, a in enumerate(interviewed)),
        )  # fmt: skip
        counts |= {
            "applications": len(apps),
            "consents": len(pairs),
            "interviews": len(interviewed),
        }
        # chapters (organisations of kind chapter) with members
        chapter_orgs = Organisation.objects.bulk_create(
            [Organisation(kind="chapter", name=f"青鹤联盟·分会{n}") for n in range(CHAPTERS)]
        )
        chapters = Chapter.objects.bulk_create(
            [
                Chapter(organisation=o, name=o.name, kind="city", city=f"城市{n}")
                for n, o in enumerate(chapter_orgs)
            ]
        )
        mid = _next_id(Membership)
        members = user_ids[: students // 2]
        _copy(
            Membership,
            ["chapter_id", "user_id", "slot", "status", "joined_at"],
            ((mid + i, chapters[i % CHAPTERS].pk, u, "place",
              rng.choices(["active", "pending", "left"], [8, 1, 1])[0], ago(rng.randint(0, 700)))
             for i, u in enumerate(members)),
        )  # fmt: skip
        counts["memberships"] = len(members)
        # a year of events: organised by the HR bureau and by the chapters; cloud fairs
        staff_org = Organisation.objects.create(kind="bureau", name="鹤山市人力资源和社会保障局")
        types = [t.value for t in Event.Type]
        evid = _next_id(Event)
        events = []
        for n in range(600):
            start = ago(rng.randint(1, 365))
            organiser = chapter_orgs[n % CHAPTERS].pk if n % 3 == 0 else staff_org.pk
            kind = "cloud_fair" if n % 10 == 1 else rng.choice(types)
            events.append(
                (evid + n, organiser, kind, f"活动{n}", "finished", start,
                 start + dt.timedelta(hours=3), start - dt.timedelta(days=20),
                 start - dt.timedelta(days=1), start - dt.timedelta(days=2))
            )  # fmt: skip
        _copy(
            Event,
            ["organiser_id", "type", "title", "state", "starts_at", "ends_at",
             "registration_opens_at", "registration_closes_at", "cancel_deadline"],
            events,
        )  # fmt: skip
        rid = _next_id(Registration)
        regs = []
        for e in events:
            for u in rng.sample(user_ids, 40):
                regs.append(
                    (rid + len(regs), e[0], u, "confirmed", e[5],
                     e[5] if rng.random() < 0.7 else None)
                )  # fmt: skip
        _copy(
            Registration,
            ["event_id", "user_id", "status", "registered_at", "attended_at"],
            regs,
        )
        bid = _next_id(Booth)
        booths = []
        for e in events:
            if e[2] == "cloud_fair":
                for ent in [big, *rng.sample(ent_ids[1:], 30)]:
                    booths.append(
                        (bid + len(booths), e[0], ent, rng.choice(["approved", "applied"]), e[5])
                    )
        _copy(Booth, ["fair_id", "enterprise_id", "state", "applied_at"], booths)
        counts |= {"events": len(events), "registrations": len(regs), "booths": len(booths)}
        _reset_sequences(
            [Talent, Education, Destination, LiaisonAssignment, ContactLog, Posting,
             Application, Consent, Interview, Membership, Event, Registration, Booth]
        )  # fmt: skip
        # the accounts the requests are made as
        hr = User.objects.create(username="bench_hr", role="hr_staff", display_name="人社局")
        admin = User.objects.create(username="bench_admin", role="sysadmin", display_name="管理员")
        ent_hr = User.objects.create(
            username="bench_ent", role="enterprise_hr", organisation_id=orgs[0].pk
        )
        ambassador = User.objects.create(username="bench_amb", role="ambassador")
        round_ = AmbassadorRound.objects.create(year=year, mode="appoint", state="closed")
        Nomination.objects.create(
            round=round_,
            chapter=chapters[0],
            nominee=ambassador,
            state="appointed",
            term_ends_on=dt.date(year, 12, 31),
        )
    return {
        "counts": counts,
        "hr": hr.pk,
        "admin": admin.pk,
        "ent_hr": ent_hr.pk,
        "ambassador": ambassador.pk,
        "big_postings": sum(1 for p in posting_rows if p[1] == big),
    }


# ---- timing -----------------------------------------------------------------------------------


def _time(fn: Callable[[], Any], runs: int) -> list[float]:
    fn()  # warm-up
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def _queries(fn: Callable[[], Any]) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


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
            # DISTINCT on the id only: a bare .distinct() compared every column of 100,000
            # talents and took minutes per run on the first measurement
            per.filter(q).values("pk").distinct().count()
    funnel.destinations(year=year)


def _plain_scoped(viewer: Any, year: int) -> None:
    """Each scoped figure on its own: one COUNT (or SUM) per figure."""
    from django.db.models import Sum

    from qinghe.plan import scoped

    scope = scoped.scope_for_viewer(viewer=viewer)
    for figure in scoped.FIGURES[scope.kind]:
        _, rows = scoped.scoped_rows(scope=scope, code=figure.code, year=year)
        if figure.total:
            rows.order_by().aggregate(n=Sum(figure.total))
        else:
            rows.order_by().count()


def _stats(ours: list[float], plain: list[float] | None, queries: int) -> dict[str, Any]:
    p95 = statistics.quantiles(ours, n=20)[-1]
    row: dict[str, Any] = {
        "n": len(ours),
        "p50": round(statistics.median(ours), 1),
        "p95": round(p95, 1),
        "goal_ratio": round(p95 / GOAL_P95_MS, 2),
        "queries": queries,
    }
    if plain:
        row["plain_p50"] = round(statistics.median(plain), 1)
        row["ratio"] = round(statistics.median(plain) / statistics.median(ours), 1)
    return row


def worker(
    database_url: str, talents: int, postings: int, runs: int, match: str = ""
) -> dict[str, Any]:
    os.environ["QINGHE_REQUIRE_STAFF_2FA"] = "false"
    django_setup(database_url)
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    setup_test_environment()  # the test client's host name, as in the tests
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    ids = _load(talents, postings, random.Random(2026))
    loaded = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    from qinghe.accounts.models import User
    from qinghe.plan import board, scoped

    year = timezone.localdate().year
    cohort = year - 1
    clients: dict[str, Client] = {}
    for name in ("hr", "admin", "ent_hr", "ambassador"):
        clients[name] = Client()
        clients[name].force_login(User.objects.get(pk=ids[name]))

    def page(who: str, url: str) -> Callable[[], None]:
        def get() -> None:
            response = clients[who].get(url)
            if response.status_code != 200:
                raise RuntimeError(f"{url} as {who}: {response.status_code}")

        return get

    runs = max(20, runs)
    plain_runs = 5
    ent_hr = User.objects.get(pk=ids["ent_hr"])
    amb = User.objects.get(pk=ids["ambassador"])
    pages: list[tuple[str, str, str, Callable[[], None] | None]] = [
        ("enterprise board", "ent_hr", f"/plan/mine/?year={year}",
         lambda: _plain_scoped(ent_hr, year)),
        ("chapter board", "ambassador", f"/plan/mine/?year={year}",
         lambda: _plain_scoped(amb, year)),
        ("public figures", "hr", "/figures/", None),
    ]  # fmt: skip
    for who, user in (("ent_hr", ent_hr), ("ambassador", amb)):
        scope = scoped.scope_for_viewer(viewer=user)
        for figure in scoped.FIGURES[scope.kind]:
            pages.append(
                (f"drill {scope.kind}:{figure.code}", who,
                 f"/plan/mine/{figure.code}/?year={year}", None)
            )  # fmt: skip
    pages += [
        ("board", "hr", f"/plan/?year={year}", lambda: _plain_board(year)),
        ("funnel", "hr", f"/plan/funnel/?year={cohort}", lambda: _plain_funnel(cohort)),
    ]
    seen = set()
    for row in board.board(year=year).rows:
        if row.url and row.url not in seen:
            seen.add(row.url)
            pages.append((f"drill board:{row.indicator.code}", "admin", row.url, None))
    out: dict[str, Any] = {
        "vendor": connection.vendor,
        "load_s": round(loaded, 1),
        "counts": ids["counts"],
        "big_postings": ids["big_postings"],
        "pages": [],
    }
    print(f"loaded in {loaded:.1f} s: {ids['counts']}", file=sys.stderr, flush=True)
    for label, who, url, plain in pages:
        if match and not label.startswith(tuple(match.split(","))):
            continue
        print(f"  timing {label} {url}", file=sys.stderr, flush=True)
        get = page(who, url)
        queries = _queries(get)
        ours = _time(get, runs)
        plain_ms = _time(plain, plain_runs) if plain else None
        row = {"label": label, "url": url, **_stats(ours, plain_ms, queries)}
        out["pages"].append(row)
        print(f"    {json.dumps(row, ensure_ascii=False)}", file=sys.stderr, flush=True)
    out["loadavg"] = [round(x, 2) for x in os.getloadavg()]
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--talents", type=int, default=100_000)
    parser.add_argument("--postings", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--worker", default="")
    parser.add_argument("--match", default="", help="labels to time: prefixes, comma-separated")
    parser.add_argument("--only", choices=["sqlite", "postgresql", ""], default="")
    args = parser.parse_args()
    if args.worker:
        result = worker(args.worker, args.talents, args.postings, args.runs, args.match)
        print("RESULT " + json.dumps(result, ensure_ascii=False), flush=True)
        return 0
    targets: list[tuple[str, str, Callable[[], None]]] = []
    tmp = tempfile.TemporaryDirectory(prefix="qinghe-bench-board-")
    if args.only != "postgresql":
        targets.append(("sqlite", f"sqlite:///{tmp.name}/bench.sqlite3", lambda: None))
    server = pg_server_url()
    if server and args.only != "sqlite":
        name = f"qinghe_bench_board_{os.getpid()}"
        pg_admin(server, f'CREATE DATABASE "{name}"')
        targets.append(("postgresql", with_database(server, name), lambda: pg_drop(server, name)))
    elif not server:
        print("postgresql: skipped (set BENCH_PG_URL)")
    failed = False
    for label, url, cleanup in targets:
        print(f"{label}: load average before {[round(x, 2) for x in os.getloadavg()]}", flush=True)
        try:
            run = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--worker",
                    url,
                    "--talents",
                    str(args.talents),
                    "--postings",
                    str(args.postings),
                    "--runs",
                    str(args.runs),
                    "--match",
                    args.match,
                ],
                stdout=subprocess.PIPE,
                text=True,
                cwd=ROOT,
            )  # fmt: skip  (the worker's progress and errors go to stderr as they happen)
        finally:
            cleanup()
        line = next((x for x in run.stdout.splitlines() if x.startswith("RESULT ")), "")
        if not line:
            print(f"{label}: failed (the worker's error is above)")
            failed = True
            continue
        r = json.loads(line[7:])
        print(
            f"{label}: {args.talents} talents, {args.postings} postings "
            f"(the large enterprise: {r['big_postings']}), loaded in {r['load_s']} s"
        )
        print("  rows: " + ", ".join(f"{k} {v}" for k, v in r["counts"].items()))
        for f in r["pages"]:
            extra = (
                f", plain way (one query per figure) p50 {f['plain_p50']} ms, ratio {f['ratio']}x"
                if "ratio" in f
                else ""
            )
            ok = "ok" if f["p95"] <= GOAL_P95_MS else "OVER the goal"
            print(
                f"  {f['label']}: p50 {f['p50']} ms, p95 {f['p95']} ms over {f['n']} requests "
                f"({ok}: p95/{GOAL_P95_MS:.0f} ms = {f['goal_ratio']}), {f['queries']} queries"
                f"{extra}  [{f['url']}]"
            )
        print(f"  load average after: {r['loadavg']}")
    tmp.cleanup()
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
