"""Screenshots of each demo role's 工作台, at desktop (1280x800) and phone (390x844) width, into
var/screenshots/<role>-desktop.png and <role>-phone.png (`make screenshots`), and the pages of
EXTRA_PAGES (the 十个一 board, the return funnel, the public figures) at desktop width.

Builds a throwaway SQLite database with the reference and demo data, serves it with
`manage.py runserver` on a free local port, signs in as each demo account (staff two-factor
is off for this run, as in the browser tests) and photographs the page with Playwright
driving Debian's Chromium. Nothing outside var/screenshots/ is kept."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "var" / "screenshots"
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
# Further pages at desktop width, taken signed in as the role: (role, path, file name).
EXTRA_PAGES = [
    ("hr_staff", "/plan/", "plan-board"),
    ("hr_staff", "/plan/funnel/", "plan-funnel"),
    ("hr_staff", "/figures/", "public-figures"),
]
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def manage(env: dict[str, str], *args: str, quiet: bool = True) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL if quiet else None,
    )


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (local URL)
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.3)


def photograph(base_url: str, accounts: list[tuple[str, str]], password: str) -> list[Path]:
    from playwright.sync_api import sync_playwright

    written: list[Path] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run"],
        )
        for role, username in accounts:
            for size, (width, height) in SIZES.items():
                context: Any = browser.new_context(
                    locale="zh-CN",
                    base_url=base_url,
                    viewport={"width": width, "height": height},
                    device_scale_factor=1,
                )
                page = context.new_page()
                page.goto("/accounts/login/")
                page.get_by_label("用户名或手机号").fill(username)
                page.get_by_label("密码").fill(password)
                page.get_by_role("button", name="登录").click()
                page.wait_for_url("**/workbench/")
                page.wait_for_load_state("networkidle")
                path = OUT / f"{role}-{size}.png"
                page.screenshot(path=str(path), full_page=True)
                written.append(path)
                for extra_role, url, name in EXTRA_PAGES:
                    if extra_role == role and size == "desktop":
                        page.goto(url)
                        page.wait_for_load_state("networkidle")
                        path = OUT / f"{name}-desktop.png"
                        page.screenshot(path=str(path), full_page=True)
                        written.append(path)
                context.close()
        browser.close()
    return written


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="qinghe-screenshots-") as tmp:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.dev",
            "DATABASE_URL": f"sqlite:///{tmp}/demo.sqlite3",
            "QINGHE_REQUIRE_STAFF_2FA": "false",
        }
        print("准备演示数据（迁移、参考数据、演示数据）……", flush=True)
        manage(env, "migrate", "--noinput")
        manage(env, "load_reference")
        manage(env, "seed_demo")
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            wait_for(f"{base_url}/healthz")
            os.environ.update({k: env[k] for k in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")})
            sys.path.insert(0, str(ROOT))
            import django

            django.setup()
            from qinghe.accounts.demo import DEMO_PASSWORD, PERSONAS

            accounts = [(str(p.role), p.username) for p in PERSONAS]
            for path in photograph(base_url, accounts, DEMO_PASSWORD):
                print(path.relative_to(ROOT), flush=True)
        finally:
            server.terminate()
            server.wait(timeout=20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
