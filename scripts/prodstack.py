"""The production stack on this machine, for `make prod-smoke`, `make loadtest` and the fault
drills: nginx (Debian's, with deploy/nginx/qinghe.conf and a self-signed certificate), gunicorn
with uvicorn workers on config.asgi, PostgreSQL (the server of .ci/postgres.sh, a database of
the caller's name), Redis on a free port, the task worker, the outbox worker and the scheduler,
all with config.settings.production and throw-away keys. Everything lives in one temporary
folder and every process in its own session, so `Stack.stop()` (also run on an exception,
SIGTERM or Ctrl-C) ends each process group and then checks that no process of the stack is left.

    with Stack(database="qinghe_smoke") as stack:
        stack.migrate(); stack.start()
        ... https://localhost:{stack.https_port}/ ...
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
NGINX_SITE = ROOT / "deploy" / "nginx" / "qinghe.conf"
WORKER_UNIT = ROOT / "deploy" / "systemd" / "qinghe-worker.service"
WEB_UNIT = ROOT / "deploy" / "systemd" / "qinghe-web.service"
SCHEDULER_UNIT = ROOT / "deploy" / "systemd" / "qinghe-scheduler.service"
PG_SERVER = "postgres://qinghe:qinghe@127.0.0.1:5432/postgres"
HOST = "localhost"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def unit_setting(key: str, unit: Path = WORKER_UNIT) -> str | None:
    """The value of a systemd unit's first ``key=`` line, or None without one."""
    for line in unit.read_text(encoding="utf-8").splitlines():
        if line.startswith(f"{key}="):
            return line.removeprefix(f"{key}=").strip()
    return None


def unit_nice(unit: Path = WORKER_UNIT) -> int:
    """The ``Nice=`` of a systemd unit (0 without one): the stack runs its task worker, and the
    load test its import, at the priority production gives them."""
    return int(unit_setting("Nice", unit) or 0)


def unit_idle(unit: Path = WORKER_UNIT) -> bool:
    """Whether a systemd unit runs under ``CPUSchedulingPolicy=idle`` (Linux's SCHED_IDLE: the
    process gets a core only when nothing else of normal priority wants it — a nice level still
    gets a share of a busy core). The stack runs its task worker, and the load test its import,
    so too."""
    return unit_setting("CPUSchedulingPolicy", unit) == "idle"


def unit_environment(unit: Path = WORKER_UNIT) -> dict[str, str]:
    """A systemd unit's ``Environment=NAME=value`` lines but the settings module (the stack
    sets its own): the stack's task worker, and the load test's import, run with them."""
    found = {}
    for line in unit.read_text(encoding="utf-8").splitlines():
        if line.startswith("Environment="):
            name, _, value = line.removeprefix("Environment=").strip().partition("=")
            if name != "DJANGO_SETTINGS_MODULE":
                found[name] = value
    return found


def run_idle() -> None:
    """``preexec_fn`` for a child that runs under SCHED_IDLE (as ``unit_idle`` reads)."""
    os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


def unit_cpu_weight(unit: Path = WORKER_UNIT) -> str | None:
    """A systemd unit's ``CPUWeight=`` ("idle", a number 1-10000, or None: the default 100)."""
    return unit_setting("CPUWeight", unit)


# Where the stack finds the cpu controller: cgroup v1's own hierarchy, or v2's unified one
CGROUP_V1_CPU = Path("/sys/fs/cgroup/cpu")
CGROUP_V2 = Path("/sys/fs/cgroup")


def cpu_group(
    name: str, weight: str, *, v1: Path = CGROUP_V1_CPU, v2: Path = CGROUP_V2
) -> Path | None:
    """A cgroup of the cpu controller standing in for a unit's ``CPUWeight=`` (``"idle"`` or a
    number), as systemd gives each service its own: its folder, or None where no cpu controller
    is writable here (not root, a container without one), and the child then runs without it.

    Why it matters: every service runs in a session of its own (systemd's units, and the stack's
    processes here), and Linux shares a busy core between sessions' groups (autogroups, or the
    services' cgroups once any unit sets a CPU weight) before it looks at a task's policy or nice
    level inside a group. SCHED_IDLE and Nice= rank a worker only against its own group's tasks;
    its group as a whole still took an equal share of a busy core from the web workers' group
    (a 100,000-row import under the load test took 0.4-0.7 cores from the pages, docs/SCALING.md).
    ``CPUWeight=idle`` makes the whole group idle (the kernel's ``cpu.idle``)."""
    for base, fields in (
        (v1, {"idle": "cpu.idle", "weight": "cpu.shares"}),
        (v2, {"idle": "cpu.idle", "weight": "cpu.weight"}),
    ):
        if base == v2 and "cpu" not in _read(base / "cgroup.subtree_control").split():
            continue
        if not (base / "cgroup.procs").exists():
            continue
        group = base / name
        try:
            group.mkdir(exist_ok=True)
            if weight == "idle":
                (group / fields["idle"]).write_text("1")
            else:
                # cgroup v1 counts shares of 1024 where v2 and systemd count 100
                value = int(weight) * 1024 // 100 if base == v1 else int(weight)
                (group / fields["weight"]).write_text(str(max(2, value)))
        except (OSError, ValueError):
            with contextlib.suppress(OSError):
                group.rmdir()
            continue
        return group
    return None


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def join_group(group: Path) -> None:
    """Moves the calling process into ``group`` (a ``preexec_fn``: the child and everything it
    starts run there from its first instruction)."""
    (group / "cgroup.procs").write_text(str(os.getpid()))


def remove_group(group: Path | None) -> None:
    """Removes a cgroup once its processes have ended (a cgroup with processes stays)."""
    if group is not None:
        with contextlib.suppress(OSError):
            group.rmdir()


def pg_admin(statement: str, server: str = PG_SERVER) -> None:
    import psycopg

    with psycopg.connect(with_database(server, "postgres"), autocommit=True) as conn:
        conn.execute(statement)


def card_signing_keys(kid: str = "smoke-1") -> str:
    """A JSON list of one private Ed25519 JWK (the e-card's and the check-in codes' key format)."""
    from joserfc.jwk import OKPKey

    key = OKPKey.generate_key("Ed25519", parameters={"kid": kid}, private=True)
    return json.dumps([key.as_dict(private=True)])


def render_nginx_site(
    *,
    https_port: int,
    http_port: int,
    app_port: int,
    cert_dir: Path,
    static_root: Path,
    log_dir: Path,
    server_name: str = HOST,
) -> str:
    """deploy/nginx/qinghe.conf with this machine's ports and paths. Each replaced text must be
    in the file exactly as often as expected, so a changed site file fails here, loudly."""
    lines = NGINX_SITE.read_text(encoding="utf-8").splitlines(keepends=True)
    code = [i for i, line in enumerate(lines) if not line.lstrip().startswith("#")]
    text = "".join(lines[i] for i in code)
    replacements = [
        ("server 127.0.0.1:8001 ", f"server 127.0.0.1:{app_port} ", 1),
        ("listen 80;", f"listen 127.0.0.1:{http_port};", 1),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;", 1),
        ("server_name qinghe.example.gov.cn;", f"server_name {server_name};", 2),
        (
            "return 301 https://$host$request_uri;",
            f"return 301 https://$host:{https_port}$request_uri;",
            1,
        ),
        ("/etc/ssl/qinghe/", f"{cert_dir}/", 2),
        ("/srv/qinghe/var/staticfiles/", f"{static_root}/", 1),
        ("/var/log/nginx/", f"{log_dir}/", 2),
    ]
    for old, new, count in replacements:
        found = text.count(old)
        if found != count:
            raise RuntimeError(f"{NGINX_SITE}: expected {count}× {old!r}, found {found}")
        text = text.replace(old, new)
    return text


def nginx_main_conf(prefix: Path, site: Path, *, user_root: bool) -> str:
    """The top-level nginx.conf of the temporary prefix, including the rendered site file."""
    temp = prefix / "nginx-temp"
    return "\n".join(
        [
            "user root;" if user_root else "",
            "worker_processes 2;",
            f"pid {prefix}/nginx.pid;",
            f"error_log {prefix}/logs/nginx-error.log warn;",
            "events { worker_connections 1024; }",
            "http {",
            "    include /etc/nginx/mime.types;",
            "    default_type application/octet-stream;",
            "    sendfile on;",
            f"    client_body_temp_path {temp}/body;",
            f"    proxy_temp_path {temp}/proxy;",
            f"    fastcgi_temp_path {temp}/fastcgi;",
            f"    uwsgi_temp_path {temp}/uwsgi;",
            f"    scgi_temp_path {temp}/scgi;",
            f"    include {site};",
            "}",
            "",
        ]
    )


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path


@dataclass
class Stack:
    database: str
    web_workers: int = 3
    # "uvicorn": production's (config.asgi: pages, API, websockets); "gthread": gunicorn's
    # threaded WSGI workers on config.wsgi (pages and API only, no websockets), for measuring
    # what serving costs (bench/loadtest.py --web-class, bench/serving_cost.py).
    web_class: str = "uvicorn"
    keep_database: bool = False
    pg_server: str = PG_SERVER
    # the units' CPUWeight= stood in for by cpu cgroups (False: every process in its own
    # session's group, as before; bench/loadtest.py --no-cpu-weight compares)
    cpu_weights: bool = True
    tmp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="qinghe-stack-")))
    procs: dict[str, Proc] = field(default_factory=dict)
    # the cpu cgroups standing in for the units' CPUWeight= (None where none can be made)
    cpu_groups: dict[str, Path | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.https_port = free_port()
        self.http_port = free_port()
        self.app_port = free_port()
        self.redis_port = free_port()
        self.tmp.chmod(0o755)  # nginx's workers read the static files
        for sub in ("logs", "static", "media", "tls", "redis", "nginx-temp"):
            (self.tmp / sub).mkdir()
        (self.tmp / "media").chmod(0o700)
        self.database_url = with_database(self.pg_server, self.database)
        self.base_url = f"https://{HOST}:{self.https_port}"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))},
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            **self.keys(),
            "DATABASE_URL": self.database_url,
            "ALLOWED_HOSTS": HOST,
            "CSRF_TRUSTED_ORIGINS": self.base_url,
            "QINGHE_TRUSTED_PROXIES": "127.0.0.1",
            "SITE_URL": self.base_url,
            "MEDIA_ROOT": str(self.tmp / "media"),
            "STATIC_ROOT": str(self.tmp / "static"),
            "QINGHE_REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }

    def keys(self) -> dict[str, str]:
        """Throw-away keys; a kept database keeps its keys beside it in var/prodstack/ (owner
        only), or its encrypted columns could not be read the next time."""
        path = ROOT / "var" / "prodstack" / f"{self.database}.keys.json"
        self.keys_loaded = self.keep_database and path.exists()
        if self.keys_loaded:
            kept = dict(json.loads(path.read_text()))
            kept.setdefault("QINGHE_EVENT_SIGNING_KEYS", card_signing_keys("smoke-event-1"))
            return kept
        keys = {
            "SECRET_KEY": base64.b64encode(os.urandom(48)).decode(),
            "FIELD_ENCRYPTION_KEY": base64.b64encode(os.urandom(32)).decode(),
            "BLIND_INDEX_KEY": base64.b64encode(os.urandom(32)).decode(),
            "QINGHE_CARD_SIGNING_KEYS": card_signing_keys(),
            "QINGHE_EVENT_SIGNING_KEYS": card_signing_keys("smoke-event-1"),
        }
        if self.keep_database:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            path.touch(mode=0o600)
            path.write_text(json.dumps(keys))
        return keys

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> Stack:
        self._old_handlers = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGHUP)
        }
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.stop()
        finally:
            for sig, handler in self._old_handlers.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        raise SystemExit(f"signal {signum}: stopping the stack")

    def spawn(
        self,
        name: str,
        args: list[str],
        *,
        env: dict[str, str] | None = None,
        preexec: Callable[[], None] | None = None,
    ) -> Proc:
        log = self.tmp / "logs" / f"{name}.log"
        handle = log.open("ab")
        popen = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env or self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() ends it with its children
            preexec_fn=preexec,  # noqa: PLW1509
        )
        handle.close()
        proc = Proc(name, popen, log)
        self.procs[name] = proc
        return proc

    def stop_proc(self, name: str, *, sig: int = signal.SIGTERM, timeout: float = 20) -> int | None:
        proc = self.procs.pop(name, None)
        if proc is None:
            return None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.popen.pid, sig)
        try:
            return proc.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.popen.pid, signal.SIGKILL)
            return proc.popen.wait(10)

    def stop(self) -> list[str]:
        """Stops every process (nginx first, Redis last), drops the database unless kept,
        removes the folder; returns what was still running afterwards (should be nothing)."""
        order = ["nginx", "web", "worker", "outbox", "scheduler"]
        names = [n for n in order if n in self.procs] + [
            n for n in self.procs if n not in order and n != "redis"
        ]
        if "redis" in self.procs:
            names.append("redis")
        for name in names:
            self.stop_proc(name)
        left = self.leftovers()
        for pid in left:
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid.split()[0]), signal.SIGKILL)
        if left:
            time.sleep(0.2)  # the killed leave their cgroups
        for group in self.cpu_groups.values():
            remove_group(group)
        if not self.keep_database:
            with contextlib.suppress(Exception):
                self.drop_database()
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.orphans = left
        return left

    def cpu_group(self, name: str, unit: Path) -> Path | None:
        """The cpu cgroup standing in for ``unit``'s ``CPUWeight=`` (made once a stack, named by
        ``name``, removed by ``stop()``); None without the setting, or where no cpu controller
        is writable here (said once on stderr: the child then runs in its session's group)."""
        weight = unit_cpu_weight(unit)
        if weight is None or not self.cpu_weights:
            return None
        if name not in self.cpu_groups:
            group = cpu_group(f"qinghe-stack-{os.getpid()}-{name}", weight)
            if group is None:
                print(
                    f"{unit.name}: CPUWeight={weight} not applied (no writable cpu cgroup here); "
                    f"{name} shares the cores with the web workers as a session of its own",
                    file=sys.stderr,
                )
            self.cpu_groups[name] = group
        return self.cpu_groups[name]

    def leftovers(self) -> list[str]:
        """Processes whose command line or environment names this stack's folder."""
        marker = str(self.tmp).encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes()
                environ = (entry / "environ").read_bytes()
            except OSError:
                continue
            if marker in cmdline or marker in environ:
                command = cmdline.replace(b"\0", b" ").decode(errors="replace")[:120]
                found.append(f"{entry.name} {command}")
        return found

    # -- pieces ------------------------------------------------------------------------------

    def manage(self, *args: str, timeout: float = 1800) -> str:
        result = subprocess.run(
            [str(VENV_BIN / "python"), "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
            )
        return result.stdout

    def create_database(self, *, reuse: bool = False) -> None:
        """A fresh database; with reuse, an existing one is kept (migrate then only catches up)."""
        if reuse and self.keys_loaded:
            import psycopg

            with psycopg.connect(with_database(self.pg_server, "postgres")) as conn:
                if conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)
                ).fetchone():
                    return
        self.drop_database()
        pg_admin(f'CREATE DATABASE "{self.database}" OWNER qinghe', self.pg_server)

    def use_database(self, name: str) -> None:
        """Points the stack (before start) at another database of the same server and keys."""
        self.database_url = with_database(self.pg_server, name)
        self.env["DATABASE_URL"] = self.database_url

    def drop_database(self) -> None:
        import psycopg

        for _ in range(30):
            try:
                pg_admin(f'DROP DATABASE IF EXISTS "{self.database}"', self.pg_server)
                return
            except psycopg.errors.ObjectInUse:
                time.sleep(1)

    def migrate(self) -> None:
        self.manage("migrate", "--noinput", "-v0")
        self.manage("load_reference")
        self.manage("collectstatic", "--noinput", "-v0")

    def make_certificate(self) -> Path:
        tls = self.tmp / "tls"
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-days", "2", "-subj", f"/CN={HOST}",
                "-addext", f"subjectAltName=DNS:{HOST},IP:127.0.0.1",
                "-keyout", str(tls / "privkey.pem"), "-out", str(tls / "fullchain.pem"),
            ],
            check=True,
            capture_output=True,
        )  # fmt: skip
        (tls / "privkey.pem").chmod(0o600)
        return tls / "fullchain.pem"

    def start_redis(self) -> None:
        """Starts the stack's Redis, once (a caller may need it before ``start``: sessions live
        there when ``QINGHE_REDIS_URL`` is set)."""
        if "redis" in self.procs:
            return
        self.spawn(
            "redis",
            [
                "redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
                "--dir", str(self.tmp / "redis"), "--save", "", "--appendonly", "no",
            ],
        )  # fmt: skip
        wait_for(lambda: redis_ping(self.redis_port), "redis", self.procs["redis"])

    def start_web(self) -> None:
        serving = {
            "uvicorn": [
                "--worker-class",
                "qinghe.realtime.worker.UvicornWorker",
                "config.asgi:application",
            ],
            "gthread": ["--worker-class", "gthread", "--threads", "4", "config.wsgi:application"],
        }[self.web_class]
        group = self.cpu_group("web", WEB_UNIT)
        self.spawn(
            "web",
            [
                str(VENV_BIN / "gunicorn"), "-c", "config/gunicorn.conf.py", "--no-control-socket",
                "--workers", str(self.web_workers), "--bind", f"127.0.0.1:{self.app_port}", *serving,
            ],
            preexec=(lambda: join_group(group)) if group else None,
        )  # fmt: skip
        wait_for(
            lambda: http_ok(f"http://127.0.0.1:{self.app_port}/healthz", host=HOST),
            "gunicorn",
            self.procs["web"],
            timeout=120,
        )

    def start_workers(self) -> None:
        self.start_worker("worker")
        self.start_worker("scheduler")
        self.spawn("outbox", [str(VENV_BIN / "python"), "manage.py", "deliver_outbox"])

    def start_worker(self, name: str) -> None:
        """The task worker or the scheduler at its unit's priority, environment and CPU weight
        (also as the fault drills start one again, as systemd's Restart= would)."""
        unit, args = {
            "worker": (WORKER_UNIT, ["db_worker", "--no-startup-delay"]),
            "scheduler": (SCHEDULER_UNIT, ["run_scheduler"]),
        }[name]
        level = unit_nice(unit)
        nice = ["nice", "-n", str(level)] if level else []
        idle = ["chrt", "--idle", "0"] if unit_idle(unit) else []
        group = self.cpu_group(name, unit)
        self.spawn(
            name,
            [*nice, *idle, str(VENV_BIN / "python"), "manage.py", *args],
            env={**self.env, **unit_environment(unit)},
            preexec=(lambda: join_group(group)) if group else None,
        )

    def start_nginx(self) -> None:
        cert = self.make_certificate()
        site = self.tmp / "qinghe-site.conf"
        site.write_text(
            render_nginx_site(
                https_port=self.https_port,
                http_port=self.http_port,
                app_port=self.app_port,
                cert_dir=cert.parent,
                static_root=self.tmp / "static",
                log_dir=self.tmp / "logs",
            ),
            encoding="utf-8",
        )
        conf = self.tmp / "nginx.conf"
        conf.write_text(
            nginx_main_conf(self.tmp, site, user_root=os.getuid() == 0), encoding="utf-8"
        )
        check = subprocess.run(
            ["nginx", "-t", "-p", str(self.tmp), "-c", str(conf)], capture_output=True, text=True
        )
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t failed:\n{check.stderr}")
        self.nginx_test = check.stderr.strip()
        self.spawn("nginx", ["nginx", "-p", str(self.tmp), "-c", str(conf), "-g", "daemon off;"])
        wait_for(
            lambda: http_ok(f"{self.base_url}/healthz", cafile=cert),
            "nginx",
            self.procs["nginx"],
        )
        self.cafile = cert

    def start(self) -> None:
        self.start_redis()
        self.start_web()
        self.start_workers()
        self.start_nginx()

    def alive(self) -> dict[str, bool]:
        return {name: proc.popen.poll() is None for name, proc in self.procs.items()}

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.tmp / "logs" / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cafile))


def redis_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def http_ok(url: str, *, host: str | None = None, cafile: Path | None = None) -> bool:
    # Straight to gunicorn: say what nginx says (HTTPS), or SECURE_SSL_REDIRECT answers 301.
    headers = {"Host": host, "X-Forwarded-Proto": "https"} if host else {}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - our own http(s) URLs
    context = ssl.create_default_context(cafile=str(cafile)) if cafile else None
    try:
        with urllib.request.urlopen(request, timeout=5, context=context) as response:  # noqa: S310
            return bool(response.status == 200)
    except OSError:
        return False


def wait_for(check: object, what: str, proc: Proc, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(check) and check():
            return
        if proc.popen.poll() is not None:
            tail = proc.log.read_text(errors="replace")[-3000:] if proc.log.exists() else ""
            raise RuntimeError(f"{what} exited with {proc.popen.returncode}:\n{tail}")
        time.sleep(0.3)
    raise RuntimeError(f"{what} not ready after {timeout:.0f} s")


@contextlib.contextmanager
def timed(label: str, figures: dict[str, float]) -> Iterator[None]:
    start = time.perf_counter()
    yield
    figures[label] = time.perf_counter() - start


if __name__ == "__main__":  # pragma: no cover - manual use: start the stack and wait
    with Stack(database=sys.argv[1] if len(sys.argv) > 1 else "qinghe_stack") as s:
        s.create_database()
        s.migrate()
        s.start()
        print(f"{s.base_url}/ (Ctrl-C stops everything)")
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()
