"""`make loadtest`: Locust against the production stack (scripts/prodstack.py: nginx + TLS,
gunicorn with uvicorn workers, PostgreSQL, Redis, the task and outbox workers, the scheduler)
on PostgreSQL holding 100,000 talents and 20,000 postings, while a 100,000-row survey import
runs through the real importer.

    .venv/bin/python bench/loadtest.py [--users 100] [--seconds 60] [--talents 100000]
                                       [--postings 20000] [--web-workers 3] [--web-class uvicorn|gthread]
                                       [--no-import]

1. Prepare (once; the database `qinghe_load` and its keys are kept in var/prodstack/): migrate,
   reference data, 2,000 enterprises, the postings and the talents seeded by
   bench/bench_recompute_db.py's seeder (bulk rows, real classifier), the demo world
   (seed_demo: the demo enterprise with its applicants), the full recompute of 为你推荐, and
   20 staff accounts with confirmed TOTP devices (each simulated staff member signs in with
   its own code), and 200 student accounts, each on a seeded talent with its recommendations
   (each simulated student browses as its own account, signed in once before the mix).
2. Baseline: the same users hit `/healthz` (a bare Django view: one `SELECT 1`) through the same
   nginx and workers; its requests per second are the yardstick.
3. The mix (bench/locustfile.py): students (7 in 10) browse 为你推荐, search jobs and open a
   posting; enterprises (1.5 in 10) review their applicants; staff (1.5 in 10) filter the talent
   list and open the plan board. Meanwhile the import of a 100,000-row survey file runs.
4. Prints, per page: requests, median, p95, p99, max and errors; the requests per second of
   the mix against the baseline; the import's time; the load average before and after.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "bench"))
from privatepg import PrivatePostgres  # noqa: E402
from prodstack import (  # noqa: E402
    VENV_BIN,
    WORKER_UNIT,
    Stack,
    join_group,
    pg_admin,
    run_idle,
    unit_cpu_weight,
    unit_environment,
    unit_idle,
    unit_nice,
)

STAFF_ACCOUNTS = 20
# A fixed TOTP key per load-test staff account (hex, as django-otp stores it): the locustfile
# computes each account's codes from it. The accounts exist only in the load-test database.
STAFF_KEY = "3132333435363738393031323334353637383930"

PREPARE_USERS = f"""
from django_otp.plugins.otp_totp.models import TOTPDevice
from qinghe.accounts.demo import DEMO_PASSWORD
from qinghe.accounts.models import User
from qinghe.accounts.services import user_create
from qinghe.core.roles import Role
for i in range({STAFF_ACCOUNTS}):
    name = f"load_staff_{{i}}"
    user = User.objects.filter(username=name).first() or user_create(
        username=name, password=DEMO_PASSWORD, role=Role.HR_STAFF, display_name=f"压测人员{{i}}"
    )
    TOTPDevice.objects.get_or_create(user=user, name="load", defaults={{"key": "{STAFF_KEY}", "confirmed": True}})
print("users ok")
"""

STUDENT_ACCOUNTS = 200
# Students of the seeded talents (each with its recommendations from the full recompute and its
# consent to matching), one account each: per-student kept parts (core/fragments.py) are
# measured with as many students as a busy minute has, not one shared demo student. Added to a
# prepared database that lacks them (a few seconds).
PREPARE_STUDENTS = f"""
from django.db.models import Count
from qinghe.accounts.demo import demo_password_hash
from qinghe.accounts.models import User
from qinghe.accounts.services import user_create
from qinghe.core.roles import Role
from qinghe.matching.models import Recommendation
from qinghe.talents.models import Talent
have = set(User.objects.filter(username__startswith="load_student_").values_list("username", flat=True))
wanted = [f"load_student_{{i}}" for i in range({STUDENT_ACCOUNTS}) if f"load_student_{{i}}" not in have]
if wanted:
    talents = list(
        Recommendation.objects.filter(talent__user__isnull=True, talent__merged_into__isnull=True)
        .values("talent_id").annotate(n=Count("id")).filter(n__gte=10)
        .order_by("talent_id").values_list("talent_id", flat=True)[: len(wanted)]
    )
    hashed = demo_password_hash()
    for name, talent_id in zip(wanted, talents, strict=True):
        user = user_create(username=name, password="", role=Role.STUDENT, display_name=name,
                           validate=False, password_hash=hashed)
        Talent.objects.filter(pk=talent_id, user__isnull=True).update(user=user)
print("students", len(have) + len(wanted))
"""

# Each run signs its students in once before the mix (django.contrib.auth.login, which also
# writes the sign-in to the audit trail): an Argon2 check per account, about a quarter of a
# second of CPU each, is the sign-in's cost, not the pages'. Prints the session cookies.
STUDENT_SESSIONS = f"""
import json
from django.conf import settings
from django.test import Client
from qinghe.accounts.models import User
cookies = {{}}
for user in User.objects.filter(username__startswith="load_student_").order_by("id")[:{STUDENT_ACCOUNTS}]:
    client = Client()
    client.force_login(user, backend="qinghe.accounts.backends.UsernameOrPhoneBackend")
    cookies[user.username] = client.cookies[settings.SESSION_COOKIE_NAME].value
print("SESSIONS", json.dumps({{"cookie": settings.SESSION_COOKIE_NAME, "sessions": cookies}}))
"""

RECOMPUTE = """
from qinghe.matching.services import recompute
r = recompute.recommendations_recompute_all()
print("RECOMPUTE", r.talents, r.postings, r.recommendations, round(r.seconds, 1))
"""

# The seeder publishes every posting at the same instant; real postings are published over
# weeks, and the job list's order (published_at DESC, id DESC) reads very differently when all
# 20,000 tie (the sort must read them all): spread them over the last 90 days.
SPREAD = """
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute(
        "UPDATE jobs_posting SET published_at = published_at - make_interval(secs => (id * 7919) % 7776000) "
        "WHERE published_at > now() - interval '1 day'"
    )
"""

COUNTS = """
from qinghe.talents.models import Talent
from qinghe.jobs.models import Posting
print("COUNTS", Talent.objects.count(), Posting.objects.count())
"""


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


PREPARED = ROOT / "var" / "loadtest"


class CpuSampler:
    """For --trace: every process's CPU seconds (user + system) each second while the mix runs,
    summed by role — the web workers, the import, each one's PostgreSQL backends (a backend is
    matched to its client process by the client's TCP port), PostgreSQL's own processes
    (autovacuum, WAL writer, checkpointer), Locust, the rest of the stack, and everything else
    on the machine (other people's work)."""

    def __init__(self, stack: Stack, importer_pid: int | None) -> None:
        import threading

        self.stack_marker = str(stack.tmp)
        self.importer_pid = importer_pid
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.role: dict[int, str] = {}
        self.started = time.time()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _client_roles(self) -> dict[int, str]:
        import psutil

        roles = {}
        for conn in psutil.net_connections(kind="tcp"):
            if conn.pid and conn.laddr and conn.raddr:
                roles[conn.laddr.port] = self._role_of(conn.pid)
        return roles

    def _role_of(self, pid: int) -> str:
        import psutil

        try:
            proc = psutil.Process(pid)
            cmd = " ".join(proc.cmdline())
            parent = proc.parent()
            ours = self.stack_marker in cmd or (
                parent is not None and self.stack_marker in " ".join(parent.cmdline())
            )
            if not ours:
                with contextlib.suppress(psutil.Error):
                    ours = any(self.stack_marker in v for v in proc.environ().values())
        except psutil.Error:
            return "gone"
        if self.importer_pid and pid == self.importer_pid:
            return "import"
        if "locust" in cmd:
            return "locust"
        if not ours:
            return "other"
        if "gunicorn" in cmd:
            return "web (gunicorn)"
        if "nginx" in cmd:
            return "nginx"
        return "stack: workers, scheduler, redis"

    def _sample(self, ports: dict[int, str]) -> None:
        import psutil

        for proc in psutil.process_iter(["pid", "cmdline", "cpu_times", "create_time"]):
            info = proc.info
            if info["cpu_times"] is None:
                continue
            pid = info["pid"]
            cpu = info["cpu_times"].user + info["cpu_times"].system
            if pid not in self.role:
                cmd = " ".join(info["cmdline"] or [])
                if cmd.startswith("postgres:"):
                    port = (
                        cmd.split("127.0.0.1(", 1)[1].split(")", 1)[0]
                        if "127.0.0.1(" in cmd
                        else ""
                    )
                    if port.isdigit():
                        if int(port) not in ports:
                            ports.update(self._client_roles())
                        self.role[pid] = f"PostgreSQL for {ports.get(int(port), 'other')}"
                    else:
                        self.role[pid] = "PostgreSQL's own (autovacuum, WAL, checkpoints)"
                elif cmd.startswith("postgres") or "/postgres " in cmd:
                    self.role[pid] = "PostgreSQL's own (autovacuum, WAL, checkpoints)"
                else:
                    self.role[pid] = self._role_of(pid)
                self.first[pid] = 0.0 if info["create_time"] > self.started else cpu
            self.last[pid] = cpu

    def _run(self) -> None:
        ports: dict[int, str] = {}
        while not self.stopping.is_set():
            with contextlib.suppress(Exception):
                self._sample(ports)
            self.stopping.wait(1.0)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> dict[str, float]:
        """Cores used by each role over the sampled time."""
        self.stopping.set()
        self.thread.join()
        seconds = max(time.time() - self.started, 0.001)
        used: dict[str, float] = {}
        for pid, cpu in self.last.items():
            used[self.role[pid]] = used.get(self.role[pid], 0.0) + (cpu - self.first[pid]) / seconds
        return dict(sorted(used.items(), key=lambda item: -item[1]))


class DedupedClassifier:
    """The real classifier, asked once per distinct (title, description): the seeded postings
    repeat a few thousand titles, so 20,000 postings cost a few thousand classifications (the
    same answers a posting-by-posting run gives, at a fraction of the time)."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)

    def rank_with_doubt(self, queries: Any, k: int = 5) -> Any:
        distinct = list(dict.fromkeys(queries))
        ranked, doubt = self.model.rank_with_doubt(distinct, k)
        answer = {q: (r, d) for q, r, d in zip(distinct, ranked, doubt, strict=True)}
        return [answer[q][0] for q in queries], [answer[q][1] for q in queries]


def seed_worker(database_url: str, talents: int, postings: int) -> None:
    """In its own process: bench_recompute_db's seeder (2,000 enterprises, the postings with
    their jieba tokens, the talents with educations, consents and preferences) with the
    classifier asked once per distinct title."""
    import functools

    import bench_recompute_db
    from _shared import django_setup

    django_setup(database_url)
    from qinghe.matching import fetch

    real = fetch.classifier
    fetch.classifier = functools.cache(lambda: DedupedClassifier(real()))  # type: ignore[assignment]
    args = argparse.Namespace(database_url=database_url, talents=talents, postings=postings, seed=7)
    print(json.dumps(bench_recompute_db.worker_seed(args)))


QUEUED = (
    "from django_tasks_db.models import DBTaskResult\n"
    "print('QUEUED', DBTaskResult.objects.ready().count())"
)


def drain_tasks(stack: Stack) -> None:
    """The prepared database starts the run with an empty task queue, as a running site is in
    its steady state: the demo world's seeding queues a matching task per posting it publishes
    or closes (82), which the full recompute after it already covers; left queued, the task
    worker would spend the measured minute starting the incremental matcher (reading 100,000
    talents) and working through them beside the pages."""
    queued = int(stack.manage("shell", "-c", QUEUED).split("QUEUED", 1)[1].split()[0])
    if queued:
        started = time.perf_counter()
        stack.manage("db_worker", "--batch", "--no-startup-delay", timeout=3600)
        print(
            f"task queue drained before the run: {queued} tasks, {time.perf_counter() - started:.0f} s"
        )


def run_due_jobs(stack: Stack) -> None:
    """The prepared database starts the run with the schedule's current periods run, as a
    running site is: the stack's scheduler claims at its start every job whose latest period
    nobody ran — on a copy of a database where no scheduler ever ran, all of them, the nightly
    full recompute of 为你推荐 (minutes of CPU, and every student's kept lists new) among them,
    inside the measured minute. Run here once per period instead (the nightly recompute once a
    day); the jobs whose period turns during the run still run then, as on a site."""
    started = time.perf_counter()
    out = stack.manage("run_scheduler", "--once", timeout=3600).strip()
    ran = [line for line in out.splitlines() if line.strip()]
    if ran:
        print(
            f"scheduled jobs of the current periods run before the copy: {len(ran)}, "
            f"{time.perf_counter() - started:.0f} s ({'; '.join(ran)[:300]})"
        )


def prepare(stack: Stack, pg: PrivatePostgres, args: argparse.Namespace) -> str:
    """The prepared database ``qinghe_load`` on the private server, kept in var/loadtest/ with
    its keys (var/prodstack/): made once (about NN minutes), reused by every rerun. Each run
    works on a copy (``CREATE DATABASE … TEMPLATE``, a file copy) so the import of one run
    does not change the next run's data. Returns the copy's name."""
    stamp = PREPARED / f"{args.database}.json"
    if stamp.exists() and stack.keys_loaded:
        print(f"prepared database kept: {stamp.read_text().strip()}")
        stack.manage("migrate", "--noinput", "-v0")  # the code's newer migrations, if any
    else:
        stack.create_database()
        started = time.perf_counter()
        stack.manage("migrate", "--noinput", "-v0")
        stack.manage("load_reference")
        stack.manage("seed_demo")
        stack.manage("shell", "-c", PREPARE_USERS)
        print(
            f"migrated, reference data, demo world, staff accounts: {time.perf_counter() - started:.0f} s"
        )
        started = time.perf_counter()
        done = subprocess.run(
            [str(VENV_BIN / "python"), __file__, "--seed-worker", stack.database_url,
             "--talents", str(args.talents), "--postings", str(args.postings)],
            cwd=ROOT, env=stack.env, check=False, capture_output=True, text=True,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"seeding failed:\n{done.stderr[-3000:]}")
        seeded = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"seeded {seeded['talents']:,} talents, {seeded['postings']:,} open postings: "
            f"{time.perf_counter() - started:.0f} s (rows {seeded['rows_seconds']:.0f} s, "
            f"occupation tags {seeded['classify_seconds']:.0f} s)"
        )
        stack.manage("shell", "-c", SPREAD)
        out = stack.manage("shell", "-c", RECOMPUTE, timeout=3600)
        print(next(line for line in out.splitlines() if line.startswith("RECOMPUTE")))
        stack.manage(
            "shell",
            "-c",
            "from django.db import connection\nconnection.cursor().execute('VACUUM ANALYZE')",
        )
        counts = stack.manage("shell", "-c", COUNTS).strip().splitlines()[-1]
        print(counts)
        stamp.write_text(counts + f" (prepared {time.strftime('%Y-%m-%d %H:%M')})\n")
    print(stack.manage("shell", "-c", PREPARE_STUDENTS, timeout=1800).strip().splitlines()[-1])
    run_due_jobs(stack)
    drain_tasks(stack)
    run = f"{args.database}_run"
    pg_admin(f'DROP DATABASE IF EXISTS "{run}"', pg.url)
    started = time.perf_counter()
    pg_admin(f'CREATE DATABASE "{run}" TEMPLATE "{args.database}" OWNER qinghe', pg.url)
    print(f"this run's copy of it: {time.perf_counter() - started:.1f} s")
    return run


def run_locust(
    stack: Stack,
    classes: list[str],
    users: int,
    seconds: int,
    label: str,
    trace: Path | None = None,
    *,
    warm_up: int = 0,
    on_measure: Callable[[], None] | None = None,
) -> Path:
    """Runs Locust for ``warm_up`` + ``seconds``; its statistics (the CSV) cover the last
    ``seconds`` only: at the end of the warm-up the locustfile writes what it measured so far
    to ``{prefix}_warm_up.json``, empties its statistics and touches ``{prefix}.measuring``,
    which is when ``on_measure`` is called (the import starts)."""
    prefix = stack.tmp / f"locust-{label}"
    mark = Path(f"{prefix}.measuring")
    mark.unlink(missing_ok=True)
    env = {
        **stack.env,
        **({"LOAD_REQUEST_LOG": str(trace / f"requests-{label}.tsv")} if trace else {}),
        "REQUESTS_CA_BUNDLE": str(stack.cafile),
        "LOAD_STAFF_KEY": STAFF_KEY,
        "LOAD_STAFF_ACCOUNTS": str(STAFF_ACCOUNTS),
        "LOAD_WARM_UP_SECONDS": str(warm_up),
        "LOAD_WARM_UP_REPORT": f"{prefix}_warm_up.json",
        "LOAD_MEASURE_MARK": str(mark),
    }
    locust = subprocess.Popen(
        [
            str(VENV_BIN / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
            "--host", stack.base_url, "-u", str(users), "-r", str(max(1, users // 5)),
            "-t", f"{warm_up + seconds}s", "--csv", str(prefix), "--only-summary", "--stop-timeout", "10", "--reset-stats",
            "--loglevel", "WARNING", *classes,
        ],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    if warm_up:
        while not mark.exists() and locust.poll() is None:
            time.sleep(0.05)
    if on_measure is not None:
        on_measure()
    locust.wait()
    failures = Path(f"{prefix}_failures.csv")
    if failures.exists():
        lines = failures.read_text().splitlines()[1:4]
        for line in lines:
            print(f"   failure ({label}): {line[:300]}")
    return Path(f"{prefix}_stats.csv")


def read_stats(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def static_files(stack: Stack) -> None:
    """collectstatic (hashing and compressing every file: minutes on a loaded machine) once per
    change of the sources, kept in var/loadtest/static and copied into the stack's folder."""
    import shutil

    sources = [ROOT / "static", *ROOT.glob("qinghe/*/static")]
    newest = max(
        (p.stat().st_mtime for folder in sources for p in folder.rglob("*") if p.is_file()),
        default=0.0,
    )
    kept = PREPARED / "static"
    stamp = kept / ".sources-mtime"
    if not stamp.exists() or stamp.read_text() != f"{newest:.0f}":
        shutil.rmtree(kept, ignore_errors=True)
        started = time.perf_counter()
        stack.manage("collectstatic", "--noinput", "-v0")
        shutil.copytree(stack.tmp / "static", kept)
        stamp.write_text(f"{newest:.0f}")
        print(f"collectstatic: {time.perf_counter() - started:.0f} s (kept in {kept})")
    else:
        shutil.rmtree(stack.tmp / "static")
        shutil.copytree(kept, stack.tmp / "static", ignore=shutil.ignore_patterns(".sources-mtime"))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--talents", type=int, default=100_000)
    parser.add_argument("--postings", type=int, default=20_000)
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--pool", type=int, default=8, help="connections per process (pool max)")
    parser.add_argument(
        "--web-class", choices=("uvicorn", "gthread"), default="uvicorn",
        help="gunicorn's workers: uvicorn on config.asgi (production) or gthread on config.wsgi "
        "(4 threads each; no websockets, which the mix does not use), to compare serving",
    )  # fmt: skip
    parser.add_argument("--database", default="qinghe_load")
    parser.add_argument("--no-import", action="store_true")
    parser.add_argument(
        "--warm-up", type=int, default=30, metavar="SECONDS",
        help="run the mix this long before the measured seconds (not measured; its figures are "
        "printed apart as the cold start): the measured minute is a site in its steady state, "
        "its per-process caches drawn, when the import starts (0: cold, as before)",
    )  # fmt: skip
    parser.add_argument(
        "--import-nice", type=int, default=unit_nice(),
        help="run the import at this nice level (default: the task worker's Nice= in "
        "deploy/systemd/qinghe-worker.service, where production runs imports)",
    )  # fmt: skip
    parser.add_argument(
        "--import-policy", choices=("idle", "other"), default="idle" if unit_idle() else "other",
        help="the import's CPU scheduling policy: idle (SCHED_IDLE) or other (the default "
        "policy); default: the task worker unit's CPUSchedulingPolicy=",
    )  # fmt: skip
    parser.add_argument(
        "--trace", type=Path, metavar="DIR",
        help="keep in DIR every request's time (Locust), the stack's logs (nginx's access log "
        "with $upstream_response_time), PostgreSQL's log of the run and `vmstat 1`; "
        "bench/latency_trace.py DIR reads them",
    )  # fmt: skip
    parser.add_argument(
        "--import-backends-normal", action="store_true",
        help="leave the import's PostgreSQL backends at normal priority (without the worker "
        "unit's QINGHE_DB_BACKEND_NICE), to compare",
    )  # fmt: skip
    parser.add_argument(
        "--no-cpu-weight", action="store_true",
        help="run the web workers, the task worker and the import each in its session's group "
        "instead of cpu cgroups standing in for their units' CPUWeight= (the comparison: a "
        "session's group takes an equal share of a busy core whatever its tasks' policy)",
    )  # fmt: skip
    parser.add_argument("--prepare-only", action="store_true", help="fill the database and stop")
    parser.add_argument("--seed-worker", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if 0 < args.warm_up < 10:
        parser.error(
            "--warm-up: 0, or at least 10 s (Locust's own reset after spawning comes first)"
        )
    if args.seed_worker:
        seed_worker(args.seed_worker, args.talents, args.postings)
        return 0

    PREPARED.mkdir(parents=True, exist_ok=True)
    pg = PrivatePostgres(keep=PREPARED / "pg")
    print(
        f"private PostgreSQL on :{pg.port} (max_connections {pg.psql('SHOW max_connections')}, data in {pg.dir})"
    )
    run = None
    try:
        with Stack(
            database=args.database,
            keep_database=True,
            web_workers=args.web_workers,
            web_class=args.web_class,
            pg_server=pg.url,
            cpu_weights=not args.no_cpu_weight,
        ) as stack:
            stack.env["QINGHE_DB_POOL_MAX"] = str(args.pool)
            run = prepare(stack, pg, args)
            if args.prepare_only:
                return 0
            pg_log_start = (pg.dir / "log").stat().st_size if (pg.dir / "log").exists() else 0
            # the measured run writes as production does; a traced one also logs PostgreSQL's
            # checkpoints, autovacuums and statements over 200 ms
            logging = {"log_checkpoints": "on", "log_autovacuum_min_duration": "0",
                       "log_min_duration_statement": "200"}  # fmt: skip
            pg.restart({"fsync": "on", **(logging if args.trace else {})})
            stack.use_database(run)
            # the students' sessions go where the stack keeps them (Redis and the database)
            stack.start_redis()
            out = stack.manage("shell", "-c", STUDENT_SESSIONS, timeout=1800)
            sessions = stack.tmp / "student-sessions.json"
            sessions.write_text(out.split("SESSIONS", 1)[1].strip())
            stack.env["LOAD_STUDENT_SESSIONS"] = str(sessions)
            static_files(stack)
            stack.start()
            print(
                f"stack up: nginx+TLS → gunicorn ({args.web_workers} {args.web_class} workers, a pool of ≤ {args.pool} "
                "connections each), PostgreSQL (private), Redis, task and outbox workers, scheduler"
            )
            weights = ", ".join(
                f"{name} {'in ' + str(group) if group else 'not applied'}"
                for name, group in stack.cpu_groups.items()
            )
            print(f"the units' CPUWeight= as cpu cgroups: {weights or 'off (--no-cpu-weight)'}")
            print(f"load average before: {loadavg()}")
            trace = args.trace
            vmstat = None
            if trace:
                trace.mkdir(parents=True, exist_ok=True)
                for old in trace.glob("requests-*.tsv"):
                    old.unlink()
                vmstat = subprocess.Popen(
                    ["vmstat", "-n", "-t", "1"], stdout=(trace / "vmstat.txt").open("w")
                )
                (trace / "events.tsv").write_text(f"{time.time():.3f}\tstack up\n")
            base = read_stats(
                run_locust(
                    stack, ["BareView"], args.users, max(20, args.seconds // 3), "bare", trace
                )
            )
            bare = next(r for r in base if r["Name"] == "Aggregated")

            started: dict[str, Any] = {}
            # the worker unit's environment: its database backends at nice 19 (core/dbpriority.py)
            worker_env = {} if args.import_backends_normal else unit_environment()
            if not args.no_import:
                from bench_import import make_file

                survey = make_file(100_000, ROOT / "var" / "bench")

            def start_import() -> None:
                """At the end of the warm-up: the import starts as the measured seconds do."""
                if trace:
                    with (trace / "events.tsv").open("a") as events:
                        events.write(f"{time.time():.3f}\tmeasured seconds start\n")
                if args.no_import:
                    return
                nice, idle = args.import_nice, args.import_policy == "idle"
                # the import runs where production runs it: in the task worker's cgroup
                # (its unit's CPUWeight=idle)
                group = stack.cpu_group("worker", WORKER_UNIT)
                started["group"] = group

                def lower() -> None:
                    if group is not None:
                        join_group(group)
                    if nice:
                        os.nice(nice)
                    if idle:
                        run_idle()

                started["importer"] = subprocess.Popen(
                    [
                        str(VENV_BIN / "python"), "bench/bench_import.py", "--worker", "import_once",
                        "--file", str(survey), "--database-url", stack.database_url,
                        "--media-root", str(stack.tmp / "media"),
                    ],
                    cwd=ROOT, env={**stack.env, **worker_env}, stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE, text=True,
                    preexec_fn=lower,  # noqa: PLW1509
                )  # fmt: skip
                started["at"] = time.perf_counter()

            sampler = None

            def measure() -> None:
                nonlocal sampler
                start_import()
                if trace:
                    sampler = CpuSampler(
                        stack, started["importer"].pid if "importer" in started else None
                    )
                    sampler.start()

            if trace:
                with (trace / "events.tsv").open("a") as events:
                    events.write(f"{time.time():.3f}\tmix starts\n")
            mix_csv = run_locust(
                stack, ["Student", "Enterprise", "Staff"], args.users, args.seconds, "mix",
                trace, warm_up=args.warm_up, on_measure=measure,
            )  # fmt: skip
            mix = read_stats(mix_csv)
            importer = started.get("importer")
            import_started = started.get("at", 0.0)
            if trace:
                with (trace / "events.tsv").open("a") as events:
                    events.write(f"{time.time():.3f}\tmix ends\n")
            if sampler is not None:
                cores = sampler.stop()
                lines = [f"{role:<52} {used:5.2f}" for role, used in cores.items() if used >= 0.005]
                (trace / "cpu.txt").write_text("\n".join(lines) + "\n")
                print("cores used during the mix, by role:\n  " + "\n  ".join(lines))
            load_after = loadavg()
            connections = pg.psql(
                "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
            )
            import_line = ""
            if importer is not None:
                out, err = importer.communicate(timeout=3600)
                import_seconds = time.perf_counter() - import_started
                if importer.returncode != 0:
                    import_line = f"import FAILED: {err[-500:]}"
                else:
                    result = json.loads(out.strip().splitlines()[-1])
                    where = f", nice {args.import_nice}" if args.import_nice else ""
                    if started.get("group") is not None:
                        where += f", in the worker's cpu cgroup (CPUWeight={unit_cpu_weight()})"
                    where += ", SCHED_IDLE" if args.import_policy == "idle" else ""
                    if worker_env.get("QINGHE_DB_BACKEND_NICE"):
                        where += f", its backends at nice {worker_env['QINGHE_DB_BACKEND_NICE']}"
                        where += (
                            " and SCHED_IDLE" if worker_env.get("QINGHE_DB_BACKEND_IDLE") else ""
                        )
                    import_line = (
                        f"import of 100,000 survey rows during the load{where}: {import_seconds:.0f} s "
                        f"({result.get('line', result)})"
                    )
            print_report(bare, mix, args, import_line, load_after)
            cold = Path(str(mix_csv).removesuffix("_stats.csv") + "_warm_up.json")
            if args.warm_up and cold.exists():
                print(
                    f"\nthe warm-up before it ({args.warm_up} s, the same mix from a cold start, no import; not measured above):"
                )
                for name, row in sorted(json.loads(cold.read_text()).items()):
                    print(
                        f"  {name[:32]:<32} {row['requests']:>6} reqs  median {row['p50']:>5} ms  p99 {row['p99']:>6} ms  max {row['max']:>6.0f} ms  errors {row['failures']}"
                    )
            print(
                f"PostgreSQL client connections at the end of the mix: {connections} (max_connections 100)"
            )
            errors = stack.log_tail("web", 400)
            refused = errors.count("too many clients") + errors.count("PoolTimeout")
            print(f"web log: 'too many clients' / pool time-outs: {refused}")
            if trace:
                import shutil

                if vmstat is not None:
                    vmstat.terminate()
                shutil.copytree(stack.tmp / "logs", trace / "logs", dirs_exist_ok=True)
                with (pg.dir / "log").open("rb") as log:
                    log.seek(pg_log_start)
                    (trace / "postgresql.log").write_bytes(log.read())
                print(f"trace kept in {trace} (bench/latency_trace.py {trace})")
    finally:
        if run:
            with contextlib.suppress(Exception):
                pg_admin(f'DROP DATABASE IF EXISTS "{run}"', pg.url)
        pg.stop()
    return 0


def print_report(
    bare: dict[str, str],
    mix: list[dict[str, str]],
    args: argparse.Namespace,
    import_line: str,
    load_after: str,
) -> None:
    print()
    print(
        f"{'page':<34} {'reqs':>6} {'fail':>5} {'med ms':>7} {'p95':>6} {'p99':>6} {'max':>6} {'req/s':>6}"
    )
    for row in mix + [bare]:
        name = "bare Django view /healthz (baseline)" if row is bare else row["Name"]
        print(
            f"{name[:34]:<34} {row['Request Count']:>6} {row['Failure Count']:>5} "
            f"{row['50%']:>7} {row['95%']:>6} {row['99%']:>6} {float(row['Max Response Time']):>6.0f} "
            f"{float(row['Requests/s']):>6.1f}"
        )
    total = next(r for r in mix if r["Name"] == "Aggregated")
    ratio = float(total["Requests/s"]) / max(float(bare["Requests/s"]), 0.001)
    print(f"\n{args.users} users, {args.seconds} s; throughput of the mix / bare view: {ratio:.2f}")
    student = [r for r in mix if r["Name"].startswith("student")]
    worst = max((int(float(r["99%"])) for r in student), default=0)
    print(
        f"student pages: worst p99 {worst} ms (goal ≤ 300 ms); errors in the mix: {total['Failure Count']}"
    )
    if import_line:
        print(import_line)
    print(f"load average after: {load_after}")


if __name__ == "__main__":
    sys.exit(main())
