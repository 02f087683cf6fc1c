"""Live question box benchmark (直播带岗): prints measured figures.

    .venv/bin/python bench/bench_live_questions.py [--viewers 500] [--questions 100]
        [--gap 0.2] [--runs 3] [--setups memory,redis] [--clients 2]

Migrates a temporary SQLite database and creates the viewers (students) with signed-in sessions
and one live stream. Then, for each set-up, ``--runs`` times: starts the ASGI application under
gunicorn with production's worker class (``qinghe.realtime.worker.UvicornWorker``: uvicorn with
uvloop, httptools, the websockets protocol, no per-message compression) and connects every viewer's
websocket to ``/ws/live/<id>/`` from ``--clients`` client processes of their own, with the
handshake the watch page's browser sends (session cookie, origin, an offer of per-message
deflate) and a minimal frame parser (``Viewer``), so that the measuring client costs little
next to the server. Once all are in, viewers ask questions through
their own sockets, one every ``--gap`` seconds, each from a different viewer (the per-user rate
limit applies). A question's delivery time runs from its planned sending time until the LAST of
the viewers has it (a client that sends late only adds to it), and a question that does not
reach every viewer within 3 s of the last one counts as missing.

Set-ups: ``memory`` is the embedded default (one worker process, Channels' in-memory layer);
``redis`` is production's (two worker processes behind a Redis channel layer, broadcast rooms on
Redis pub/sub; a private redis-server on a free port, skipped when none is installed).

Prints per run and the median of the runs: viewers connected, questions delivered, median and
p99 delivery time and the ratio of p99 to the goal (p99 <= 250 ms), the websocket connections
each worker process held (``ss`` on the server port, by process), the CPU seconds used by the
server and by the clients while the questions ran, the clients' own event-loop lag (so a slow
measuring client shows), and the load average — the machine is shared, read figures with it.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import multiprocessing
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL_P99_MS = 250.0
TAIL_SECONDS = 3.0


def _env(db_url: str, redis_url: str = "") -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=db_url,
        DJANGO_SETTINGS_MODULE="config.settings.base",
        LOG_LEVEL="WARNING",
        QINGHE_REDIS_URL=redis_url,
        PYTHONWARNINGS="ignore",
    )
    return env


def prepare(db_url: str, viewers: int) -> dict[str, Any]:
    """Migrates and fills the database; returns the stream id and the viewers' session keys."""
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=_env(db_url),
        check=True,
    )
    code = f"""
import datetime as dt, json
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone
from qinghe.accounts.models import User
from qinghe.core.roles import Role
from qinghe.live.models import Stream
staff = User.objects.create_user(username="bench_staff", password="x", role=Role.HR_STAFF)
now = timezone.now()
stream = Stream.objects.create(title="基准测试直播", host="基准", starts_at=now,
    ends_at=now + dt.timedelta(hours=2), hls_url="/hls/bench.m3u8", state="live",
    started_at=now, created_by=staff)
User.objects.bulk_create([User(username=f"bench_{{i}}", role=Role.STUDENT,
    password="!") for i in range({viewers})])
store = SessionStore()
rows = []
for user in User.objects.filter(username__startswith="bench_", role=Role.STUDENT).order_by("pk"):
    data = {{SESSION_KEY: str(user.pk),
        BACKEND_SESSION_KEY: "qinghe.accounts.backends.UsernameOrPhoneBackend",
        HASH_SESSION_KEY: user.get_session_auth_hash()}}
    rows.append(Session(session_key=store._get_new_session_key(),
        session_data=store.encode(data), expire_date=now + dt.timedelta(days=1)))
Session.objects.bulk_create(rows)
print(json.dumps({{"stream": stream.pk, "keys": [r.session_key for r in rows]}}))
"""
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=_env(db_url),
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[Any], seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                return False
            time.sleep(0.2)


# --- the clients (separate processes) ------------------------------------------------------------


class Viewer(asyncio.Protocol):
    """One viewer's websocket, as lean as a measuring client can be: the handshake a browser
    sends (with its offer of per-message deflate, which the server may take or refuse), then
    RFC 6455 frames parsed straight off the bytes. Only question frames are decoded; the time
    noted is when the bytes arrived. The python ``websockets`` client used before cost ~44 us
    a frame on the same two cores as the server, more than the server spends per viewer, and
    its loop lagged up to 100 ms (docs/SCALING.md)."""

    def __init__(self, request: bytes, received: dict[int, float]) -> None:
        self.request = request
        self.received = received
        self.buffer = bytearray()
        self.upgraded = False
        self.inflate: Any = None  # a zlib decompressor when the server compresses
        self.admitted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.admitted.done():
            self.admitted.set_exception(ConnectionError(f"closed before admission: {exc}"))

    def data_received(self, data: bytes) -> None:
        at = time.time()
        buf = self.buffer
        buf += data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end]).lower()
            del buf[: end + 4]
            if not head.startswith(b"http/1.1 101"):
                self.transport.close()
                return
            self.upgraded = True
            if b"permessage-deflate" in head:
                self.inflate = zlib.decompressobj(-15)
        while len(buf) >= 2:
            b0, b1 = buf[0], buf[1]
            size, start = b1 & 0x7F, 2
            if size == 126:
                if len(buf) < 4:
                    return
                size, start = int.from_bytes(buf[2:4], "big"), 4
            elif size == 127:
                if len(buf) < 10:
                    return
                size, start = int.from_bytes(buf[2:10], "big"), 10
            if len(buf) < start + size:
                return
            payload = bytes(buf[start : start + size])
            del buf[: start + size]
            opcode = b0 & 0x0F
            if b0 & 0x40 and self.inflate is not None:  # RSV1: compressed
                payload = self.inflate.decompress(payload + b"\x00\x00\xff\xff")
            if opcode == 1:
                self.text(payload, at)
            elif opcode == 9:  # ping: pong with the same data
                self.send(payload, opcode=0xA)
            elif opcode == 8:
                self.transport.close()
                return

    def text(self, payload: bytes, at: float) -> None:
        if not self.admitted.done():
            if b'"state"' in payload[:30]:
                self.admitted.set_result(None)
            return
        if b'"question"' in payload[:30]:
            frame = json.loads(payload)
            if frame["type"] == "question":
                n = int(frame["question"]["text"].split()[1])
                self.received.setdefault(n, at)

    def send(self, data: bytes, opcode: int = 0x1) -> None:
        mask = os.urandom(4)
        size = len(data)
        if size < 126:
            head = bytes([0x80 | opcode, 0x80 | size])
        elif size < 65536:
            head = bytes([0x80 | opcode, 0x80 | 126]) + size.to_bytes(2, "big")
        else:
            head = bytes([0x80 | opcode, 0x80 | 127]) + size.to_bytes(8, "big")
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.transport.write(head + mask + masked)


async def _viewer(
    host: str,
    port: int,
    path: str,
    origin: str,
    key: str,
    received: dict[int, float],
    ready: asyncio.Event,
    start: asyncio.Future[float],
    asks: list[int],
    gap: float,
    tag: int,
    stop: asyncio.Event,
) -> None:
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
        "Sec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
        f"Origin: {origin}\r\nCookie: sessionid={key}\r\n\r\n"
    ).encode()
    loop = asyncio.get_running_loop()
    transport, viewer = await loop.create_connection(lambda: Viewer(request, received), host, port)
    try:
        await asyncio.wait_for(viewer.admitted, 120)
        ready.set()
        start_at = await start
        for n in asks:
            await asyncio.sleep(max(0.0, start_at + n * gap - time.time()))
            viewer.send(json.dumps({"action": "ask", "text": f"问题 {n} 来自 {tag}"}).encode())
        await stop.wait()
    finally:
        transport.close()


def client_process(
    host: str,
    port: int,
    path: str,
    origin: str,
    keys: list[str],
    asks: dict[int, list[int]],
    questions: int,
    gap: float,
    connected: Any,
    starts: Any,
    out: Any,
) -> None:
    """Connects ``keys``' viewers, reports when all are in, waits for the start time, asks
    this process's share of the questions, and sends back what each viewer received and when,
    with this process's CPU seconds and event-loop lag during the questions."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        start: asyncio.Future[float] = loop.create_future()
        results: list[dict[int, float]] = [{} for _ in keys]
        readies = [asyncio.Event() for _ in keys]
        tasks = []
        for i, key in enumerate(keys):
            tasks.append(
                asyncio.create_task(
                    _viewer(
                        host,
                        port,
                        path,
                        origin,
                        key,
                        results[i],
                        readies[i],
                        start,
                        asks.get(i, []),
                        gap,
                        i,
                        stop,
                    )
                )
            )
            if i % 50 == 49:
                await asyncio.sleep(0.2)  # connect in waves, as a crowd arrives
        await asyncio.gather(*(r.wait() for r in readies))
        connected.put(len(keys))
        start_at = await loop.run_in_executor(None, starts.get)
        start.set_result(start_at)
        await asyncio.sleep(max(0.0, start_at - time.time()))
        cpu0 = time.process_time()
        lags: list[float] = []
        end = start_at + questions * gap + TAIL_SECONDS
        while time.time() < end:  # the loop's own lateness: is the client keeping up?
            before = time.monotonic()
            await asyncio.sleep(0.01)
            lags.append((time.monotonic() - before - 0.01) * 1000)
        cpu = time.process_time() - cpu0
        lags.sort()
        lag_p99 = lags[int(0.99 * (len(lags) - 1))] if lags else 0.0
        out.put((results, cpu, lag_p99))
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(main())


# --- the server ----------------------------------------------------------------------------------


def held_by_process(port: int) -> dict[int, int]:
    """Established connections on the server port, by the process holding them."""
    out = subprocess.run(
        ["ss", "-Htnp", "state", "established", f"( sport = :{port} )"],
        capture_output=True,
        text=True,
        check=False,
    )
    held: Counter[int] = Counter()
    for line in out.stdout.splitlines():
        found = re.search(r"pid=(\d+)", line)
        if found:
            held[int(found.group(1))] += 1
    return dict(held)


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of these processes so far (from /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def rss_mb(pid: int) -> float:
    """Resident memory of a process, MB (from /proc)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    found = [int(p) for p in text.split()]
    return found + [c for p in found for c in children(p)]


class Redis:
    """A private redis-server on a free port for the production set-up."""

    def __init__(self, tmp: str) -> None:
        self.port = free_port()
        binary = shutil.which("redis-server")
        assert binary is not None
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--dir", tmp],
            stdout=subprocess.DEVNULL,
        )
        if not wait_port(self.port, self.proc, 10):
            raise RuntimeError("redis-server did not start")
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def one_run(
    args: argparse.Namespace,
    data: dict[str, Any],
    db_url: str,
    redis_url: str,
    workers: int,
    run: int,
) -> dict[str, Any] | None:
    port = free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            "config/gunicorn.conf.py",
            "--worker-class",
            args.worker_class,
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--graceful-timeout",
            "5",
            "config.asgi:application",
        ],
        cwd=ROOT,
        env=_env(db_url, redis_url),
    )
    procs: list[Any] = []
    try:
        if not wait_port(port, server):
            print("the server did not start")
            return None
        deadline = time.monotonic() + 60  # every worker booted before the crowd arrives
        while len(children(server.pid)) < workers and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(4.0)
        path = f"/ws/live/{data['stream']}/"
        origin = f"http://127.0.0.1:{port}"
        keys: list[str] = data["keys"][: args.viewers]
        clients = args.clients
        share = (len(keys) + clients - 1) // clients
        # Question n is asked by viewer (n + run * questions) mod viewers: a different viewer
        # each time, and no viewer twice within the rate limit across runs.
        asker = {n: (n + run * args.questions) % len(keys) for n in range(args.questions)}
        ctx = multiprocessing.get_context("spawn")
        connected, out = ctx.Queue(), ctx.Queue()
        starts = [ctx.Queue() for _ in range(clients)]
        for p in range(clients):
            part = keys[p * share : (p + 1) * share]
            asks: dict[int, list[int]] = {}
            for n, index in asker.items():
                if p * share <= index < (p + 1) * share:
                    asks.setdefault(index - p * share, []).append(n)
            proc = ctx.Process(
                target=client_process,
                args=(
                    "127.0.0.1",
                    port,
                    path,
                    origin,
                    part,
                    asks,
                    args.questions,
                    args.gap,
                    connected,
                    starts[p],
                    out,
                ),
            )
            proc.start()
            procs.append(proc)
        t0 = time.monotonic()
        total = sum(connected.get(timeout=600) for _ in procs)
        connect_s = time.monotonic() - t0
        time.sleep(1.5)  # the viewer counts settle (they are flushed once a second)
        server_pids = [server.pid, *children(server.pid)]
        held = held_by_process(port)
        per_worker = sorted(
            ((n, rss_mb(pid)) for pid, n in held.items() if pid in server_pids), reverse=True
        )
        start_at = time.time() + 1.0
        for queue in starts:
            queue.put(start_at)
        server_cpu0 = cpu_seconds(server_pids)
        results: list[dict[int, float]] = []
        client_cpu = 0.0
        lag = 0.0
        for _ in procs:
            part_results, cpu, lag_p99 = out.get(timeout=600)
            results.extend(part_results)
            client_cpu += cpu
            lag = max(lag, lag_p99)
        server_cpu = cpu_seconds(server_pids) - server_cpu0
        load = os.getloadavg()
        for proc in procs:
            proc.join(timeout=30)
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        server.terminate()
        server.wait(timeout=30)

    times: list[float] = []
    missing = 0
    for n in range(args.questions):
        sent = start_at + n * args.gap
        got = [r.get(n) for r in results]
        if any(t is None for t in got):
            missing += 1
            continue
        times.append((max(t for t in got if t is not None) - sent) * 1000)
    if os.environ.get("BENCH_LIVE_DUMP"):  # a file: every viewer's receipt times, to study
        Path(os.environ["BENCH_LIVE_DUMP"]).write_text(
            json.dumps(
                {
                    "times": times,
                    "results": [{str(k): v - start_at for k, v in r.items()} for r in results],
                }
            )
        )
    times.sort()
    return {
        "viewers": total,
        "connect_s": connect_s,
        "delivered": len(times),
        "missing": missing,
        "median": statistics.median(times) if times else float("inf"),
        "p99": times[min(len(times) - 1, int(round(0.99 * (len(times) - 1))))]
        if times
        else float("inf"),
        "max": times[-1] if times else float("inf"),
        "held": [n for n, _ in per_worker],
        "memory": [m for _, m in per_worker],
        "server_cpu": server_cpu,
        "client_cpu": client_cpu,
        "client_lag": lag,
        "load": load,
        "window": args.questions * args.gap + TAIL_SECONDS,
    }


def describe(r: dict[str, Any]) -> str:
    return (
        f"viewers connected {r['viewers']} (in {r['connect_s']:.1f} s); "
        f"questions {r['delivered']} to all, {r['missing']} not to all; "
        f"question -> all viewers: median {r['median']:.1f} ms, p99 {r['p99']:.1f} ms "
        f"(ratio to goal {r['p99'] / GOAL_P99_MS:.2f}), max {r['max']:.1f} ms; "
        f"connections held per worker process {r['held']} "
        f"(resident memory {', '.join(f'{m:.0f}' for m in r['memory'])} MB); "
        f"CPU in {r['window']:.0f} s: server {r['server_cpu']:.1f} s, clients "
        f"{r['client_cpu']:.1f} s (client loop lag p99 {r['client_lag']:.0f} ms); "
        f"load average {r['load'][0]:.2f} {r['load'][1]:.2f} {r['load'][2]:.2f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--viewers", type=int, default=500)
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--gap", type=float, default=0.2, help="seconds between questions")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--setups", default="memory,redis")
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--workers", type=int, default=2, help="worker processes with Redis")
    parser.add_argument(
        "--worker-class",
        default="qinghe.realtime.worker.UvicornWorker",
        help="gunicorn worker class (uvicorn_worker.UvicornWorker: uvicorn's defaults)",
    )
    parser.add_argument("--keep-db", default="", help="a folder keeping the prepared database")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        kept = Path(args.keep_db) if args.keep_db else None
        db_url = f"sqlite:///{kept or tmp}/bench.sqlite3"
        t0 = time.monotonic()
        if kept is not None and (kept / "data.json").exists():
            data = json.loads((kept / "data.json").read_text())
        else:
            data = prepare(db_url, args.viewers)
            if kept is not None:
                (kept / "data.json").write_text(json.dumps(data))
        print(f"prepared {len(data['keys'])} viewers in {time.monotonic() - t0:.1f} s", flush=True)
        print(
            f"{args.questions} questions, one every {args.gap:g} s "
            f"({1 / args.gap:g} per second), {args.clients} client processes, "
            f"worker class {args.worker_class}",
            flush=True,
        )
        run = 0
        for setup in [s.strip() for s in args.setups.split(",") if s.strip()]:
            redis: Redis | None = None
            if setup == "redis":
                if shutil.which("redis-server") is None:
                    print("redis: skipped (redis-server is not installed)")
                    continue
                redis = Redis(tmp)
                label = f"redis ({args.workers} workers, broadcast on Redis pub/sub)"
                workers = args.workers
            elif setup == "memory":
                label = "memory (1 worker, in-memory channel layer)"
                workers = 1
            else:
                print(f"unknown set-up {setup}")
                return 2
            try:
                outcomes = []
                for i in range(args.runs):
                    r = one_run(args, data, db_url, redis.url if redis else "", workers, run)
                    run += 1
                    if r is None:
                        return 1
                    print(f"{label} run {i + 1}: {describe(r)}", flush=True)
                    outcomes.append(r)
            finally:
                if redis is not None:
                    redis.stop()
            p99 = statistics.median(r["p99"] for r in outcomes)
            med = statistics.median(r["median"] for r in outcomes)
            missing = sum(r["missing"] for r in outcomes)
            held = outcomes[-1]["held"]
            load = outcomes[-1]["load"]
            met = p99 <= GOAL_P99_MS and missing == 0
            print(
                f"{label}, median of {len(outcomes)} runs: viewers connected "
                f"{min(r['viewers'] for r in outcomes)}, questions "
                f"{sum(r['delivered'] for r in outcomes)} delivered to all, {missing} not; "
                f"median {med:.1f} ms, p99 {p99:.1f} ms, ratio to goal "
                f"{p99 / GOAL_P99_MS:.2f} (goal p99 <= {GOAL_P99_MS:.0f} ms: "
                f"{'met' if met else 'NOT met'}); connections held per worker process {held}; "
                f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
