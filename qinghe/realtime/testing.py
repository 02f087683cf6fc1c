"""Helpers for websocket tests: a communicator carrying a signed-in session, as a browser would."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections
from django.test import Client


def session_cookie(user: Any, *, otp_device: Any = None) -> str:
    """A session cookie for ``user`` (with its OTP check passed on ``otp_device``, if given)."""
    client = Client()
    client.force_login(user)
    if otp_device is not None:
        from django_otp import DEVICE_ID_SESSION_KEY

        session = client.session
        session[DEVICE_ID_SESSION_KEY] = otp_device.persistent_id
        session.save()
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def communicator(
    path: str,
    *,
    cookie: str | None = None,
    origin: str = "http://testserver",
    application: Any = None,
) -> WebsocketCommunicator:
    """A websocket client for ``path``; ``cookie`` from ``session_cookie`` (made beforehand,
    outside the event loop, since it writes the session)."""
    if application is None:
        from config.asgi import application

    headers = [(b"origin", origin.encode()), (b"host", b"testserver")]
    if cookie is not None:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    return WebsocketCommunicator(application, path, headers=headers)


def run_async(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
    """``async_to_sync`` for tests, also when this thread already runs an event loop (the
    browser tests' Playwright keeps one in the main thread for the whole session): the coroutine
    then runs in a fresh thread, whose database connections are closed afterwards."""

    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return async_to_sync(fn)(*args, **kwargs)

        def work() -> Any:
            try:
                return async_to_sync(fn)(*args, **kwargs)
            finally:
                connections.close_all()

        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(work).result()

    return call


async def first_outcome(ws: WebsocketCommunicator) -> tuple[str, Any]:
    """How a socket opening ends: ("rejected", code) when the handshake is refused,
    ("refused", code) when the consumer accepts and closes at once, else ("open", the first
    frame it sends). The socket is closed afterwards."""
    connected, code = await ws.connect()
    if not connected:
        return ("rejected", code)
    output = await ws.receive_output(timeout=5)
    await ws.disconnect()
    if output["type"] == "websocket.close":
        return ("refused", output["code"])
    return ("open", output)


def socket_outcome(path: str, cookie: str | None = None) -> tuple[str, Any]:
    """``first_outcome`` of a socket on ``path`` opened with ``cookie``, from synchronous tests."""

    async def go() -> tuple[str, Any]:
        return await first_outcome(communicator(path, cookie=cookie))

    return run_async(go)()
