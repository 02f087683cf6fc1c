"""The pages' ASGI handler (qinghe/core/asgi.py): each request's Django work in one hop to one of
a few kept threads, signals in order, the connection given back before the bytes are sent,
streamed responses closed after they are sent."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.core import signals
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.test import override_settings
from django.urls import path

from qinghe.core.asgi import PagesASGIHandler, web_threads

events: list[tuple[str, int]] = []
running = {"now": 0, "most": 0}
lock = threading.Lock()


def where(request: HttpRequest) -> HttpResponse:
    events.append(("view", threading.get_ident()))
    return HttpResponse(str(threading.get_ident()))


def slow(request: HttpRequest) -> HttpResponse:
    with lock:
        running["now"] += 1
        running["most"] = max(running["most"], running["now"])
    time.sleep(0.15)
    with lock:
        running["now"] -= 1
    return HttpResponse("ok")


def echo(request: HttpRequest) -> HttpResponse:
    return HttpResponse(request.body[::-1])


def streamed(request: HttpRequest) -> StreamingHttpResponse:
    def parts() -> Any:
        for part in (b"a", b"b", b"c"):
            events.append((f"part {part.decode()}", threading.get_ident()))
            yield part

    return StreamingHttpResponse(parts())


async def asynchronous(request: HttpRequest) -> HttpResponse:
    await asyncio.sleep(0)
    return HttpResponse("async")


def broken(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom")


urlpatterns = [
    path("where", where),
    path("slow", slow),
    path("echo", echo),
    path("streamed", streamed),
    path("async", asynchronous),
    path("broken", broken),
]


def scope(path_: str, method: str = "GET") -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path_,
        "raw_path": path_.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


async def ask(
    app: Any, path_: str, body: bytes = b"", method: str = "GET", sent: list[str] | None = None
) -> tuple[int, bytes]:
    communicator = ApplicationCommunicator(app, scope(path_, method))
    await communicator.send_input({"type": "http.request", "body": body, "more_body": False})
    start = await communicator.receive_output(timeout=5)
    if sent is not None:
        sent.append("start")
    content = b""
    while True:
        message = await communicator.receive_output(timeout=5)
        if sent is not None:
            sent.append("body")
        content += message.get("body", b"")
        if not message.get("more_body", False):
            break
    await communicator.wait(timeout=5)
    return start["status"], content


@pytest.fixture
def recorded() -> Any:
    events.clear()
    running.update(now=0, most=0)

    def started(**_: Any) -> None:
        events.append(("started", threading.get_ident()))

    def finished(**_: Any) -> None:
        events.append(("finished", threading.get_ident()))

    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    yield events
    signals.request_started.disconnect(started)
    signals.request_finished.disconnect(finished)


bare = override_settings(ROOT_URLCONF=__name__, MIDDLEWARE=[], DEBUG=False)


@bare
def test_one_hop_to_a_kept_thread_signals_in_order(recorded: list[tuple[str, int]]) -> None:
    app = PagesASGIHandler(threads=2)
    before = set(threading.enumerate())
    answers = [async_to_sync(ask)(app, "/where") for _ in range(8)]
    assert all(status == 200 for status, _ in answers)
    threads = {int(body) for _, body in answers}
    assert len(threads) <= 2
    assert threading.get_ident() not in threads  # not on the caller's (event loop's) thread
    # kept threads, none made per request: every request ran on one of the pool's threads, and
    # the pool made at most two (threads other code starts meanwhile are not counted)
    made = [t for t in set(threading.enumerate()) - before if t.name.startswith("pages")]
    assert len(made) <= 2
    assert threads <= {t.ident for t in made}
    # each request: started, the view and finished, all in the view's own thread
    assert [name for name, _ in recorded] == ["started", "view", "finished"] * 8
    for i in range(8):
        assert len({ident for _, ident in recorded[i * 3 : i * 3 + 3]}) == 1


@bare
def test_connection_given_back_before_the_response_is_sent(
    recorded: list[tuple[str, int]],
) -> None:
    app = PagesASGIHandler(threads=1)
    sent: list[str] = []

    def finished(**_: Any) -> None:
        sent.append("finished")

    signals.request_finished.connect(finished)
    try:
        status, _ = async_to_sync(ask)(app, "/where", sent=sent)
    finally:
        signals.request_finished.disconnect(finished)
    assert status == 200
    assert sent == ["finished", "start", "body"]


@bare
def test_streamed_response_closed_after_its_parts_are_sent(
    recorded: list[tuple[str, int]],
) -> None:
    app = PagesASGIHandler(threads=1)
    status, content = async_to_sync(ask)(app, "/streamed")
    assert (status, content) == (200, b"abc")
    assert [name for name, _ in recorded] == [
        "started",
        "part a",
        "part b",
        "part c",
        "finished",
    ]


@bare
def test_at_most_threads_requests_run_at_once(recorded: list[tuple[str, int]]) -> None:
    app = PagesASGIHandler(threads=2)

    async def many() -> list[tuple[int, bytes]]:
        return list(await asyncio.gather(*(ask(app, "/slow") for _ in range(6))))

    answers = async_to_sync(many)()
    assert answers == [(200, b"ok")] * 6
    assert running["most"] == 2


@bare
def test_body_async_view_and_error(recorded: list[tuple[str, int]]) -> None:
    app = PagesASGIHandler(threads=1)
    assert async_to_sync(ask)(app, "/echo", body=b"hello", method="POST") == (200, b"olleh")
    assert async_to_sync(ask)(app, "/async") == (200, b"async")
    status, _ = async_to_sync(ask)(app, "/broken")
    assert status == 500


def test_threads_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QINGHE_WEB_THREADS", "5")
    assert web_threads() == 5
    monkeypatch.setenv("QINGHE_WEB_THREADS", "0")
    assert web_threads() == 1
    monkeypatch.setenv("QINGHE_WEB_THREADS", "many")
    assert web_threads() == 3
    monkeypatch.delenv("QINGHE_WEB_THREADS")
    assert web_threads() == 3


@pytest.mark.django_db(transaction=True)
def test_production_application_serves_pages_through_it() -> None:
    from config.asgi import application, django_asgi_app

    assert isinstance(django_asgi_app, PagesASGIHandler)
    status, content = async_to_sync(ask)(application, "/healthz")
    assert status == 200
    assert json.loads(content)["status"] == "ok"
