"""The ASGI handler of the pages and the API: each request's whole Django work in one hop to a
small pool of threads kept for the life of the worker (config/asgi.py; websockets are not
affected: channels routes them before this handler).

Django's own ASGIHandler serves a sync view stack with five thread hops a request — the
``request_started`` signal, the middleware chain, back to the event loop below the first
sync-only middleware (async_to_sync), the view, and ``response.close()`` — each in a thread made
for that one request (asgiref's ThreadSensitiveContext: a new one-thread executor per request)
and a second task listening for a disconnect. Every middleware and view here is sync, so all
that buys nothing, and it costs: ~1.7 ms of CPU a request more than gunicorn's gthread serving
the same views (bench/serving_cost.py), and under load every request that arrives gets a thread
at once, so a worker's dozens of requests share the GIL and each takes dozens of times its own
CPU time (processor sharing) instead of queueing in the event loop for one of a few threads
(first come, first served: the same mean, a much shorter tail).

This handler reads the body on the event loop, then runs the request_started signal, the
request's creation, the whole middleware chain and view (Django's sync ``get_response``) and,
for a response that is not streamed, ``response.close()`` (request_finished: the database
connection goes back to the pool before the bytes are sent) in one call to one of
``QINGHE_WEB_THREADS`` threads (default 3), then sends the response on the event loop.
A streamed response (a file download) is closed after it is sent. An async view, if one is
ever added, still works: Django's sync handler runs it through async_to_sync on the worker's
event loop. What is lost is the cancellation of an async view when the client goes away,
which sync views never had.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import sync_to_async
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse, HttpResponseBase
from django.urls import set_script_prefix

DEFAULT_THREADS = 3


def web_threads() -> int:
    try:
        return max(1, int(os.environ.get("QINGHE_WEB_THREADS", DEFAULT_THREADS)))
    except ValueError:
        return DEFAULT_THREADS


class PagesASGIHandler(ASGIHandler):
    """Django's ASGIHandler with the sync request path in one hop (module docstring)."""

    def __init__(self, threads: int | None = None) -> None:
        base.BaseHandler.__init__(self)
        self.load_middleware(is_async=False)
        self.threads = threads or web_threads()
        self.executor = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="pages")
        self._respond_async = sync_to_async(
            self._respond, thread_sensitive=False, executor=self.executor
        )

    def _respond(self, scope: dict[str, Any], body_file: Any) -> HttpResponseBase:
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            assert error_response is not None
            response: HttpResponseBase = error_response
        else:
            response = self.get_response(request)
            response._handler_class = self.__class__  # type: ignore[attr-defined]
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size  # the ASGI server chunks it again
        if not response.streaming:
            response.close()  # request_finished: the connection back to the pool
        return response

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        await self.handle(scope, receive, send)

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        try:
            response = await self._respond_async(scope, body_file)
            await self.send_response(response, send)
            if response.streaming:
                await sync_to_async(
                    response.close, thread_sensitive=False, executor=self.executor
                )()
        finally:
            body_file.close()


def pages_asgi_application() -> PagesASGIHandler:
    """What ``django.core.asgi.get_asgi_application`` does, with this handler."""
    import django

    django.setup(set_prefix=False)
    return PagesASGIHandler()
