"""Browser tests: Playwright drives Debian's Chromium (/usr/bin/chromium) against Django's
live server. `make test` installs Chromium when it is missing."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the test
# body itself are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"


def pytest_collection_modifyitems(items: list[Any]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    context = browser.new_context(locale="zh-CN", base_url=live_server.url)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.console_errors = errors
    yield page
    context.close()


def sign_in(page: Any, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("用户名或手机号").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/workbench/")


def go_to_menu(page: Any, label: str) -> None:
    """Clicks a main-menu entry, opening its dropdown group first when it is in one."""
    nav = page.locator("#mainnav")
    if page.locator(".navbar-toggler").is_visible() and not nav.is_visible():
        page.locator(".navbar-toggler").click()
    item = nav.get_by_role("link", name=label, exact=True, include_hidden=True)
    group = nav.locator("li.dropdown", has=page.locator("a.dropdown-item", has_text=label))
    if group.count() and not item.first.is_visible():
        group.first.locator(".dropdown-toggle").click()
    href = item.first.get_attribute("href")
    item.first.click()
    # The click only starts the navigation: wait until the new page has loaded, so the
    # caller never reads the page it is leaving.
    if href and not href.startswith("#"):
        page.wait_for_url(f"**{href.split('?')[0]}*", wait_until="load")
