"""`make drills`: fault drills against the production stack, each printing what happened and
what was lost. PostgreSQL here is a private server (initdb in a temporary folder, a free port)
so that restarting it disturbs nobody else; the stack (scripts/prodstack.py) runs on it.

1. PostgreSQL restarted (pg_ctl restart -m fast) during a survey import: does the import stop
   cleanly, and does running it again give exactly the tables of an undisturbed import?
2. PostgreSQL restarted under web load: 8 clients request pages through nginx without pause;
   how many requests failed, for how long, and do they recover by themselves?
3. The outbox worker killed with SIGKILL while it sends 300 e-mails, then started again: is
   every message sent, none twice (Message-IDs counted in the worker's output), and are the
   ones whose outcome was lost shown to the administrator (需人工确认)?
4. The task worker killed with SIGKILL while it runs a task, then started again: the task,
   left RUNNING, is found by the scheduled reaper (its worker's heartbeat stopped), marked
   failed and run again once; is it done, and done only once more?
5. Redis killed under live websockets (6 Chromium pages with the 我的消息 badge, through
   nginx) and started again empty: do the pages reconnect by themselves, and do messages
   queued during and after the gap reach their badges?

6. The disk filling up during an upload: MEDIA_ROOT on a small tmpfs (root: mount), a student's
   résumé uploaded through nginx onto the full disk: the Chinese message, nothing partial on
   disk, no row for the failed upload, the system administrators told once, and the same upload
   succeeding once space is freed.

    .venv/bin/python bench/fault_drills.py [--rows 20000] [--only 1,2,3,4,5,6]
    make drills DRILL=6        (one drill alone)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "bench"))
from privatepg import PG_BIN, PrivatePostgres  # noqa: E402
from prodstack import VENV_BIN, Stack, with_database  # noqa: E402


def import_worker(kind: str, survey: Path, url: str, media: Path, env: dict[str, str]) -> list[str]:
    return [
        str(VENV_BIN / "python"), "bench/bench_import.py", "--worker", kind, "--file", str(survey),
        "--database-url", url, "--media-root", str(media),
    ]  # fmt: skip


def run_json(command: list[str], env: dict[str, str]) -> dict[str, object]:
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def drill_import(pg: PrivatePostgres, stack: Stack, rows: int) -> None:
    from bench_import import make_file
    from prodstack import pg_admin

    print(f"\n1. PostgreSQL restarted during an import of {rows:,} survey rows")
    survey = make_file(rows, ROOT / "var" / "bench")
    media = stack.tmp / "media"
    for name in ("drill_clean", "drill_fault"):
        pg_admin(f'DROP DATABASE IF EXISTS "{name}"', pg.url)
        pg_admin(f'CREATE DATABASE "{name}" OWNER qinghe', pg.url)
        run_json(
            import_worker("prepare", survey, with_database(pg.url, name), media, stack.env),
            stack.env,
        )
    clean_url = with_database(pg.url, "drill_clean")
    started = time.perf_counter()
    clean = run_json(import_worker("import_once", survey, clean_url, media, stack.env), stack.env)
    clean_seconds = time.perf_counter() - started
    clean_hash = run_json(import_worker("inspect", survey, clean_url, media, stack.env), stack.env)[
        "hash"
    ]
    print(f"   undisturbed import: {clean_seconds:.1f} s — {clean['line']}")

    fault_url = with_database(pg.url, "drill_fault")
    process = subprocess.Popen(
        import_worker("import_once", survey, fault_url, media, stack.env),
        cwd=ROOT, env=stack.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(clean_seconds * 0.5)
    _, down = pg.restart()
    out, err = process.communicate(timeout=600)
    last_error = (err.strip().splitlines() or ["(none)"])[-1][:160]
    print(f"   restart after {clean_seconds * 0.5:.1f} s; PostgreSQL back after {down:.2f} s")
    print(
        f"   the running import: exit code {process.returncode}; its last error line: {last_error}"
    )
    state = run_json(import_worker("inspect", survey, fault_url, media, stack.env), stack.env)
    print(f"   left behind: batches (state, rows done) {state['batches']}")
    started = time.perf_counter()
    rerun = run_json(import_worker("import_once", survey, fault_url, media, stack.env), stack.env)
    after = run_json(import_worker("inspect", survey, fault_url, media, stack.env), stack.env)
    same = after["hash"] == clean_hash
    print(f"   run again: {time.perf_counter() - started:.1f} s — {rerun['line']}")
    print(
        f"   {'✓' if same else '✗'} tables {'identical to' if same else 'DIFFERENT from'} the undisturbed import's (lost: {'nothing' if same else 'see above'}, done twice: {'nothing' if same else '?'})"
    )


WORKER_COMMANDS = {
    "worker": ["db_worker", "--no-startup-delay"],
    "outbox": ["deliver_outbox"],
    "scheduler": ["run_scheduler"],
}


def last_error(stack: Stack, name: str) -> str:
    lines = [x for x in stack.log_tail(name, 60).splitlines() if "Error" in x or "error" in x]
    return (lines[-1] if lines else "(no error line)")[:160]


def db_outbox_states(stack: Stack, run: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(stack.database_url) as conn:
        rows = conn.execute(
            "SELECT state, count(*) FROM notifications_outboxmessage WHERE data->>'drill' = %s GROUP BY state",
            (run,),
        ).fetchall()
    return {state: count for state, count in rows}


def db_task_state(stack: Stack, task: str) -> str:
    import psycopg

    with psycopg.connect(stack.database_url) as conn:
        row = conn.execute(
            "SELECT status, started_at IS NOT NULL, finished_at IS NOT NULL FROM django_tasks_database_dbtaskresult WHERE id = %s",
            (task,),
        ).fetchone()
    return " ".join(str(x) for x in row) if row else "missing"


def db_interrupted(stack: Stack, task: str) -> tuple[str, str, str | None, str] | None:
    import psycopg

    with psycopg.connect(stack.database_url) as conn:
        row = conn.execute(
            "SELECT outcome, reason, retry_id, detected_at FROM scheduler_interruptedtask WHERE task_id = %s",
            (task,),
        ).fetchone()
    if row is None:
        return None
    return row[0], row[1], str(row[2]) if row[2] else None, f"{row[3]:%H:%M:%S}"


def db_task_runs(stack: Stack) -> list[str]:
    import psycopg

    with psycopg.connect(stack.database_url) as conn:
        rows = conn.execute(
            "SELECT summary FROM scheduler_jobrun WHERE job = 'reap_interrupted_tasks' AND summary NOT LIKE '中断的后台任务 0 个%%' ORDER BY scheduled_for"
        ).fetchall()
    return [r[0] for r in rows]


def db_count_tasks(stack: Stack, path: str) -> int:
    import psycopg

    with psycopg.connect(stack.database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE task_path = %s", (path,)
        ).fetchone()
    return int(row[0]) if row else 0


def drill_web(pg: PrivatePostgres, stack: Stack) -> None:
    print("\n2. PostgreSQL restarted under web load (8 clients without pause, through nginx)")
    context = ssl.create_default_context(cafile=str(stack.cafile))
    events: list[tuple[float, str, bool]] = []
    stop = threading.Event()

    def client(path: str) -> None:
        while not stop.is_set():
            t = time.monotonic()
            try:
                with urllib.request.urlopen(
                    stack.base_url + path, timeout=10, context=context
                ) as r:  # noqa: S310
                    ok = r.status == 200
            except Exception:  # noqa: BLE001 - any failure is what we count
                ok = False
            events.append((t, path, ok))

    threads = [
        threading.Thread(target=client, args=(p,), daemon=True)
        for p in ["/healthz", "/accounts/login/", "/jobs/", "/policies/"] * 2
    ]
    for t in threads:
        t.start()
    time.sleep(10)
    went_down, down = pg.restart()
    time.sleep(15)
    stop.set()
    for t in threads:
        t.join(15)
    failed = [e for e in events if not e[2]]
    before = [e for e in events if e[0] < went_down]
    after = [e for e in events if e[0] > went_down + down + 1]
    print(
        f"   requests: {len(events)}; before the restart {sum(not e[2] for e in before)} failed of {len(before)}"
    )
    if failed:
        first, last = failed[0][0] - went_down, failed[-1][0] - went_down
        print(
            f"   failed: {len(failed)}, from {first:+.2f} s to {last:+.2f} s around the restart (PostgreSQL down {down:.2f} s)"
        )
        by_path: dict[str, int] = {}
        for _, path, _ in failed:
            by_path[path] = by_path.get(path, 0) + 1
        print(f"   failed by page: {by_path}")
    else:
        print(f"   failed: 0 (PostgreSQL down {down:.2f} s)")
    ok_after = sum(e[2] for e in after)
    print(
        f"   {'✓' if ok_after == len(after) else '✗'} after PostgreSQL was back (+1 s): {ok_after}/{len(after)} requests succeeded, with no restart of the application"
    )
    alive = stack.alive()
    print(f"   processes still running: {alive}")
    for name, command in WORKER_COMMANDS.items():
        if not alive.get(name, True):
            code = stack.procs[name].popen.returncode
            print(
                f"   ✗ {name} exited with code {code} when PostgreSQL went away: {last_error(stack, name)}"
            )
            stack.procs.pop(name)
            if name in {"worker", "scheduler"}:
                stack.start_worker(name)
            else:
                stack.spawn(name, [str(VENV_BIN / "python"), "manage.py", *command])
            print("     started again (as systemd's Restart=always does after 5 s)")


SEND = """
import uuid
from django.db import transaction
from qinghe.accounts.models import User
from qinghe.notifications.services import notify
user = User.objects.get(username="xuezi")
user.email = "xuezi@example.cn"
user.save(update_fields=["email"])
with transaction.atomic():
    for i in range(N):
        notify(user=user, channels=("email",), category="system", subject=f"演练{i}", body="故障演练",
               key=f"drill-{RUN}-{i}", data={"drill": RUN})
"""


def drill_outbox(stack: Stack, n: int = 2000) -> None:
    import uuid

    print(f"\n3. the outbox worker killed with SIGKILL while it sends {n} e-mails")
    run = uuid.uuid4().hex[:12]
    stack.stop_proc("outbox")
    stack.manage("shell", "-c", f"RUN = {run!r}\nN = {n}\n" + SEND)
    log = stack.tmp / "logs" / "outbox.log"
    log.write_bytes(b"")
    stack.spawn(
        "outbox", [str(VENV_BIN / "python"), "manage.py", "deliver_outbox", "--threads", "4"]
    )
    killed_at: dict[str, int] = {}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        states = db_outbox_states(stack, run)
        if states.get("sent", 0) >= n // 4:
            stack.stop_proc("outbox", sig=signal.SIGKILL)
            killed_at = db_outbox_states(stack, run)
            break
        time.sleep(0.02)
    print(f"   killed (SIGKILL) at: {killed_at}")
    stack.spawn(
        "outbox", [str(VENV_BIN / "python"), "manage.py", "deliver_outbox", "--threads", "4"]
    )
    started = time.monotonic()
    while time.monotonic() - started < 180:
        states = db_outbox_states(stack, run)
        if not states.get("queued") and not states.get("sending"):
            break
        time.sleep(1)
    print(f"   after a restart, {time.monotonic() - started:.1f} s later: {states}")
    text = log.read_text(errors="replace")
    ids = [
        line.split(":", 1)[1].strip()
        for line in text.splitlines()
        if line.startswith("Message-ID:") and f"drill-{run}" in line
    ]
    unique = len(set(ids))
    print(
        f"   e-mails written by the workers: {len(ids)}, distinct messages {unique}, sent twice {len(ids) - unique}"
    )
    unknown = states.get("unknown", 0)
    lost = n - states.get("sent", 0) - unknown
    print(
        f"   {'✓' if len(ids) == unique and lost == 0 else '✗'} lost: {lost}; done twice: {len(ids) - unique}; "
        f"waiting for the administrator (需人工确认, /messages/undelivered/): {unknown}, "
        f"of which written before the kill: {unique - states.get('sent', 0)}"
    )


TASK = """
from django.core.files import File
from qinghe.talents.importing import survey_upload
from qinghe.talents.tasks import run_import
with open(SURVEY, "rb") as handle:
    batch, _ = survey_upload(upload=File(handle, name="演练调查表.xlsx"), source_name="故障演练")
print("BATCH", batch.pk)
print("TASK", run_import.enqueue(batch.pk).id)
"""


def db_batch(stack: Stack, batch: int) -> str:
    import psycopg

    with psycopg.connect(stack.database_url) as conn:
        row = conn.execute(
            "SELECT state, rows_done, total_rows, created, updated, unchanged, rejected, held "
            "FROM talents_importbatch WHERE id = %s",
            (batch,),
        ).fetchone()
        rows = conn.execute(
            "SELECT count(*), count(DISTINCT row_number) FROM talents_importrow WHERE batch_id = %s",
            (batch,),
        ).fetchone()
    if row is None or rows is None:
        return "missing"
    state, done, total, created, updated, unchanged, rejected, held = row
    return (
        f"{state}, {done:,}/{total:,} rows (新建 {created:,}, 更新 {updated:,}, 未变 {unchanged:,}, "
        f"拒绝 {rejected:,}, 暂缓 {held:,}); row records {rows[0]:,} for {rows[1]:,} distinct rows"
    )


def drill_task_worker(stack: Stack, rows: int) -> None:
    from bench_import import make_file

    print(
        f"\n4. the task worker killed with SIGKILL while it runs a task (a survey import of {rows:,} rows)"
    )
    survey = make_file(rows, ROOT / "var" / "bench")
    out = stack.manage("shell", "-c", f"SURVEY = {str(survey)!r}\n" + TASK)
    batch = int(next(x for x in out.splitlines() if x.startswith("BATCH "))[6:])
    task = next(x for x in out.splitlines() if x.startswith("TASK "))[5:]

    def state() -> str:
        return db_task_state(stack, task)

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and state().split()[0] in {"READY"}:
        time.sleep(0.05)
    # killed as soon as a chunk is committed and before the last one is (a fixed pause lost
    # the race on a quiet machine: 20,000 rows import in ~5 s)
    import psycopg

    with psycopg.connect(stack.database_url, autocommit=True) as conn:  # one, polled
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT rows_done FROM talents_importbatch WHERE id = %s", (batch,)
            ).fetchone()
            if row and 0 < row[0] < rows:
                break
            time.sleep(0.02)
    before = state()
    stack.stop_proc("worker", sig=signal.SIGKILL)
    print(f"   killed while: {before} (status, started, finished); batch: {db_batch(stack, batch)}")
    stack.start_worker("worker")
    if before.startswith("SUCCESSFUL"):
        print("   the task finished before the kill landed: inconclusive (use more --rows)")
        return
    print(f"   a new worker started; the dead one's task: {state()}")
    # The scheduler of the stack runs reap_interrupted_tasks every 2 minutes; the drill's
    # heartbeat is 2 s and a worker counts as dead after 10 s unseen (production: 15 s / 90 s).
    deadline = time.monotonic() + 240
    record = None
    while time.monotonic() < deadline and record is None:
        record = db_interrupted(stack, task)
        time.sleep(1)
    if record is None:
        print("   ✗ no reaper record 4 minutes later: the task stays RUNNING for ever")
        return
    outcome, reason, retry, detected = record
    print(
        f"   reaper (scheduled job reap_interrupted_tasks, {detected}): {state()}; "
        f"{outcome}: {reason}"
    )
    if retry is None:
        print("   ✗ not run again")
        return
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not db_task_state(stack, retry).startswith(
        ("SUCCESSFUL", "FAILED")
    ):
        time.sleep(1)
    again = db_task_state(stack, retry)
    runs = db_task_runs(stack)
    print(f"   its re-run {retry[:8]}…: {again} (status, started, finished)")
    print(f"   the reaper's run records (系统 → 定时任务): {runs}")
    twice = db_count_tasks(stack, "qinghe.talents.tasks.run_import")
    after = db_batch(stack, batch)
    print(f"   batch after the re-run: {after}")
    ok = again.startswith("SUCCESSFUL") and twice == 2 and after.startswith("done")
    print(
        f"   {'✓' if ok else '✗'} lost: {'nothing' if ok else '?'}; import task rows: {twice} "
        "(the interrupted one, failed, and its single re-run, which resumed the batch); shown to "
        "the administrator on 系统 → 定时任务 (中断的后台任务) and in the back office (后台任务结果)"
    )


NOTIFY_INBOX = """
import uuid
from django.db import transaction
from qinghe.accounts.models import User
from qinghe.notifications.services import notify
import time
user = User.objects.get(username="xuezi")
sent = time.time()
with transaction.atomic():
    notify(user=user, channels=("inbox",), category="system",
           subject="演练消息" + LABEL, body="Redis 重启演练", key="drill-redis-" + uuid.uuid4().hex)
print("PUBLISHED", LABEL, sent)
"""

# Every page's websockets, as the page saw them: open, close (code) and each frame, with the
# browser's clock (the same machine's), so the Python side can read them at leisure.
WS_SPY = """
(() => {
  const Native = window.WebSocket;
  window.__ws = [];
  window.WebSocket = function (url, protocols) {
    const socket = protocols === undefined ? new Native(url) : new Native(url, protocols);
    const log = (kind, data) => window.__ws.push({t: Date.now(), kind, data});
    socket.addEventListener("open", () => log("open", url));
    socket.addEventListener("close", (e) => log("close", e.code));
    socket.addEventListener("message", (e) => log("frame", e.data));
    return socket;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
})();
"""


def drill_redis(stack: Stack, clients: int = 6, down_seconds: float = 5.0) -> None:
    """5. Redis restarted under live websockets: ``clients`` browser pages (Chromium, each its
    own context, the student xuezi's session) hold the 我的消息 badge socket (/ws/inbox/,
    static/js/live-inbox.js) through nginx; Redis is killed (SIGKILL: the channel layer's
    groups, held only in Redis, are gone), a message is queued while it is down, Redis starts
    again empty, and a message is queued after. Does every page reconnect by itself, and does
    the badge show the right count?"""
    from playwright.sync_api import sync_playwright

    from qinghe.accounts.demo import DEMO_PASSWORD

    chromium = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    print(f"\n5. Redis restarted under {clients} live websockets (我的消息 badge, through nginx)")

    def publish(label: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(VENV_BIN / "python"), "manage.py", "shell", "-c",
             f"LABEL = {label!r}\n" + NOTIFY_INBOX],
            cwd=ROOT, env=stack.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"],
        )
        try:
            login = browser.new_context(
                locale="zh-CN", base_url=stack.base_url, ignore_https_errors=True
            )
            page = login.new_page()
            page.goto("/accounts/login/")
            page.get_by_label("用户名或手机号").fill("xuezi")
            page.get_by_label("密码").fill(DEMO_PASSWORD)
            page.get_by_role("button", name="登录").click()
            page.wait_for_url("**/workbench/")
            state = login.storage_state()
            login.close()
            pages = []
            for _ in range(clients):
                context = browser.new_context(
                    locale="zh-CN",
                    base_url=stack.base_url,
                    ignore_https_errors=True,
                    storage_state=state,
                )
                context.add_init_script(WS_SPY)
                p = context.new_page()
                p.goto("/workbench/")
                pages.append(p)

            def logs() -> list[list[dict[str, Any]]]:
                return [p.evaluate("window.__ws") for p in pages]

            def unread(log: list[dict[str, Any]]) -> int | None:
                frames = [json.loads(e["data"]) for e in log if e["kind"] == "frame"]
                counts = [f["unread"] for f in frames if f.get("type") == "inbox"]
                return counts[-1] if counts else None

            def wait_all(expected: int, timeout: float) -> float | None:
                started = time.monotonic()
                while time.monotonic() - started < timeout:
                    if all(unread(log) == expected for log in logs()):
                        return time.monotonic() - started
                    pages[0].wait_for_timeout(100)
                return None

            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not all(unread(x) is not None for x in logs()):
                pages[0].wait_for_timeout(100)
            base = unread(logs()[0]) or 0

            def push_latency(log: list[dict[str, Any]], since: float, count: int) -> str:
                frames = [
                    e["t"] / 1000 - since for e in log
                    if e["kind"] == "frame" and e["t"] / 1000 >= since
                    and json.loads(e["data"]).get("unread") == count
                ]  # fmt: skip
                return f"{frames[0]:.2f} s" if frames else "never"

            def published(label: str) -> float:
                out, err = publish(label).communicate(timeout=120)
                line = next((x for x in out.splitlines() if x.startswith("PUBLISHED")), "")
                if not line:
                    raise RuntimeError(f"message {label} not queued: {err[-500:]}")
                return float(line.split()[-1])

            sent_a = published("A")
            wait_all(base + 1, 30)
            latencies = sorted(push_latency(log, sent_a, base + 1) for log in logs())
            print(
                f"   before: {clients} pages connected, badge {base}; message A's push reached "
                f"every badge (latency {latencies[0]} … {latencies[-1]})"
            )

            killed_at = time.time()
            stack.stop_proc("redis", sig=signal.SIGKILL)
            during = publish("B")
            out, err = during.communicate(timeout=120)
            pages[0].wait_for_timeout(max(0.0, down_seconds - (time.time() - killed_at)) * 1000)
            stack.start_redis()
            up_at = time.time()
            print(
                f"   Redis killed (SIGKILL, no persistence: the channel layer's groups are gone), "
                f"message B queued while it was down, Redis started again empty after "
                f"{up_at - killed_at:.1f} s"
            )
            print(
                f"   message B: {'saved' if 'PUBLISHED B' in out else 'NOT saved'} in 我的消息; "
                f"its live push {'failed (logged: websocket publish … failed)' if 'websocket publish' in err else 'raised nothing visible'}"
            )

            def reopened(log: list[dict[str, Any]]) -> list[dict[str, Any]]:
                return [e for e in log if e["kind"] == "open" and e["t"] / 1000 >= killed_at]

            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and not all(reopened(x) for x in logs()):
                pages[0].wait_for_timeout(200)
            pages[0].wait_for_timeout(1000)  # the count each consumer sends on joining
            sent_c = published("C")
            took = wait_all(base + 3, 60)
            print(
                "   page  closed after kill  failed attempts  reconnected (after Redis back)  "
                "badge then  message C's push"
            )
            lost = 0
            for i, log in enumerate(logs()):
                closes = [e for e in log if e["kind"] == "close" and e["t"] / 1000 >= killed_at]
                opens = reopened(log)
                back = opens[0]["t"] / 1000 if opens else None
                before_back = [e for e in closes if back is None or e["t"] / 1000 < back]
                resync = [
                    json.loads(e["data"]).get("unread") for e in log
                    if e["kind"] == "frame" and back is not None and e["t"] / 1000 >= back
                ]  # fmt: skip
                count = unread(log)
                lost += count != base + 3
                print(
                    f"   {i + 1:>4}  "
                    f"{(closes[0]['t'] / 1000 - killed_at) if closes else float('nan'):>14.2f} s  "
                    f"{max(len(before_back) - 1, 0):>15}  "
                    f"{(f'{back - up_at:+.2f} s' if back else 'never'):>31}  "
                    f"{(resync[0] if resync else '-')!s:>10}  "
                    f"{push_latency(log, sent_c, base + 3)}"
                )
            print(
                f"   {'✓' if lost == 0 else '✗'} every page reconnected by itself (no reload) "
                + (
                    f"and shows {base + 3} (A, B, C); C's push arrived live"
                    if took is not None and lost == 0
                    else f"— {lost} of {clients} pages do not show {base + 3} 60 s after C"
                )
            )
            print(
                "   lost: the live push of B (Redis was down) — not the message: B is in 我的消息 "
                "and each badge counted it from the count resent on reconnect"
                if lost == 0
                else f"   lost: {lost} page(s) stuck with a wrong count until reloaded"
            )
        finally:
            browser.close()


DISK_SETUP = """
from qinghe.accounts.models import User
from qinghe.talents.models import Talent
from qinghe.testing.files import make_pdf
from qinghe.testing.recruiting import X_PHONE, claim_talent
user = User.objects.get(username="xuezi")
if not Talent.objects.filter(user=user).exists():
    claim_talent(user, name="李晓彤", seq="102", phone=X_PHONE)
for name, pages, text in (("first.pdf", 2, "第一份"), ("bigger.pdf", 80, "第二份")):
    with open(f"{FOLDER}/{name}", "wb") as handle:
        handle.write(make_pdf(pages=pages, text=text))
print("READY")
"""

STORAGE_FULL_SUBJECT = "服务器存储空间不足：有上传未能保存"


def db_resume(stack: Stack) -> tuple[str, str, int] | None:
    import psycopg

    with psycopg.connect(stack.database_url) as conn:
        row = conn.execute(
            "SELECT r.storage_name, r.sha256, r.size FROM talents_resume r "
            "JOIN accounts_user u ON u.id = r.user_id WHERE u.username = 'xuezi'"
        ).fetchone()
    return (str(row[0]), str(row[1]), int(row[2])) if row else None


def db_storage_alerts(stack: Stack) -> int:
    import psycopg

    with psycopg.connect(stack.database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM notifications_outboxmessage WHERE subject = %s",
            (STORAGE_FULL_SUBJECT,),
        ).fetchone()
    return int(row[0]) if row else 0


def drill_disk_full(stack: Stack, size_kb: int = 1024) -> None:
    """6. The disk filling up during an upload: MEDIA_ROOT becomes a tmpfs of ``size_kb`` (the
    web workers keep their MEDIA_ROOT path; the mount is what changes under it), a student
    uploads a résumé through nginx, the disk is filled up to the last 4 KB, the student uploads
    a bigger one (the write fails half-way: ENOSPC), then again, then space is freed and the
    same upload is made once more."""
    import re

    import requests

    from qinghe.accounts.demo import DEMO_PASSWORD
    from qinghe.core.diskspace import STORAGE_FULL_MESSAGE

    print(
        f"\n6. the disk filling up during an upload (MEDIA_ROOT on a {size_kb} KB tmpfs, through nginx)"
    )
    media = stack.tmp / "media"
    pdfs = stack.tmp / "drill-pdfs"
    pdfs.mkdir(exist_ok=True)
    out = stack.manage("shell", "-c", f"FOLDER = {str(pdfs)!r}\n" + DISK_SETUP)
    if "READY" not in out:
        raise RuntimeError(out)
    first, bigger = (pdfs / "first.pdf").read_bytes(), (pdfs / "bigger.pdf").read_bytes()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k,mode=0700", "tmpfs", str(media)],
        check=True, capture_output=True,
    )  # fmt: skip
    filler = media / "filler.bin"
    try:

        def free() -> int:
            stat = os.statvfs(media)
            return stat.f_bavail * stat.f_frsize

        def files() -> list[str]:
            return sorted(
                str(p.relative_to(media)) for p in media.rglob("*") if p.is_file() and p != filler
            )

        session = requests.Session()
        session.verify = str(stack.cafile)
        session.get(f"{stack.base_url}/accounts/login/", verify=str(stack.cafile))

        def post(path: str, data: dict[str, str], upload: tuple[str, bytes] | None = None) -> Any:
            token = session.cookies.get("__Host-qinghe-csrf", "")
            return session.post(
                f"{stack.base_url}{path}",
                data={**data, "csrfmiddlewaretoken": token},
                files={"file": (upload[0], upload[1], "application/pdf")} if upload else None,
                headers={"Referer": f"{stack.base_url}{path}"},
                timeout=60,
                verify=str(stack.cafile),  # per request: the environment's CA bundle would win
            )

        signed = post("/accounts/login/", {"username": "xuezi", "password": DEMO_PASSWORD})
        if "/workbench/" not in signed.url:
            raise RuntimeError(f"sign-in failed: {signed.status_code} {signed.url}")

        def upload(data: bytes) -> tuple[int, str]:
            response = post("/me/resume/", {}, ("简历.pdf", data))
            shown = re.findall(r"(简历已保存（\d+ 页）。|服务器存储空间不足[^<]*)", response.text)
            return response.status_code, (shown[0].strip() if shown else "(no message)")

        status, message = upload(first)
        kept = db_resume(stack)
        kept_files = files()
        print(
            f"   a first résumé ({len(first):,} bytes): {status}, 「{message}」; on disk {kept_files}"
        )
        with filler.open("wb") as handle:
            with contextlib.suppress(OSError):
                handle.write(b"\0" * (free() - 4096))
        print(
            f"   disk filled: {free():,} bytes left; the new résumé is {len(bigger):,} bytes "
            "(encrypted, a little more)"
        )
        web_log = stack.tmp / "logs" / "web.log"
        log_before = web_log.stat().st_size
        alerts_before = db_storage_alerts(stack)
        results = [upload(bigger) for _ in range(2)]
        after = db_resume(stack)
        log_lines = [
            line for line in web_log.read_bytes()[log_before:].decode(errors="replace").splitlines()
            if "storage full" in line
        ]  # fmt: skip
        alerts = db_storage_alerts(stack) - alerts_before
        ok_message = all(m == STORAGE_FULL_MESSAGE for _, m in results)
        for i, (status, message) in enumerate(results, start=1):
            print(
                f"   upload {i} on the full disk: HTTP {status} (after the redirect), the student sees 「{message}」"
            )
        print(
            f"   {'✓' if files() == kept_files else '✗'} on disk afterwards: {files()} "
            f"(nothing partial; {free():,} bytes free again)"
        )
        print(
            f"   {'✓' if after == kept else '✗'} the résumé on record: "
            f"{'unchanged (the first one, same checksum)' if after == kept else after}; "
            "no row for the failed uploads"
        )
        print(
            f"   {'✓' if alerts == 1 else '✗'} system administrators told: {alerts} 站内信 "
            f"「{STORAGE_FULL_SUBJECT}」 for {len(results)} failed uploads (at most one an hour)"
        )
        print(
            f"   operator's log (web): {len(log_lines)} line(s): {log_lines[-1][-160:] if log_lines else '(none)'}"
        )
        filler.unlink()
        status, message = upload(bigger)
        final = db_resume(stack)
        ok_after = (
            message.startswith("简历已保存")
            and final is not None
            and final[2] > 0
            and final != kept
        )
        print(
            f"   {'✓' if ok_after else '✗'} space freed ({free():,} bytes), the same upload: HTTP {status}, "
            f"「{message}」; on disk {files()}"
        )
        good = ok_message and files() == [final[0]] if final else False
        print(
            f"   {'✓' if good and alerts == 1 and after == kept else '✗'} lost: nothing "
            "(the student was told to try again; the old résumé stayed whole until the new one was saved)"
        )
    finally:
        with contextlib.suppress(OSError):
            filler.unlink()
        subprocess.run(["umount", str(media)], check=False, capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--only", default="1,2,3,4,5,6")
    args = parser.parse_args()
    only = set(args.only.split(","))
    pg = PrivatePostgres()
    print(f"private PostgreSQL on :{pg.port} ({PG_BIN})")
    try:
        with Stack(database="qinghe_drills", pg_server=pg.url) as stack:
            stack.env["NOTIFY_INFLIGHT_SECONDS"] = "5"
            stack.env["QINGHE_TASK_HEARTBEAT_SECONDS"] = "2"
            stack.env["QINGHE_TASK_WORKER_STALE_SECONDS"] = "10"
            try:
                if "1" in only:
                    drill_import(pg, stack, args.rows)
                if only & {"2", "3", "4", "5", "6"}:
                    stack.create_database()
                    stack.migrate()
                    stack.manage(
                        "shell",
                        "-c",
                        "from qinghe.accounts.demo import personas_ensure\npersonas_ensure()",
                    )
                    stack.start()
                if "2" in only:
                    drill_web(pg, stack)
                if "3" in only:
                    drill_outbox(stack)
                if "4" in only:
                    drill_task_worker(stack, args.rows)
                if "5" in only:
                    drill_redis(stack)
                if "6" in only:
                    drill_disk_full(stack)
            except BaseException as error:
                print(f"\nFAILED: {type(error).__name__}: {error}")
                for name in ("web", "worker", "outbox"):
                    print(f"--- {name} ---\n{stack.log_tail(name, 12)}")
                raise
        print(f"\nstack stopped; processes left: {len(stack.orphans)}")
    finally:
        pg.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
