"""The 我的消息 badge's socket (static/js/live-inbox.js) in a real Chromium, cut from the server
side as a Redis or web-worker restart cuts it: the page reconnects by itself, without a reload,
and the count the server sends on joining shows the message that arrived while it was cut off.
(bench/fault_drills.py drill 5 does the same against the production stack with Redis killed.)"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from django.db import transaction

from qinghe.accounts.demo import DEMO_PASSWORD
from qinghe.accounts.demo import personas_ensure as make_persona_users
from qinghe.accounts.models import User
from qinghe.notifications.services import notify
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def wait_until(page: Any, check: Any, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        page.wait_for_timeout(100)


def test_the_badge_socket_reconnects_by_itself_and_catches_up(page: Any) -> None:
    make_persona_users()
    student = User.objects.get(username="xuezi")
    sockets: list[Any] = []

    def through(ws: Any) -> None:  # every socket the page opens goes on to the real server
        sockets.append(ws)
        ws.connect_to_server()

    page.route_web_socket(re.compile(r"/ws/inbox/$"), through)
    sign_in(page, "xuezi", DEMO_PASSWORD)
    wait_until(page, lambda: len(sockets) == 1)
    page.wait_for_timeout(500)  # joined, and the count (none) sent
    assert page.get_by_test_id("inbox-unread").count() == 0
    page.evaluate("window.__sameDocument = true")

    sockets[0].close(code=1012, reason="service restart")
    with transaction.atomic():
        notify(
            user=student,
            channels=("inbox",),
            category="system",
            subject="断线期间到达的消息",
            body="重连后应当计入角标",
            key="reconnect-e2e-1",
        )

    badge = page.get_by_test_id("inbox-unread")
    badge.wait_for(timeout=15000)
    assert badge.inner_text().startswith("1")
    assert len(sockets) == 2
    assert page.evaluate("window.__sameDocument") is True  # no reload
    assert page.console_errors == []
