"""Live question box benchmark (直播带岗): prints measured figures.

    .venv/bin/python bench/bench_live_questions.py [--viewers 500] [--questions 100]

Migrates a temporary SQLite database, creates the viewers (students) with signed-in sessions and
one live stream, then starts the ASGI application under uvicorn with ONE worker process and
connects every viewer's websocket to ``/ws/live/<id>/`` from two client processes (python
``websockets``), exactly as the watch page does. Viewers then ask questions through their own
sockets, one every 200 ms, each from a different viewer (the per-user rate limit applies). Each
question carries its send time; every client process notes when each of its viewers received
it. A question's delivery time is from its sending until the LAST of the 500 viewers has it.
Prints the median and p99 of those times (goal p99 <= 250 ms), the websocket connections the
worker held (counted by ``ss`` on the server port) and the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL_P99_MS = 250.0
CLIENT_PROCESSES = 2


def _env(db_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=db_url,
        DJANGO_SETTINGS_MODULE="config.settings.base",
        LOG_LEVEL="WARNING",
        QINGHE_REDIS_URL="",
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
from django.utils import timezone
from qinghe.accounts.models import User
from qinghe.core.roles import Role
from qinghe.live.models import Stream
staff = User.objects.create_user(username="bench_staff", password="x", role=Role.HR_STAFF)
now = timezone.now()
stream = Stream.objects.create(title="基准测试直播", host="基准", starts_at=now,
    ends_at=now + dt.timedelta(hours=1), hls_url="/hls/bench.m3u8", state="live",
    started_at=now, created_by=staff)
users = User.objects.bulk_create([User(username=f"bench_{{i}}", role=Role.STUDENT,
    password="!") for i in range({viewers})])
keys = []
for user in User.objects.filter(username__startswith="bench_", role=Role.STUDENT).order_by("pk"):
    s = SessionStore()
    s[SESSION_KEY] = str(user.pk)
    s[BACKEND_SESSION_KEY] = "qinghe.accounts.backends.UsernameOrPhoneBackend"
    s[HASH_SESSION_KEY] = user.get_session_auth_hash()
    s.create()
    keys.append(s.session_key)
print(json.dumps({{"stream": stream.pk, "keys": keys}}))
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


async def _viewer(
    url: str,
    origin: str,
    key: str,
    received: dict[int, float],
    ready: asyncio.Event,
    asks: list[tuple[float, int]],
    tag: int,
    stop: asyncio.Event,
) -> None:
    import websockets

    async with websockets.connect(
        url,
        origin=origin,  # type: ignore[arg-type]
        additional_headers={"Cookie": f"sessionid={key}"},
        max_size=2**20,
        open_timeout=60,
    ) as ws:
        while True:  # the first state frame: admitted
            frame = json.loads(await ws.recv())
            if frame["type"] == "state":
                break
        ready.set()

        async def reader() -> None:
            async for raw in ws:
                frame = json.loads(raw)
                if frame["type"] == "question":
                    n = int(frame["question"]["text"].split()[1])
                    received.setdefault(n, time.time())

        task = asyncio.create_task(reader())
        for at, n in asks:
            await asyncio.sleep(max(0.0, at - time.time()))
            await ws.send(json.dumps({"action": "ask", "text": f"问题 {n} 来自 {tag}"}))
        await stop.wait()
        task.cancel()


def client_process(
    url: str,
    origin: str,
    keys: list[str],
    first_index: int,
    start_at: float,
    questions: int,
    gap: float,
    connected: Any,
    out: Any,
) -> None:
    """Connects ``keys``' viewers, reports when all are in, asks this process's share of the
    questions, and sends back (viewer index -> {question: received at})."""

    async def main() -> None:
        stop = asyncio.Event()
        results: list[dict[int, float]] = [{} for _ in keys]
        readies = [asyncio.Event() for _ in keys]
        tasks = []
        for i, key in enumerate(keys):
            index = first_index + i
            asks = [(start_at + n * gap, n) for n in range(questions) if n == index]
            tasks.append(
                asyncio.create_task(
                    _viewer(url, origin, key, results[i], readies[i], asks, index, stop)
                )
            )
            if i % 50 == 49:
                await asyncio.sleep(0.2)  # connect in waves, as a crowd arrives
        await asyncio.gather(*(r.wait() for r in readies))
        connected.put(len(keys))
        end = start_at + questions * gap + 3.0
        while time.time() < end:
            await asyncio.sleep(0.2)
        out.put(results)
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(main())


def established(port: int) -> int:
    out = subprocess.run(
        ["ss", "-Htn", "state", "established", f"( sport = :{port} )"],
        capture_output=True,
        text=True,
        check=False,
    )
    return len([line for line in out.stdout.splitlines() if line.strip()])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--viewers", type=int, default=500)
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--gap", type=float, default=0.2)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite:///{tmp}/bench.sqlite3"
        t0 = time.monotonic()
        data = prepare(db_url, args.viewers)
        print(f"prepared {args.viewers} viewers in {time.monotonic() - t0:.1f} s", flush=True)
        port = free_port()
        server = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "uvicorn"),
                "config.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
                "--ws",
                "websockets-sansio",
                "--log-level",
                "warning",
                "--lifespan",
                "off",
            ],
            cwd=ROOT,
            env=_env(db_url),
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        print("the server did not start")
                        return 1
                    time.sleep(0.2)
            url = f"ws://127.0.0.1:{port}/ws/live/{data['stream']}/"
            origin = f"http://127.0.0.1:{port}"
            keys: list[str] = data["keys"]
            share = (len(keys) + CLIENT_PROCESSES - 1) // CLIENT_PROCESSES
            ctx = multiprocessing.get_context("spawn")
            connected, out = ctx.Queue(), ctx.Queue()
            # Questions start once everyone is in: a generous start, checked below.
            start_at = time.time() + 30 + args.viewers / 20
            procs = []
            for p in range(CLIENT_PROCESSES):
                part = keys[p * share : (p + 1) * share]
                proc = ctx.Process(
                    target=client_process,
                    args=(
                        url,
                        origin,
                        part,
                        p * share,
                        start_at,
                        args.questions,
                        args.gap,
                        connected,
                        out,
                    ),
                )
                proc.start()
                procs.append(proc)
            total = sum(connected.get(timeout=300) for _ in procs)
            in_at = time.time()
            held = established(port)
            print(f"viewers connected: {total}; websocket connections held by the worker: {held}")
            if in_at > start_at:
                print("warning: connecting took longer than the planned start")
            results: list[dict[int, float]] = []
            for _ in procs:
                results.extend(out.get(timeout=300))
            load = os.getloadavg()
            for proc in procs:
                proc.join(timeout=30)
        finally:
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
    if not times:
        print("no question reached every viewer")
        return 1
    times.sort()
    p99 = times[min(len(times) - 1, int(round(0.99 * (len(times) - 1))))]
    median = statistics.median(times)
    print(
        f"questions: {len(times)} delivered to all {len(results)} viewers, {missing} not to all; "
        f"question -> all viewers: median {median:.1f} ms, p99 {p99:.1f} ms, "
        f"max {times[-1]:.1f} ms (goal p99 <= {GOAL_P99_MS:.0f} ms: "
        f"{'met' if p99 <= GOAL_P99_MS else 'NOT met'})"
    )
    print(f"load average (1, 5, 15 min): {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
