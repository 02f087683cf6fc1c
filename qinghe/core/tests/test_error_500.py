"""The 500 page still answers when the database is what failed (found by the fault drills:
the page used to read the session and the menu, and crashed in turn)."""

from __future__ import annotations

from typing import Any

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
