"""Growth curves at 10k, 100k and 1M talents on PostgreSQL: prints measured figures and slopes.

    BENCH_PG_URL=postgres://qinghe:qinghe@127.0.0.1:5432/qinghe_growth \\
        .venv/bin/python bench/bench_growth.py [--sizes 10000,100000,1000000]
            [--import-sizes 10000,100000,1000000] [--postings 20000] [--runs 20]
            [--ops load,recompute,figures,pages,import] [--mem-limit-mb 8192] [--keep]

(``make growth`` runs it; about an hour and a half at 1M on this machine under load, so it is not
part of ``make bench``.)

Databases, all on the server named by ``BENCH_PG_URL`` (its database name is the base name):

- ``<base>``: migrated, the reference data loaded and the majors' occupations built, once; the
  template of the others (``CREATE DATABASE ... TEMPLATE``, a file copy);
- ``<base>_<size>``: per size, filled by ``bench_board._load`` (``qinghe.core.bulk``, COPY; the
  same loader as the board benchmark, imported, with its 27 industries and 10 towns taken
  from the reference data already there rather than created again), then made matchable:
  nine in ten talents consent to matching, every education gets a catalog major and a level,
  every talent a phone (encrypted, with its blind index), and the postings realistic titles
  (``bench_job_search``'s roles), salaries, levels and jieba search tokens. Occupation tags are
  a *tag copy*: the real classifier tags one posting per distinct title and the other
  postings with that title get a copy of its rows (``source=auto``), so the recompute finds
  nothing left to classify;
- ``<base>_import``: per import size, a fresh copy of the template.

Each timed step is its own process. For each one: wall seconds, the CPU seconds of the Python
process and of its PostgreSQL backend (``/proc/<pid>/stat`` of ``pg_backend_pid()``, the same
machine), the process's peak resident memory (``VmHWM``) and the load average. The parent
watches the recompute's memory and stops it above ``--mem-limit-mb`` (reported as the
bottleneck). Steps:

- import: ``qinghe.talents.importing.run.survey_import_path`` on files made by
  ``bench/make_survey.py`` (cached in var/growth/); the importer refuses files over 20 MB, so
  sizes over 150,000 rows are imported as several files into the same database, summed;
- recompute: ``qinghe.matching.services.recompute.recommendations_recompute_all`` (persisted);
- figures: the schedule's ``refresh_plan_figures`` job (``qinghe.plan.precomputed.figures_refresh``:
  the board's, the public page's and two cohorts' funnel figures, which the pages then read);
- pages through Django's test client, 20 requests after a warm-up, p50/p95: the staff talent
  list filtered (status and graduation year), a phone lookup (blind index), a name search
  (part of a name), the job search (a word, as a student) and the 十个一 board ``/plan/``;
  Python and PostgreSQL CPU per request beside; a query over ``--page-timeout`` seconds (60)
  ends that page's timing and is reported as "did not finish".

Then a table: operation, the figure at each size, the slope (log-log: log(t2/t1)/log(n2/n1),
1.0 = linear in talents, 0 = flat), peak memory and load average; and JSON in
var/growth/results.json (each step is also appended as it finishes to var/growth/steps.jsonl,
so a long run can be resumed with ``--ops`` and the table printed with ``--table``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from _shared import django_setup, pg_admin, pg_drop, pg_server_url, with_database  # noqa: E402

OUT = ROOT / "var" / "growth"
STEPS = OUT / "steps.jsonl"
TICK = os.sysconf("SC_CLK_TCK")
TITLE_POOL = 240


def _label(n: int) -> str:
    return f"{n // 1_000_000}m" if n % 1_000_000 == 0 else f"{n // 1000}k"


# ---------------------------------------------------------------------------- worker side


def _backend_cpu(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except OSError:
        return float("nan")


def _hwm_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Meter:
    """Wall, own CPU and the PostgreSQL backend's CPU of one step."""

    def __init__(self) -> None:
        from django.db import connection

        connection.ensure_connection()
        with connection.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            self.pid = cur.fetchone()[0]
        self.db0 = _backend_cpu(self.pid)
        self.cpu0 = time.process_time()
        self.t0 = time.perf_counter()

    def done(self) -> dict[str, Any]:
        from django.db import connection

        wall = time.perf_counter() - self.t0
        cpu = time.process_time() - self.cpu0
        with connection.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            same = cur.fetchone()[0] == self.pid
        db = _backend_cpu(self.pid) - self.db0 if same else float("nan")
        return {
            "wall_s": round(wall, 1),
            "cpu_s": round(cpu, 1),
            "db_cpu_s": round(db, 1),
            "peak_mb": round(_hwm_mb()),
            "loadavg": [round(x, 2) for x in os.getloadavg()],
        }


def worker_base(args: argparse.Namespace) -> dict[str, Any]:
    django_setup(args.database_url)
    from django.core.management import call_command

    from qinghe.matching.services import majors
    from qinghe.reference.models import Occupation

    call_command("migrate", verbosity=0, interactive=False)
    if not Occupation.objects.exists():
        call_command("load_reference", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
        majors.major_occupations_build()
    return {}


def _get_or_create_by_code(model: Any) -> Any:
    """``model.objects.create`` that takes the row of that code when there is one (the
    reference data are loaded before ``bench_board._load``, which creates its own)."""
    original = model.objects.create

    def create(**kwargs: Any) -> Any:
        found = model.objects.filter(code=kwargs["code"]).first()
        return found if found is not None else original(**kwargs)

    model.objects.create = create
    return original


def _make_matchable(rng: random.Random, ids: dict[str, Any]) -> dict[str, Any]:
    """Consents, majors, phones, realistic postings and the tag copy (see the docstring)."""
    from bench_board import Copier, _next_id, _reset_sequences
    from bench_job_search import PREFIXES, ROLES, SUFFIXES
    from django.db import connection, transaction
    from django.utils import timezone

    from qinghe.accounts.phones import phone_index
    from qinghe.jobs import search
    from qinghe.jobs.models import Posting
    from qinghe.matching.models import PostingOccupation
    from qinghe.matching.services import tags
    from qinghe.talents.models import Consent, PhoneNumber, Talent
    from qinghe.talents.services import NOTICE_VERSION

    out: dict[str, Any] = {}
    now = timezone.now()
    talent_ids = list(Talent.objects.order_by("id").values_list("id", flat=True))
    with transaction.atomic():
        # nine in ten consent to matching
        consenting = [t for t in talent_ids if t % 10]
        first = _next_id(Consent)
        Copier(
            Consent, ["talent_id", "purpose", "granted", "notice_version", "recorded_at"]
        ).insert(
            (
                (first + i, t, "matching", True, NOTICE_VERSION, now)
                for i, t in enumerate(consenting)
            )
        )
        out["consenting"] = len(consenting)
        # every talent a phone: the blind index per number, one ciphertext for all (the lookup
        # reads the index only; the page shows the found talent's masked number)
        first = _next_id(PhoneNumber)
        cipher = PhoneNumber._meta.get_field("number").get_db_prep_save("13800000000", connection)
        Copier(
            PhoneNumber,
            ["talent_id", "number", "number_index", "is_current", "source", "first_seen"],
        ).insert(
            (
                (first + i, t, cipher, phone_index(f"138{t:08d}"), True, "survey", now)
                for i, t in enumerate(talent_ids)
            )
        )
        _reset_sequences([Consent, PhoneNumber])
        with connection.cursor() as cur:
            # a catalog major and a level for every education (70 % bachelor)
            cur.execute("SELECT count(*) FROM reference_major")
            n_majors = cur.fetchone()[0]
            cur.execute(
                """
                UPDATE talents_education e
                   SET major_id = m.id, major_name = m.name, major_category_id = m.category_id,
                       level = CASE WHEN e.id %% 10 < 7 THEN 'bachelor'
                                    WHEN e.id %% 10 < 9 THEN 'junior' ELSE 'master' END
                  FROM (SELECT id, name, category_id,
                               row_number() OVER (ORDER BY id) - 1 AS k
                          FROM reference_major) m
                 WHERE m.k = (e.id * 7919) %% %s
                """,
                [n_majors],
            )
            out["educations_with_major"] = cur.rowcount
        # postings: realistic titles, salaries, levels and search tokens
        pool = []
        for role, text, _industry in ROLES:
            for prefix in PREFIXES[2:]:
                for suffix in SUFFIXES[1:]:
                    pool.append((f"{prefix}{role}{suffix}", text))
        rng.shuffle(pool)
        pool = pool[:TITLE_POOL]
        postings = list(Posting.objects.select_related("enterprise").order_by("id"))
        for n, p in enumerate(postings):
            p.title, p.description = pool[n % len(pool)]
            low = rng.choice([None, 3000, 4000, 5000, 6000, 8000])
            p.salary_min, p.salary_max = low, (low + 2000 if low else None)
            p.min_level = rng.choice(["", "", "junior", "bachelor", "master"])
            p.search_tokens = search.document_tokens(p.title, p.description, p.enterprise.name)
        Posting.objects.bulk_update(
            postings,
            ["title", "description", "salary_min", "salary_max", "min_level", "search_tokens"],
            batch_size=2000,
        )
    # the tag copy: the classifier on one posting per title, copied to the others
    started = time.perf_counter()
    sources = [p.pk for p in postings[: len(pool)]]
    tags.postings_classify(posting_ids=sources)
    out["classified"] = len(sources)
    out["classify_s"] = round(time.perf_counter() - started, 1)
    columns = [
        f.column
        for f in PostingOccupation._meta.concrete_fields
        if f.column not in ("id", "posting_id")
    ]
    cols = ", ".join(columns)
    src_cols = ", ".join(f"t.{c}" for c in columns)
    with connection.cursor() as cur:
        cur.execute(
            f"""
            INSERT INTO matching_postingoccupation (posting_id, {cols})
            SELECT p.id, {src_cols}
              FROM jobs_posting p
              JOIN jobs_posting s ON s.title = p.title AND s.id = ANY(%s)
              JOIN matching_postingoccupation t ON t.posting_id = s.id
             WHERE NOT p.id = ANY(%s)
            """,
            [sources, sources],
        )
        out["tags_copied"] = cur.rowcount
    return out


def worker_load(args: argparse.Namespace) -> dict[str, Any]:
    os.environ["QINGHE_REQUIRE_STAFF_2FA"] = "false"
    django_setup(args.database_url)
    import bench_board
    from django.db import connection

    from qinghe.reference.models import Industry, Town

    meter = Meter()
    originals = [(m, _get_or_create_by_code(m)) for m in (Industry, Town)]
    try:
        ids = bench_board._load(args.talents, args.postings, random.Random(2026))
    finally:
        for model, original in originals:
            model.objects.create = original
    loaded = meter.done()
    meter2 = Meter()
    extra = _make_matchable(random.Random(7), ids)
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    return {
        "load": loaded,
        "matchable": meter2.done(),
        "counts": ids["counts"] | extra,
        "accounts": {k: ids[k] for k in ("hr", "admin", "ent_hr", "ambassador")},
    }


def worker_recompute(args: argparse.Namespace) -> dict[str, Any]:
    django_setup(args.database_url)
    from qinghe.matching.models import Candidate, PostingFairness, Recommendation
    from qinghe.matching.services import recompute

    meter = Meter()
    result = recompute.recommendations_recompute_all()
    measured = meter.done()
    return {
        **measured,
        "phases": {k: round(v, 1) for k, v in getattr(result, "phases", {}).items()},
        "talents": result.talents,
        "postings": result.postings,
        "stored": {
            "recommendations": Recommendation.objects.count(),
            "candidates": Candidate.objects.count(),
            "fairness": PostingFairness.objects.count(),
        },
    }


def worker_figures(args: argparse.Namespace) -> dict[str, Any]:
    """The schedule's ``refresh_plan_figures`` job: the board, public and funnel figures that
    the board's page reads (``qinghe.plan.precomputed``)."""
    django_setup(args.database_url)
    from qinghe.plan import precomputed

    meter = Meter()
    groups = precomputed.figures_refresh()
    return {**meter.done(), "groups": groups}


def worker_pages(args: argparse.Namespace) -> dict[str, Any]:
    os.environ["QINGHE_REQUIRE_STAFF_2FA"] = "false"
    django_setup(args.database_url)
    from django.db import connection
    from django.db.utils import OperationalError

    # A query over --page-timeout seconds ends the page's timing (recorded as such): at 1M
    # talents one of the board's queries does not finish in minutes (docs/SCALING.md).
    options = connection.settings_dict.setdefault("OPTIONS", {})
    options["options"] = (
        f"{options.get('options', '')} -c statement_timeout={args.page_timeout * 1000}".strip()
    )
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from django.utils import timezone

    from qinghe.accounts.models import User
    from qinghe.talents.models import Talent

    setup_test_environment()
    year = timezone.localdate().year
    hr = Client()
    hr.force_login(User.objects.get(username="bench_hr"))
    student = Client()
    student.force_login(User.objects.filter(role="student").order_by("id").first())
    n = Talent.objects.count()
    some = Talent.objects.order_by("id").values_list("id", "name")[n // 2]
    pages = [
        (
            "talent list, filtered",
            hr,
            f"/talents/?status=employed_heshan&graduation_year={year - 1}",
        ),
        ("talent lookup by phone", hr, f"/talents/?q=138{some[0]:08d}"),
        ("talent name search", hr, f"/talents/?q={some[1][:-1]}"),
        ("job search", student, "/jobs/?q=工程师"),
        ("board /plan/", hr, f"/plan/?year={year}"),
    ]
    out = []
    for label, client, url in pages:
        print(f"  {label} {url}", file=sys.stderr, flush=True)

        def get(client: Any = client, url: str = url) -> Any:
            response = client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"{url}: {response.status_code}")
            return response

        try:
            started = time.perf_counter()
            with CaptureQueriesContext(connection) as ctx:
                get()  # the warm-up
        except OperationalError as exc:  # the statement timeout
            out.append(
                {
                    "label": label,
                    "url": url,
                    "timed_out": f"a query over {args.page_timeout} s "
                    f"(request stopped after {time.perf_counter() - started:.0f} s)",
                    "error": str(exc).splitlines()[0][:200],
                    "loadavg": [round(x, 2) for x in os.getloadavg()],
                }
            )
            print(f"    {json.dumps(out[-1], ensure_ascii=False)}", file=sys.stderr, flush=True)
            connection.close()
            continue
        queries = len(ctx.captured_queries)  # now: the next requests reset the log
        times = []
        with connection.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            backend = cur.fetchone()[0]
        db0 = _backend_cpu(backend)
        cpu0 = time.process_time()
        for _ in range(args.runs):
            t = time.perf_counter()
            get()
            times.append((time.perf_counter() - t) * 1000)
        out.append(
            {
                "label": label,
                "url": url,
                "queries": queries,
                "p50_ms": round(statistics.median(times), 1),
                "p95_ms": round(statistics.quantiles(times, n=20)[-1], 1),
                "cpu_ms_per_request": round((time.process_time() - cpu0) * 1000 / args.runs, 1),
                "db_cpu_ms_per_request": round((_backend_cpu(backend) - db0) * 1000 / args.runs, 1),
                "loadavg": [round(x, 2) for x in os.getloadavg()],
            }
        )
        print(f"    {json.dumps(out[-1], ensure_ascii=False)}", file=sys.stderr, flush=True)
    return {"pages": out, "peak_mb": round(_hwm_mb())}


def worker_import(args: argparse.Namespace) -> dict[str, Any]:
    django_setup(args.database_url)
    from django.conf import settings

    settings.MEDIA_ROOT = str(OUT / "media")
    from qinghe.talents.importing.run import survey_import_path
    from qinghe.talents.models import Talent

    meter = Meter()
    result = survey_import_path(args.file, source_name="bench: 教育局毕业生就业调查")
    measured = meter.done()
    return {**measured, "line": result.summary_line, "talents": Talent.objects.count()}


WORKERS = {
    "base": worker_base,
    "load": worker_load,
    "recompute": worker_recompute,
    "figures": worker_figures,
    "pages": worker_pages,
    "import": worker_import,
}


# ---------------------------------------------------------------------------- orchestration


def _rss_mb(pid: int) -> tuple[float, float]:
    rss = hwm = 0.0
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1]) / 1024
                elif line.startswith("VmHWM:"):
                    hwm = int(line.split()[1]) / 1024
    except OSError:
        pass
    return rss, hwm


def run_worker(kind: str, url: str, args: argparse.Namespace, **extra: Any) -> dict[str, Any]:
    """Runs one step in its own process; the parent stops it above the memory limit."""
    command = [sys.executable, __file__, "--worker", kind, "--database-url", url,
               "--runs", str(args.runs), "--postings", str(args.postings),
               "--page-timeout", str(args.page_timeout)]  # fmt: skip
    for key, value in extra.items():
        command += [f"--{key}", str(value)]
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    watch = {"peak": 0.0, "killed": False, "killed_at_s": None}

    def watcher() -> None:
        while proc.poll() is None:
            rss, hwm = _rss_mb(proc.pid)
            watch["peak"] = max(watch["peak"], hwm, rss)
            if rss > args.mem_limit_mb:
                watch["killed"] = True
                watch["killed_at_s"] = round(time.perf_counter() - started, 1)
                proc.kill()
                return
            time.sleep(0.5)

    thread = threading.Thread(target=watcher, daemon=True)
    thread.start()
    stdout, _ = proc.communicate()
    thread.join()
    wall = round(time.perf_counter() - started, 1)
    if watch["killed"]:
        return {
            "stopped": f"over {args.mem_limit_mb} MB after {watch['killed_at_s']} s",
            "peak_mb": round(watch["peak"]),
            "wall_s": wall,
            "loadavg": [round(x, 2) for x in os.getloadavg()],
        }
    line = next((x for x in stdout.splitlines() if x.startswith("RESULT ")), "")
    if proc.returncode != 0 or not line:
        return {"failed": f"exit {proc.returncode}", "wall_s": wall}
    return json.loads(line[7:]) | {"process_wall_s": wall}


def _record(step: dict[str, Any]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with STEPS.open("a") as f:
        f.write(json.dumps(step, ensure_ascii=False) + "\n")
    print(f"STEP {json.dumps(step, ensure_ascii=False)}", flush=True)


def _create_from_template(server: str, name: str, template: str) -> None:
    pg_drop(server, name)
    pg_admin(server, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')


def _db_size(server: str, name: str) -> str:
    import psycopg

    with psycopg.connect(with_database(server, "postgres")) as conn:
        row = conn.execute("SELECT pg_size_pretty(pg_database_size(%s))", [name]).fetchone()
    return row[0] if row else "?"


# The importer refuses files over 20 MB (MAX_UPLOAD_BYTES): about 190,000 generated rows. Larger
# sizes are imported as several files of at most this many rows, one after another into the
# same database, as a province's survey would be (one file per city or school).
FILE_ROWS = 150_000


def survey_files(rows: int) -> list[Path]:
    parts = math.ceil(rows / FILE_ROWS)
    per = math.ceil(rows / parts)
    out = []
    for i in range(parts):
        count = min(per, rows - i * per)
        path = OUT / (
            f"survey-{rows}.xlsx" if parts == 1 else f"survey-{rows}-{i + 1}of{parts}.xlsx"
        )
        if not path.exists():
            OUT.mkdir(parents=True, exist_ok=True)
            started = time.perf_counter()
            tmp = path.with_suffix(".tmp.xlsx")
            subprocess.run(
                [sys.executable, str(ROOT / "bench" / "make_survey.py"), "--rows", str(count),
                 "--out", str(tmp), "--seed", str(20250601 + i)],
                check=True, cwd=ROOT,
            )  # fmt: skip
            tmp.rename(path)
            print(f"survey file {path.name}: {time.perf_counter() - started:.0f} s", flush=True)
        out.append(path)
    return out


def slope(points: list[tuple[int, float]]) -> str:
    """Log-log slopes between consecutive sizes: 1.0 is linear in talents."""
    out = []
    for (n1, t1), (n2, t2) in zip(points, points[1:], strict=False):
        if t1 > 0 and t2 > 0:
            out.append(f"{math.log(t2 / t1) / math.log(n2 / n1):.2f}")
    return " / ".join(out) if out else "—"


def table(steps: list[dict[str, Any]], sizes: list[int]) -> str:
    """The growth table from recorded steps (the last record of each step and size wins)."""
    latest: dict[tuple[str, int], dict[str, Any]] = {}
    for s in steps:
        latest[(s["op"], s["talents"])] = s
    rows: list[tuple[str, dict[int, str], str, str, str]] = []

    def batch(op: str, name: str, key: str = "") -> None:
        cells: dict[int, str] = {}
        pts: list[tuple[int, float]] = []
        cpu_pts: list[tuple[int, float]] = []
        peaks, loads = [], []
        for n in sizes:
            s = latest.get((op, n))
            if s is None:
                continue
            r = s["result"][key] if key else s["result"]
            if "stopped" in r or "failed" in r:
                cells[n] = r.get("stopped") or r.get("failed")
                peaks.append(f"{r.get('peak_mb', '?')}")
                continue
            cells[n] = f"{r['wall_s']:,.1f} s (cpu {r['cpu_s']:,.0f} + db {r['db_cpu_s']:,.0f})"
            pts.append((n, r["wall_s"]))
            cpu_pts.append((n, r["cpu_s"] + r["db_cpu_s"]))
            peaks.append(f"{r['peak_mb']:,}")
            loads.append(f"{r['loadavg'][0]:.1f}")
        rows.append(
            (name, cells, f"wall {slope(pts)}; cpu {slope(cpu_pts)}", " / ".join(peaks),
             " / ".join(loads))
        )  # fmt: skip

    batch("import", "survey import (real importer)")
    batch("load", "COPY load (bench_board._load)", "load")
    batch("recompute", "full recompute, persisted (× 20k postings)")
    batch("figures", "the plan's figures refresh (scheduled, every 10 min)")
    labels = []
    for s in steps:
        if s["op"] == "pages":
            for p in s["result"].get("pages", []):
                if p["label"] not in labels:
                    labels.append(p["label"])
    for label in labels:
        cells = {}
        pts = []
        cpu_pts: list[tuple[int, float]] = []
        loads = []
        for n in sizes:
            s = latest.get(("pages", n))
            page = next((p for p in (s or {}).get("result", {}).get("pages", [])
                         if p["label"] == label), None)  # fmt: skip
            if page is None:
                continue
            if "timed_out" in page:
                cells[n] = f"did not finish: {page['timed_out']}"
                loads.append(f"{page['loadavg'][0]:.1f}")
                continue
            db = page.get("db_cpu_ms_per_request")
            cells[n] = (
                f"p50 {page['p50_ms']:,.0f} / p95 {page['p95_ms']:,.0f} ms ({page['queries']} q"
                + (f"; cpu {page['cpu_ms_per_request']:,.0f} + db {db:,.0f} ms" if db else "")
                + ")"
            )
            pts.append((n, page["p50_ms"]))
            if db is not None:
                cpu_pts.append((n, page["cpu_ms_per_request"] + db))
            loads.append(f"{page['loadavg'][0]:.1f}")
        rows.append(
            (label, cells, f"p50 {slope(pts)}; cpu {slope(cpu_pts)}", "", " / ".join(loads))
        )
    head = (
        "| operation | "
        + " | ".join(_label(n) for n in sizes)
        + " | slope (log-log) | peak MB | load |"
    )
    lines = [head, "|" + "---|" * (len(sizes) + 4)]
    for name, cells, slopes, peak, load in rows:
        lines.append(
            f"| {name} | " + " | ".join(cells.get(n, "—") for n in sizes)
            + f" | {slopes} | {peak or '—'} | {load or '—'} |"
        )  # fmt: skip
    return "\n".join(lines)


def read_steps() -> list[dict[str, Any]]:
    if not STEPS.exists():
        return []
    return [json.loads(line) for line in STEPS.read_text().splitlines() if line.strip()]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--import-sizes", default="")
    parser.add_argument("--postings", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--ops", default="load,recompute,figures,pages,import")
    parser.add_argument("--mem-limit-mb", type=int, default=8192)
    parser.add_argument("--page-timeout", type=int, default=60, help="seconds per query")
    parser.add_argument("--keep", action="store_true", help="keep the per-size databases")
    parser.add_argument("--table", action="store_true", help="print the table of var/growth only")
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--talents", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        result = WORKERS[args.worker](args)
        print("RESULT " + json.dumps(result, ensure_ascii=False), flush=True)
        return 0
    sizes = [int(x) for x in args.sizes.split(",") if x]
    import_sizes = [int(x) for x in (args.import_sizes or args.sizes).split(",") if x]
    if args.table:
        print(table(read_steps(), sorted(set(sizes) | set(import_sizes))))
        return 0
    server = pg_server_url()
    if server is None:
        print("bench_growth needs PostgreSQL: set BENCH_PG_URL (its database is the base name)")
        return 2
    base = server.rsplit("/", 1)[1].split("?")[0]
    if not base.startswith("qinghe_growth"):
        base = "qinghe_growth"  # never the database named for other work
    ops = set(args.ops.split(","))
    print(
        f"growth: sizes {sizes}, imports {import_sizes}, {args.postings:,} postings; machine: "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()}; code at "
        + subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                         text=True, cwd=ROOT).stdout.strip(),
        flush=True,
    )  # fmt: skip
    try:
        pg_admin(server, f'CREATE DATABASE "{base}"')
    except Exception:  # noqa: BLE001  (it is there already)
        pass
    started = time.perf_counter()
    run_worker("base", with_database(server, base), args)
    print(f"template {base}: ready in {time.perf_counter() - started:.0f} s", flush=True)
    for n in sizes if ops & {"load", "recompute", "figures", "pages"} else []:
        name = f"{base}_{_label(n)}"
        url = with_database(server, name)
        if "load" in ops:
            _create_from_template(server, name, base)
            _record(
                {"op": "load", "talents": n, "result": run_worker("load", url, args, talents=n)}
            )
        if "recompute" in ops:
            _record({"op": "recompute", "talents": n, "result": run_worker("recompute", url, args)})
        if "figures" in ops:
            _record({"op": "figures", "talents": n, "result": run_worker("figures", url, args)})
        if "pages" in ops:
            _record({"op": "pages", "talents": n, "result": run_worker("pages", url, args)})
        print(f"database {name}: {_db_size(server, name)}", flush=True)
        if not args.keep:
            pg_drop(server, name)
    if "import" in ops:
        for n in import_sizes:
            paths = survey_files(n)
            name = f"{base}_import"
            _create_from_template(server, name, base)
            files = [run_worker("import", with_database(server, name), args, file=p) for p in paths]
            if len(files) == 1 or any("failed" in f or "stopped" in f for f in files):
                result = (
                    files[0] if len(files) == 1 else {"failed": "a file failed", "files": files}
                )
            else:
                result = {
                    key: round(sum(f[key] for f in files), 1)
                    for key in ("wall_s", "cpu_s", "db_cpu_s")
                } | {
                    "peak_mb": max(f["peak_mb"] for f in files),
                    "loadavg": files[-1]["loadavg"],
                    "files": files,
                }
            result["database"] = _db_size(server, name)
            _record({"op": "import", "talents": n, "result": result})
            pg_drop(server, name)
    all_sizes = sorted(set(sizes) | set(import_sizes))
    print(table(read_steps(), all_sizes))
    (OUT / "results.json").write_text(json.dumps(read_steps(), ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
