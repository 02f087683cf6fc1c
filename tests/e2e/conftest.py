"""Browser tests: Playwright drives Debian's Chromium (/usr/bin/chromium) against Django's
live server. `make test` installs Chromium when it is missing."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the test
# body itself are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"


def pytest_collection_modifyitems(items: list[Any]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


class AsgiLiveServer:
    """pytest-django's ``live_server``, but serving ``config.asgi`` (pages, static files and
    websockets) with uvicorn in a thread, as ``make run`` and production do. Django's own live
    server speaks WSGI only, so the pages' websockets would fail there.

    An in-memory SQLite test database lives in one connection: as Django's live server does,
    that connection is shared with the threads that serve requests (``create_connection`` hands
    it out); PostgreSQL threads open their own connections."""

    def __init__(self) -> None:
        import socket
        import threading

        import uvicorn
        from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
        from django.db import connections
        from django.test.utils import modify_settings

        from config.asgi import application

        self._shared = {
            conn.alias: conn
            for conn in connections.all()
            if conn.vendor == "sqlite" and conn.is_in_memory_db()  # type: ignore[attr-defined]
        }
        for conn in self._shared.values():
            conn.inc_thread_sharing()
        self._create = connections.create_connection
        if self._shared:
            shared, create = self._shared, self._create
            connections.create_connection = lambda alias: shared.get(alias) or create(alias)  # type: ignore[method-assign]
        self._connections = connections

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        config = uvicorn.Config(
            ASGIStaticFilesHandler(application),
            host="127.0.0.1",
            port=self.port,
            lifespan="off",
            log_level="warning",
            ws="websockets-sansio",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        import time

        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the ASGI test server did not start")
            time.sleep(0.02)
        self._live_server_modified_settings = modify_settings(ALLOWED_HOSTS={"append": "localhost"})

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    def __str__(self) -> str:
        return self.url

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._connections.create_connection = self._create  # type: ignore[method-assign]
        for conn in self._shared.values():
            conn.dec_thread_sharing()


@pytest.fixture(scope="session")
def live_server(django_db_setup: Any, django_db_blocker: Any) -> Iterator[AsgiLiveServer]:
    with django_db_blocker.unblock():
        server = AsgiLiveServer()
    yield server
    server.stop()


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


def open_phone_menu(page: Any) -> Any:
    """The main menu, opened first at phone width (where it sits behind the toggler)."""
    nav = page.locator("#mainnav")
    if page.locator(".navbar-toggler").is_visible() and not nav.is_visible():
        page.locator(".navbar-toggler").click()
        # Bootstrap animates the phone menu open: wait until it is open, not half-way.
        expect(nav).to_have_class(re.compile(r"(^|\s)show(\s|$)"))
    return nav


def sign_out(page: Any) -> None:
    """Through the user menu (behind the phone menu at phone width): the user menu is open
    before 退出登录 is tapped."""
    open_phone_menu(page)
    user_menu = page.get_by_test_id("user-menu")
    user_menu.click()
    expect(user_menu).to_have_attribute("aria-expanded", "true")
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url("**/accounts/login/")


def go_to_menu(page: Any, label: str) -> None:
    """Clicks a main-menu entry, opening its dropdown group first when it is in one."""
    nav = open_phone_menu(page)
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
