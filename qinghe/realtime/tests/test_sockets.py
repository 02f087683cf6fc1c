"""The realtime foundation: who gets a socket, and what reaches it (the live inbox badge)."""

from __future__ import annotations

from typing import Any

import pytest
from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from django.db import transaction
from django.test import override_settings
from django.urls import path
from django_otp.plugins.otp_totp.models import TOTPDevice

from qinghe.core.policies import POLICIES, iter_view_names
from qinghe.core.roles import Role
from qinghe.notifications import services as notifications
from qinghe.notifications.models import Channel
from qinghe.realtime.consumers import CLOSE_REFUSED, PolicyConsumer
from qinghe.realtime.routing import websocket_urlpatterns
from qinghe.realtime.testing import communicator, run_async, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def _message(user: Any, key: str) -> None:
    notifications.notify(
        user=user,
        channels=[Channel.INBOX],
        category="system",
        subject="测试消息",
        body="正文",
        key=key,
    )


def test_every_websocket_route_has_a_ws_policy() -> None:
    names = [name for name, _ in iter_view_names(websocket_urlpatterns)]
    assert names == [
        "ws:inbox",
        "ws:video_room",
        "ws:live",
        "ws:fair_booth",
        "ws:fair_queue",
        "ws:fair_hall",
    ]
    for name in names:
        rule = POLICIES[name]
        assert isinstance(rule, dict) and set(rule) == {"WS"}


async def _outcome(ws: Any) -> Any:
    """("refused", code) when the consumer closed at once, else the first frame it sent."""
    connected, code = await ws.connect()
    if not connected:
        return ("rejected", code)
    output = await ws.receive_output(timeout=5)
    await ws.disconnect()
    if output["type"] == "websocket.close":
        return ("refused", output["code"])
    return ("open", output)


def test_a_signed_out_visitor_gets_no_socket() -> None:
    async def scenario() -> Any:
        return await _outcome(communicator("/ws/inbox/"))

    assert run_async(scenario)() == ("refused", CLOSE_REFUSED)


def test_a_socket_from_another_site_is_refused(personas: dict[str, Any]) -> None:
    cookie = session_cookie(personas[Role.STUDENT])

    async def scenario() -> bool:
        ws = communicator("/ws/inbox/", cookie=cookie, origin="https://evil.example")
        connected, _ = await ws.connect()
        await ws.disconnect()
        return connected

    assert run_async(scenario)() is False


def test_the_badge_follows_new_and_read_messages_live(personas: dict[str, Any]) -> None:
    student = personas[Role.STUDENT]
    other = personas[Role.ENTERPRISE_HR]
    cookie = session_cookie(student)

    async def scenario() -> list[Any]:
        seen: list[Any] = []
        ws = communicator("/ws/inbox/", cookie=cookie)
        connected, _ = await ws.connect()
        assert connected
        seen.append(await ws.receive_json_from(timeout=5))
        await database_sync_to_async(_message)(student, "one")
        seen.append(await ws.receive_json_from(timeout=5))
        await database_sync_to_async(_message)(student, "two")
        seen.append(await ws.receive_json_from(timeout=5))
        # Someone else's message does not reach this socket.
        await database_sync_to_async(_message)(other, "three")
        seen.append(await ws.receive_nothing(timeout=0.3))
        await database_sync_to_async(notifications.inbox_mark_all_read)(user=student)
        seen.append(await ws.receive_json_from(timeout=5))
        await ws.disconnect()
        return seen

    assert run_async(scenario)() == [
        {"type": "inbox", "unread": 0},
        {"type": "inbox", "unread": 1},
        {"type": "inbox", "unread": 2},
        True,
        {"type": "inbox", "unread": 0},
    ]


def test_a_rolled_back_message_pushes_nothing(personas: dict[str, Any]) -> None:
    student = personas[Role.STUDENT]

    def rolled_back() -> None:
        with pytest.raises(RuntimeError), transaction.atomic():
            _message(student, "gone")
            raise RuntimeError

    cookie = session_cookie(student)

    async def scenario() -> list[Any]:
        ws = communicator("/ws/inbox/", cookie=cookie)
        await ws.connect()
        first = await ws.receive_json_from(timeout=5)
        await database_sync_to_async(rolled_back)()
        quiet = await ws.receive_nothing(timeout=0.3)
        await ws.disconnect()
        return [first, quiet]

    assert run_async(scenario)() == [{"type": "inbox", "unread": 0}, True]


@override_settings(QINGHE_REQUIRE_STAFF_2FA=True)
def test_staff_need_the_second_factor_for_a_socket_too(personas: dict[str, Any]) -> None:
    staff = personas[Role.HR_STAFF]
    device = TOTPDevice.objects.create(user=staff, name="手机", confirmed=True)

    async def connect(cookie: str) -> Any:
        return (await _outcome(communicator("/ws/inbox/", cookie=cookie)))[0]

    assert run_async(connect)(session_cookie(staff)) == "refused"
    assert run_async(connect)(session_cookie(staff, otp_device=device)) == "open"


class _Undeclared(PolicyConsumer):
    route_name = "ws:undeclared"

    def authorise(self, user: Any, **kwargs: Any) -> list[str]:  # pragma: no cover
        return ["anything"]


class _Private(PolicyConsumer):
    """Declared for everyone signed in, but the relationship check refuses all but one user."""

    route_name = "ws:inbox"
    allowed_user_id = 0

    def authorise(self, user: Any, **kwargs: Any) -> list[str]:
        from qinghe.realtime.consumers import Refused

        if user.pk != self.allowed_user_id:
            raise Refused
        return [f"room.{kwargs['room']}"]


def test_a_route_without_a_policy_is_refused_even_to_the_system_administrator(
    personas: dict[str, Any],
) -> None:
    app = AuthMiddlewareStack(
        URLRouter(
            [
                path("ws/undeclared/", _Undeclared.as_asgi()),
                path("ws/room/<int:room>/", _Private.as_asgi()),
            ]
        )
    )
    admin = personas[Role.SYSADMIN]
    _Private.allowed_user_id = personas[Role.STUDENT].pk

    async def connect(url: str, cookie: str) -> Any:
        ws = communicator(url, cookie=cookie, application=app)
        connected, _ = await ws.connect()
        if not connected:
            return "rejected"
        if await ws.receive_nothing(timeout=0.3):  # still open, nothing sent
            await ws.disconnect()
            return "open"
        output = await ws.receive_output(timeout=1)
        await ws.disconnect()
        return ("refused", output["code"])

    admin_cookie = session_cookie(admin)
    student_cookie = session_cookie(personas[Role.STUDENT])
    assert run_async(connect)("/ws/undeclared/", admin_cookie) == ("refused", CLOSE_REFUSED)
    assert run_async(connect)("/ws/room/7/", admin_cookie) == ("refused", CLOSE_REFUSED)
    assert run_async(connect)("/ws/room/7/", student_cookie) == "open"


def test_the_redis_layer_carries_a_push_between_processes(redis_url: str) -> None:
    """Production runs several worker processes: a push published by one reaches a socket held
    by another through Redis. Two layer instances stand for the two processes."""
    from channels_redis.core import RedisChannelLayer

    async def scenario() -> Any:
        holder = RedisChannelLayer(hosts=[redis_url], prefix="qinghe-test")
        publisher = RedisChannelLayer(hosts=[redis_url], prefix="qinghe-test")
        channel = await holder.new_channel()
        await holder.group_add("user.42", channel)
        await publisher.group_send("user.42", {"type": "inbox.changed"})
        received = await holder.receive(channel)
        await holder.flush()
        await holder.close_pools()
        await publisher.close_pools()
        return received

    assert run_async(scenario)() == {"type": "inbox.changed"}
