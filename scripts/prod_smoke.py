"""`make prod-smoke`: the production stack on this machine (scripts/prodstack.py: nginx with TLS,
gunicorn + uvicorn workers on config.asgi, PostgreSQL, Redis, the task worker, the outbox worker
and the scheduler, production settings), then, through nginx over HTTPS:

1. the security headers as nginx serves them (a page, a static file, the HTTP → HTTPS redirect);
2. a Chromium journey: a staff member signs in, binds TOTP with the code computed from the
   secret the page shows (as an authenticator app does), opens the talent list and calls the
   API with the session; a student signs in and opens 为你推荐;
3. a background task through the task worker and a message through the outbox worker;
   the student's live 我的消息 badge: a websocket (wss through nginx to a uvicorn worker) that
   shows a message queued by another process (through Redis) without a reload;
4. everything stopped, and no process of the stack left.

Prints each step with its time; exits non-zero at the first failure (after stopping everything).
Environment: SMOKE_PG_URL (default the .ci/postgres.sh server), SMOKE_DATABASE (qinghe_smoke),
SMOKE_WEB_WORKERS (3), CHROMIUM_PATH.
"""

from __future__ import annotations

import base64
import os
import shutil
import sys
import time
import urllib.request
import uuid
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from prodstack import PG_SERVER, Stack, timed  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
HSTS = "max-age=31536000; includeSubDomains; preload"

# The staff member and the student of the journey (the demo personas, with the demo password).
SETUP = """
from django_otp.plugins.otp_totp.models import TOTPDevice
from qinghe.accounts.demo import personas_ensure
personas_ensure()
TOTPDevice.objects.filter(user__username="renshe").delete()  # a kept database: bind afresh
"""

# A real background task and a real message, queued the way the application queues them.
ENQUEUE = """
import uuid
from django.db import transaction
from qinghe.accounts.models import User
from qinghe.matching.tasks import recompute_recommendations
from qinghe.notifications.services import notify
student = User.objects.get(username="xuezi")
student.email = "xuezi@example.cn"  # e-mail goes to the console backend of the smoke's settings
student.save(update_fields=["email"])
with transaction.atomic():
    notify(user=student, channels=("inbox", "email"), category="system", subject="冒烟测试",
           body="生产栈的消息投递检查", data={"smoke": RUN}, key="prod-smoke-" + uuid.uuid4().hex)
print("TASK", recompute_recommendations.enqueue().id)
"""

NOTIFY_INBOX = """
import uuid
from django.db import transaction
from qinghe.accounts.models import User
from qinghe.notifications.services import notify
with transaction.atomic():
    notify(user=User.objects.get(username="xuezi"), channels=("inbox",), category="system",
           subject="实时检查", body="生产栈的实时推送检查", key="prod-smoke-live-" + uuid.uuid4().hex)
"""

STATUS = """
from qinghe.notifications.models import OutboxMessage
from django_tasks_db.models import DBTaskResult
print("OUTBOX", sorted(OutboxMessage.objects.filter(subject="冒烟测试", data__smoke=RUN).values_list("channel", "state", "last_error")))
print("TASKS", sorted(DBTaskResult.objects.filter(id=TASK).values_list("status", flat=True)))
"""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)
    print(f"  ✓ {message}")


def fetch(stack: Stack, path: str, *, base: str | None = None) -> tuple[int, Any, bytes]:
    """One request through nginx; redirects are not followed (we check them)."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(
        NoRedirect, urllib.request.HTTPSHandler(context=stack.ssl_context())
    )
    try:
        with opener.open((base or stack.base_url) + path, timeout=20) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def check_headers(stack: Stack) -> None:
    print("security headers as served by nginx:")
    status, headers, body = fetch(stack, "/accounts/login/")
    check(status == 200, f"GET /accounts/login/ over HTTPS → {status}")
    expected = {
        "Strict-Transport-Security": HSTS,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    for name, value in expected.items():
        values = headers.get_all(name) or []
        check(values == [value], f"{name}: {value} (once)")
    csp = headers.get_all("Content-Security-Policy") or []
    check(
        len(csp) == 1 and "default-src 'self'" in csp[0],
        f"Content-Security-Policy once: {csp[0][:70] if csp else None}…",
    )
    check(
        "script-src" in csp[0]
        and "unsafe-inline" not in csp[0].split("script-src")[1].split(";")[0],
        "CSP scripts without 'unsafe-inline'",
    )
    check(
        headers.get("Server") == "nginx",
        f"Server header without a version: {headers.get('Server')!r}",
    )
    cookies = headers.get_all("Set-Cookie") or []
    csrf = [c for c in cookies if c.startswith("__Host-qinghe-csrf=")]
    check(
        len(csrf) == 1 and "Secure" in csrf[0] and "Path=/" in csrf[0],
        "CSRF cookie __Host- prefixed, Secure",
    )

    page = body.decode()
    static_path = page.split('href="/static/', 1)[1].split('"', 1)[0]
    status, headers, _ = fetch(stack, "/static/" + static_path)
    check(status == 200, f"static file /static/{static_path} from disk by nginx → {status}")
    check(headers.get_all("Strict-Transport-Security") == [HSTS], "static file: HSTS")
    check(headers.get_all("X-Content-Type-Options") == ["nosniff"], "static file: nosniff")
    check("max-age=2592000" in (headers.get("Cache-Control") or ""), "static file: cached 30 days")

    status, headers, _ = fetch(stack, "/media/anything")
    check(status == 404, f"/media/ is never served directly → {status}")

    status, headers, _ = fetch(stack, "/talents/?q=1", base=f"http://localhost:{stack.http_port}")
    location = headers.get("Location")
    check(status == 301 and location == f"{stack.base_url}/talents/?q=1", f"HTTP → 301 {location}")

    import socket
    import ssl

    with (
        socket.create_connection(("127.0.0.1", stack.https_port)) as raw,
        stack.ssl_context().wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        version = tls.version()
    check(version == "TLSv1.3", f"TLS version negotiated: {version}")
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.load_verify_locations(str(stack.cafile))
    with warnings.catch_warnings():  # the point is to offer the deprecated versions
        warnings.simplefilter("ignore", DeprecationWarning)
        old.maximum_version = ssl.TLSVersion.TLSv1_1
        old.minimum_version = ssl.TLSVersion.TLSv1
    try:
        with (
            socket.create_connection(("127.0.0.1", stack.https_port)) as raw,
            old.wrap_socket(raw, server_hostname="localhost"),
        ):
            refused = False
    except ssl.SSLError:
        refused = True
    check(refused, "TLS 1.0/1.1 refused")


def totp_from_secret(secret: str) -> str:
    from django_otp.oath import totp

    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return f"{totp(key):06d}"


def journey(stack: Stack) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    from qinghe.accounts.demo import DEMO_PASSWORD

    times: dict[str, float] = {}
    print("browser journey through nginx over HTTPS (Chromium):")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"],
        )
        try:
            # The certificate is the smoke's own; Python's checks above verified it against it.
            context = browser.new_context(
                locale="zh-CN", base_url=stack.base_url, ignore_https_errors=True
            )
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

            with timed("staff sign-in + TOTP binding", times):
                page.goto("/accounts/login/")
                page.get_by_label("用户名或手机号").fill("renshe")
                page.get_by_label("密码").fill(DEMO_PASSWORD)
                page.get_by_role("button", name="登录").click()
                page.wait_for_url("**/accounts/2fa/setup/")
                secret = page.get_by_test_id("otp-secret").inner_text().strip()
                page.locator("input[name=token]").fill(totp_from_secret(secret))
                page.get_by_role("button", name="验证并启用").click()
                page.wait_for_url("**/workbench/")
            check(
                "梁志强" in page.get_by_test_id("user-menu").inner_text(),
                "staff signed in with TOTP, 工作台 shown",
            )

            with timed("talent list page", times):
                page.goto("/talents/")
            check(
                page.locator("h1").first.inner_text().strip() != "",
                f"talent list: {page.locator('h1').first.inner_text().strip()}",
            )
            cookies = {c["name"]: c for c in context.cookies()}
            session = cookies.get("__Host-qinghe-session")
            check(
                bool(session and session["secure"] and session["httpOnly"]),
                "session cookie __Host-, Secure, HttpOnly",
            )

            with timed("API call with the session", times):
                response = page.request.get("/api/v1/accounts/me")
            check(
                response.status == 200 and response.json().get("username") == "renshe",
                f"GET /api/v1/accounts/me → {response.status} {response.json()}",
            )

            student = browser.new_context(
                locale="zh-CN", base_url=stack.base_url, ignore_https_errors=True
            )
            spage = student.new_page()
            spage.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            with timed("student sign-in + 为你推荐", times):
                spage.goto("/accounts/login/")
                spage.get_by_label("用户名或手机号").fill("xuezi")
                spage.get_by_label("密码").fill(DEMO_PASSWORD)
                spage.get_by_role("button", name="登录").click()
                spage.wait_for_url("**/workbench/")
                spage.goto("/matching/for-me/")
            check(
                spage.url.endswith("/matching/for-me/") and "为你推荐" in spage.content(),
                "student: 为你推荐 page",
            )
            # The live 我的消息 badge: a websocket through nginx (wss, /ws/inbox/) to a uvicorn
            # worker; a message queued by another process reaches it through Redis.
            sockets: list[Any] = []
            spage.on("websocket", lambda ws: sockets.append(ws))
            with timed("websocket: live badge through nginx and Redis", times):
                spage.goto("/workbench/")
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline and not any(
                    "/ws/inbox/" in ws.url for ws in sockets
                ):
                    spage.wait_for_timeout(100)
                spage.wait_for_timeout(500)  # the count sent on connect has arrived
                badge = spage.get_by_test_id("inbox-unread")
                before = int(badge.inner_text().split("条")[0] or 0) if badge.count() else 0
                stack.manage("shell", "-c", NOTIFY_INBOX)
                spage.wait_for_function(
                    "n => { const b = document.querySelector('[data-testid=inbox-unread]');"
                    " return b && parseInt(b.textContent) === n; }",
                    arg=before + 1,
                    timeout=20000,
                )
            urls = [ws.url for ws in sockets]
            check(
                any(u.startswith(f"wss://localhost:{stack.https_port}/ws/inbox/") for u in urls),
                f"websocket opened through nginx: {urls}",
            )
            check(
                all(not ws.is_closed() for ws in sockets if "/ws/inbox/" in ws.url),
                f"badge {before} → {before + 1} without a reload (another process → Redis → the socket)",
            )
            check(errors == [], f"no console errors ({errors[:3]})")
        finally:
            browser.close()
    return times


def workers_do_their_work(stack: Stack) -> None:
    print("task worker and outbox worker:")
    run = uuid.uuid4().hex
    out = stack.manage("shell", "-c", f"RUN = {run!r}\n" + ENQUEUE)
    task = next(line for line in out.splitlines() if line.startswith("TASK "))[5:]
    deadline = time.monotonic() + 90
    status = ""
    while time.monotonic() < deadline:
        status = stack.manage("shell", "-c", f"RUN = {run!r}\nTASK = {task!r}\n" + STATUS)
        if "queued" not in status and "READY" not in status and "RUNNING" not in status:
            break
        time.sleep(1)
    outbox = next(line for line in status.splitlines() if line.startswith("OUTBOX "))[7:]
    tasks = next(line for line in status.splitlines() if line.startswith("TASKS "))[6:]
    check(
        outbox == "[('email', 'sent', ''), ('inbox', 'sent', '')]", f"outbox worker sent: {outbox}"
    )
    check(tasks == "['SUCCESSFUL']", f"task worker ran the recompute: {tasks}")


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()  # for the TOTP helper and the demo password only: nothing touches a database here

    figures: dict[str, float] = {}
    started = time.perf_counter()
    stack = Stack(
        database=os.environ.get("SMOKE_DATABASE", "qinghe_smoke"),
        web_workers=int(os.environ.get("SMOKE_WEB_WORKERS", "3")),
        pg_server=os.environ.get("SMOKE_PG_URL", PG_SERVER),
        keep_database=os.environ.get("SMOKE_KEEP_DATABASE") == "1",
    )
    ok = False
    try:
        with stack:
            try:
                print(f"stack in {stack.tmp} (https://localhost:{stack.https_port}/)")
                with timed("database + migrate + reference + collectstatic", figures):
                    stack.create_database(reuse=stack.keep_database)
                    stack.migrate()
                    stack.manage("shell", "-c", SETUP)
                with timed("start redis, gunicorn, workers, scheduler, nginx", figures):
                    stack.start()
                print(f"  nginx -t: {stack.nginx_test.splitlines()[-1]}")
                print(
                    f"  gunicorn: {stack.web_workers} uvicorn workers on config.asgi; redis on :{stack.redis_port}"
                )
                with timed("header checks", figures):
                    check_headers(stack)
                figures.update(journey(stack))
                with timed("task + message through the workers", figures):
                    workers_do_their_work(stack)
                alive = stack.alive()
                check(all(alive.values()), f"every process still running: {alive}")
                ok = True
            except BaseException as error:
                print(f"\nFAILED: {type(error).__name__}: {error}")
                for name in ("web", "worker", "outbox", "scheduler", "nginx", "redis"):
                    tail = stack.log_tail(name, 15)
                    if tail:
                        print(f"--- {name} log (last lines) ---\n{tail}")
                if not isinstance(error, Exception):
                    raise
    finally:
        orphans = getattr(stack, "orphans", None)
        if orphans is None:
            orphans = stack.stop()
    print("stopped everything:")
    print(f"  {'✓' if not orphans else '✗'} processes left: {len(orphans)} {orphans}")
    print("\nfigures:")
    for label, seconds in figures.items():
        print(f"  {label:<50} {seconds:7.2f} s")
    print(f"  {'total':<50} {time.perf_counter() - started:7.2f} s")
    return 0 if ok and not orphans else 1


if __name__ == "__main__":
    sys.exit(main())
