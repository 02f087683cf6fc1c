"""The 500 page still answers when the database is what failed (found by the fault drills:
the page used to read the session and the menu, and crashed in turn)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory

from qinghe.core.views import error_500


class _BrokenSession:
    def __getattr__(self, name: str) -> Any:
        raise RuntimeError("the database is down")


class _BrokenUser:
    @property
    def is_authenticated(self) -> bool:
        raise RuntimeError("the database is down")


def test_the_500_page_needs_neither_the_session_nor_the_user() -> None:
    request = RequestFactory().get("/talents/")
    setattr(request, "session", _BrokenSession())  # noqa: B010 - any type, on purpose
    setattr(request, "user", _BrokenUser())  # noqa: B010
    response = error_500(request)
    assert response.status_code == 500
    assert "服务器出错了" in response.content.decode()


class _DatabaseDown:
    """A real query hook (Django's ``connection.execute_wrapper``): every query from ``after``
    on fails as a lost PostgreSQL does, with ``OperationalError``."""

    def __init__(self, after: int = 0) -> None:
        self.after = after
        self.seen = 0
        self.refused = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.seen += 1
        if self.seen > self.after:
            from django.db import OperationalError

            self.refused += 1
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)


@pytest.mark.django_db
@pytest.mark.parametrize("after", [0, 2], ids=["down-before-the-session", "down-mid-page"])
def test_a_signed_in_page_with_the_database_down_gets_the_chinese_500_page(
    client_as: Any, after: int, caplog: pytest.LogCaptureFixture
) -> None:
    """Through the whole middleware stack: the database fails at the session's read (the first
    query of a signed-in request) or in the middle of the page; the answer is the plain 500
    page in Chinese, not a crash of the error page itself, and the one error logged is the
    database's. (The first load test's "'SessionStore' object has no attribute
    '_session_cache'" is the context Python chains to that error — the session's read was
    what failed — not a second failure.)"""
    from django.db import OperationalError, connection

    client = client_as("student")
    client.raise_request_exception = False
    down = _DatabaseDown(after=after)
    with connection.execute_wrapper(down):
        response = client.get("/matching/for-me/")
    assert down.refused >= 1, down.seen
    assert response.status_code == 500
    text = response.content.decode()
    assert "服务器出错了，我们已记录此问题。请稍后再试；如多次出现，请联系系统管理员。" in text
    assert "<title>服务器错误 · 青鹤 Qinghe</title>" in text
    failures = [r for r in caplog.records if r.name == "django.request"]
    assert failures
    assert {(r.levelname, r.getMessage()) for r in failures} == {
        ("ERROR", "Internal Server Error: /matching/for-me/")
    }
    assert {r.exc_info[0] for r in failures if r.exc_info} == {OperationalError}
    # and when the database is back the same session works again
    assert client.get("/matching/for-me/").status_code == 200
