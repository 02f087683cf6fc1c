"""The delivery ledger: a message is handed to its provider at most once per key, even when
the worker dies after the provider took it, loses its lease mid-call, or the channel cannot
say what happened (then a system administrator decides, audited)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.core.models import AuditLog
from qinghe.core.roles import Role
from qinghe.notifications import delivery
from qinghe.notifications.channels import AliyunSmsAdapter, TransientError
from qinghe.notifications.delivery import claim_batch, deliver_batch, deliver_pending
from qinghe.notifications.models import (
    Category,
    Channel,
    DeliveryAttempt,
    OutboxMessage,
    WechatBinding,
    openid_index,
)
from qinghe.notifications.services import notify, notify_bulk

pytestmark = pytest.mark.django_db
Outcome = DeliveryAttempt.Outcome
State = OutboxMessage.State


def system_message(user: User, key: str = "m1", channel: str = Channel.SMS) -> OutboxMessage:
    [row] = notify(
        user=user,
        channels=(channel,),
        category=Category.SYSTEM,
        subject="年度信息确认",
        body="请登录青鹤确认你的信息",
        key=key,
    )
    return row


@pytest.fixture
def student(personas: Any) -> Any:
    return personas[Role.STUDENT]


def die_after_the_call(batch: Any, message: Any, attempt: Any, adapter: Any) -> str:
    adapter.send(message)  # the provider took it ...
    raise KeyboardInterrupt  # ... and the worker died before recording the outcome


def past_the_lease() -> dt.datetime:
    return timezone.now() + dt.timedelta(seconds=61)


def test_a_worker_dying_after_12_of_40_accepted_leaves_11_sent_and_one_to_ask_about(
    sms_gateway: Any, monkeypatch: Any
) -> None:
    users = User.objects.bulk_create(
        [User(username=f"d{i:02d}", role=Role.STUDENT, phone=f"1390000{i:04d}") for i in range(40)]
    )
    notify_bulk(
        user_ids=[u.pk for u in users],
        channels=[Channel.SMS],
        category=Category.SYSTEM,
        subject="年度信息确认",
        body="请登录青鹤确认你的信息",
        key="drill",
    )
    real_send = AliyunSmsAdapter.send
    accepted = 0

    def dies_after_12(self: AliyunSmsAdapter, message: OutboxMessage) -> str:
        nonlocal accepted
        answer = real_send(self, message)
        accepted += 1
        if accepted == 12:
            raise KeyboardInterrupt  # the process dies before it can save the 12th
        return answer

    monkeypatch.setattr(AliyunSmsAdapter, "send", dies_after_12)
    with pytest.raises(KeyboardInterrupt):
        deliver_pending(batch_size=40)
    monkeypatch.setattr(AliyunSmsAdapter, "send", real_send)
    # Each outcome was saved as the provider answered, not at the end of the batch.
    assert OutboxMessage.objects.filter(state=State.SENT).count() == 11
    assert (
        sorted(DeliveryAttempt.objects.values_list("outcome", flat=True))
        == [Outcome.HANDING_OVER] + [Outcome.SENT] * 11
    )
    assert sms_gateway.posts == 12

    # Restarted after the lease and the in-flight horizon ran out.
    OutboxMessage.objects.filter(state=State.SENDING).update(
        claimed_until=timezone.now() - dt.timedelta(seconds=1)
    )
    DeliveryAttempt.objects.filter(outcome=Outcome.HANDING_OVER).update(
        started_at=timezone.now() - dt.timedelta(minutes=10)
    )
    result = deliver_pending(batch_size=40)
    assert (result.sent, result.retried, result.failed, result.unknown) == (29, 0, 0, 0)
    assert sms_gateway.posts == 40 and sms_gateway.duplicates == 0
    assert sms_gateway.queries == 1
    assert set(sms_gateway.deliveries.values()) == {1}
    assert set(sms_gateway.deliveries) == set(
        OutboxMessage.objects.values_list("idempotency_key", flat=True)
    )
    assert OutboxMessage.objects.filter(state=State.SENT).count() == 40
    assert DeliveryAttempt.objects.count() == 40


def test_a_worker_whose_lease_was_taken_sends_nothing_and_overwrites_nothing(
    student: Any, sms_gateway: Any
) -> None:
    system_message(student)
    first = claim_batch(size=10, lease_seconds=60)
    second = claim_batch(size=10, lease_seconds=60, now=past_the_lease())
    assert second.ids == first.ids
    assert deliver_batch(second).sent == 1
    sent = OutboxMessage.objects.get()
    late = deliver_batch(first)
    assert (late.sent, late.lost) == (0, 1)
    assert sms_gateway.posts == 1
    again = OutboxMessage.objects.get()
    assert (again.state, again.sent_at, again.provider_id) == (
        State.SENT,
        sent.sent_at,
        sent.provider_id,
    )
    assert DeliveryAttempt.objects.count() == 1


def test_a_send_that_outlives_its_lease_is_settled_from_the_ledger_not_sent_again(
    student: Any, sms_gateway: Any, settings: Any, monkeypatch: Any
) -> None:
    system_message(student)
    slow = claim_batch(size=10, lease_seconds=60)
    real_send = AliyunSmsAdapter.send
    taken: list[Any] = []

    def slow_send(self: AliyunSmsAdapter, m: OutboxMessage) -> str:
        # While the provider is busy the lease runs out and another worker claims the row;
        # it finds the open attempt and leaves the message alone.
        taken.append(claim_batch(size=10, lease_seconds=60, now=past_the_lease()))
        assert deliver_batch(taken[0]).deferred == 1
        return real_send(self, m)

    monkeypatch.setattr(AliyunSmsAdapter, "send", slow_send)
    assert deliver_batch(slow).lost == 1  # provider took it; the row is no longer ours
    monkeypatch.setattr(AliyunSmsAdapter, "send", real_send)
    [attempt] = DeliveryAttempt.objects.all()
    assert attempt.outcome == Outcome.SENT  # the ledger knows
    assert OutboxMessage.objects.get().state == State.QUEUED  # held until the horizon
    settings.NOTIFY_INFLIGHT_SECONDS = 0
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    assert deliver_pending().sent == 1
    message = OutboxMessage.objects.get()
    assert message.state == State.SENT and message.provider_id == attempt.provider_id
    assert sms_gateway.posts == 1 and sms_gateway.queries == 0


def test_an_attempt_the_provider_never_received_is_sent_once_after_the_status_query(
    student: Any, sms_gateway: Any, settings: Any, monkeypatch: Any
) -> None:
    system_message(student)

    def die_before_the_request(*args: Any) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(delivery, "_hand_over", die_before_the_request)
    with pytest.raises(KeyboardInterrupt):
        deliver_batch(claim_batch(size=10, lease_seconds=60))
    monkeypatch.undo()
    reclaim = claim_batch(size=10, lease_seconds=60, now=past_the_lease())
    young = deliver_batch(reclaim)  # the attempt could still be under way: no query yet
    assert (young.sent, young.deferred) == (0, 1)
    assert sms_gateway.queries == 0 and sms_gateway.posts == 0
    settings.NOTIFY_INFLIGHT_SECONDS = 0
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    assert deliver_pending().sent == 1
    assert sms_gateway.queries == 1 and sms_gateway.posts == 1
    assert list(DeliveryAttempt.objects.order_by("id").values_list("outcome", flat=True)) == [
        Outcome.NOT_RECEIVED,
        Outcome.SENT,
    ]


def test_a_timeout_after_the_gateway_took_the_sms_is_settled_by_a_query_not_a_resend(
    student: Any, sms_gateway: Any, settings: Any, monkeypatch: Any
) -> None:
    system_message(student)
    real_send = AliyunSmsAdapter.send

    def times_out(self: AliyunSmsAdapter, message: OutboxMessage) -> str:
        real_send(self, message)  # the gateway took it; the answer never came back
        raise TransientError("网络错误：TimeoutError") from TimeoutError()

    monkeypatch.setattr(AliyunSmsAdapter, "send", times_out)
    assert deliver_pending().retried == 1
    monkeypatch.undo()
    attempt = DeliveryAttempt.objects.get()
    assert attempt.outcome == Outcome.HANDING_OVER
    assert attempt.detail == "未收到应答：网络错误：TimeoutError"
    message = OutboxMessage.objects.get()
    assert message.state == State.QUEUED
    assert message.next_attempt_at > timezone.now() + dt.timedelta(seconds=100)
    settings.NOTIFY_INFLIGHT_SECONDS = 0
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    assert deliver_pending().sent == 1
    assert sms_gateway.posts == 1 and sms_gateway.queries == 1
    assert OutboxMessage.objects.get().state == State.SENT


def test_a_status_query_that_fails_sends_nothing_and_tries_later(
    student: Any, sms_gateway: Any, settings: Any, monkeypatch: Any
) -> None:
    system_message(student)
    monkeypatch.setattr(delivery, "_hand_over", die_after_the_call)
    with pytest.raises(KeyboardInterrupt):
        deliver_batch(claim_batch(size=10, lease_seconds=60))
    monkeypatch.undo()
    settings.NOTIFY_INFLIGHT_SECONDS = 0
    sms_gateway.secret = "rotated"  # noqa: S105 - the query is refused
    result = deliver_batch(claim_batch(size=10, lease_seconds=60, now=past_the_lease()))
    assert (result.sent, result.deferred) == (0, 1)
    assert sms_gateway.posts == 1
    message = OutboxMessage.objects.get()
    assert message.state == State.QUEUED and message.next_attempt_at > timezone.now()
    assert DeliveryAttempt.objects.get().outcome == Outcome.HANDING_OVER


@pytest.fixture
def unknown_wechat(student: Any, wechat_api: Any, settings: Any, monkeypatch: Any) -> Any:
    """A WeChat template message the provider took while the worker died: WeChat cannot be
    asked, so the message waits for a person."""
    WechatBinding.objects.create(
        user=student, openid="oQinghe-openid-1", openid_index=openid_index("oQinghe-openid-1")
    )
    system_message(student, channel=Channel.WECHAT)
    with monkeypatch.context() as mp:
        mp.setattr(delivery, "_hand_over", die_after_the_call)
        with pytest.raises(KeyboardInterrupt):
            deliver_batch(claim_batch(size=10, lease_seconds=60))
    settings.NOTIFY_INFLIGHT_SECONDS = 0
    result = deliver_batch(claim_batch(size=10, lease_seconds=60, now=past_the_lease()))
    assert (result.sent, result.unknown) == (0, 1)
    assert wechat_api.posts == 1
    message = OutboxMessage.objects.get()
    assert message.state == State.UNKNOWN and message.lease_token == ""
    assert DeliveryAttempt.objects.get().outcome == Outcome.UNKNOWN
    return message


def test_a_channel_that_cannot_be_asked_waits_for_a_person_and_is_never_resent(
    unknown_wechat: Any, wechat_api: Any
) -> None:
    assert deliver_pending().claimed == 0
    assert wechat_api.posts == 1


def test_the_system_administrator_sees_the_message_and_marks_it_sent(
    unknown_wechat: Any, wechat_api: Any, client_as: Any, personas: Any
) -> None:
    admin = client_as(Role.SYSADMIN)
    page = admin.get("/messages/undelivered/").content.decode()
    assert unknown_wechat.idempotency_key in page and "结果未知" in page
    response = admin.post(
        f"/messages/undelivered/{unknown_wechat.pk}/",
        {"decision": "sent", "reason": "学子确认已收到"},
    )
    assert response.status_code == 302
    message = OutboxMessage.objects.get()
    assert message.state == State.SENT and message.sent_at is not None
    attempt = DeliveryAttempt.objects.get()
    assert (attempt.outcome, attempt.detail) == (Outcome.SENT, "人工确认已送达（admin）")
    entry = AuditLog.objects.get(target_type="notifications.outboxmessage")
    assert (entry.action, entry.actor, entry.reason, entry.data) == (
        "transition",
        personas[Role.SYSADMIN],
        "学子确认已收到",
        {"decision": "sent", "state": "sent"},
    )
    assert deliver_pending().claimed == 0 and wechat_api.posts == 1
    assert (
        unknown_wechat.idempotency_key not in admin.get("/messages/undelivered/").content.decode()
    )


def test_resend_queues_the_message_again_and_it_is_sent_once_more(
    unknown_wechat: Any, wechat_api: Any, client_as: Any
) -> None:
    client_as(Role.SYSADMIN).post(
        f"/messages/undelivered/{unknown_wechat.pk}/",
        {"decision": "resend", "reason": "学子未收到"},
    )
    assert OutboxMessage.objects.get().state == State.QUEUED
    assert deliver_pending().sent == 1
    assert wechat_api.posts == 2
    assert list(DeliveryAttempt.objects.order_by("id").values_list("outcome", flat=True)) == [
        Outcome.NOT_RECEIVED,
        Outcome.SENT,
    ]
    entry = AuditLog.objects.get(target_type="notifications.outboxmessage")
    assert entry.data == {"decision": "resend", "state": "queued"}


@pytest.mark.parametrize(
    "form",
    [
        {"decision": "sent", "reason": ""},
        {"decision": "resend", "reason": "   "},
        {"decision": "forget", "reason": "无"},
    ],
)
def test_a_decision_without_a_reason_or_unknown_changes_nothing(
    unknown_wechat: Any, client_as: Any, form: dict[str, str]
) -> None:
    response = client_as(Role.SYSADMIN).post(f"/messages/undelivered/{unknown_wechat.pk}/", form)
    assert response.status_code == 302
    assert OutboxMessage.objects.get().state == State.UNKNOWN
    assert DeliveryAttempt.objects.get().outcome == Outcome.UNKNOWN
    assert AuditLog.objects.filter(target_type="notifications.outboxmessage").count() == 0


def test_a_message_that_is_not_awaiting_a_decision_cannot_be_resent(
    student: Any, client_as: Any, sms_gateway: Any
) -> None:
    system_message(student)
    assert deliver_pending().sent == 1
    message = OutboxMessage.objects.get()
    client_as(Role.SYSADMIN).post(
        f"/messages/undelivered/{message.pk}/", {"decision": "resend", "reason": "再发一次"}
    )
    assert OutboxMessage.objects.get().state == State.SENT
    assert deliver_pending().claimed == 0 and sms_gateway.posts == 1
    assert AuditLog.objects.filter(target_type="notifications.outboxmessage").count() == 0


@pytest.mark.parametrize("role", [Role.HR_STAFF, Role.AUDITOR, Role.STUDENT])
def test_only_the_system_administrator_decides(
    unknown_wechat: Any, client_as: Any, role: str
) -> None:
    client = client_as(role)
    assert client.get("/messages/undelivered/").status_code == 403
    response = client.post(
        f"/messages/undelivered/{unknown_wechat.pk}/", {"decision": "sent", "reason": "x"}
    )
    assert response.status_code == 403
    assert OutboxMessage.objects.get().state == State.UNKNOWN
    assert AuditLog.objects.filter(target_type="notifications.outboxmessage").count() == 0
