"""The outbox: written with the change, sent once, respecting consent and preferences."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import transaction
from django.test import Client
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.core.roles import Role
from qinghe.notifications import delivery
from qinghe.notifications.channels import PermanentError, WechatTemplateAdapter
from qinghe.notifications.delivery import backoff, claim_batch, deliver_batch, deliver_pending
from qinghe.notifications.models import (
    Category,
    Channel,
    DeliveryAttempt,
    OutboxMessage,
    Preference,
    Unsubscription,
    WechatBinding,
    openid_index,
)
from qinghe.notifications.services import notify, preference_set, quiet_until, unsubscribe_token
from qinghe.talents.models import Consent
from qinghe.talents.tests.factories import make_talent

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def consent(talent: Any, granted: bool) -> None:
    Consent.objects.create(
        talent=talent, purpose=Consent.Purpose.LIAISON, granted=granted, notice_version="2026-01"
    )


@pytest.fixture
def student(personas: Any) -> Any:
    user = personas[Role.STUDENT]
    user.email = "xuezi@example.cn"
    user.save(update_fields=["email"])
    talent = make_talent(name="李晓彤", user=user)
    consent(talent, True)
    user.talent_record = talent
    return user


def liaison_news(
    user: User, key: str = "news-1", channels: tuple[str, ...] = (Channel.SMS,)
) -> list[OutboxMessage]:
    return notify(
        user=user,
        channels=channels,
        category=Category.NEWS,
        subject="鹤山产业资讯",
        body="本周新增岗位 30 个",
        key=key,
    )


def test_a_change_that_rolls_back_sends_nothing(student: Any, sms_gateway: Any) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        liaison_news(student)
        raise RuntimeError("the change failed")
    assert OutboxMessage.objects.count() == 0
    assert deliver_pending().sent == 0
    assert sms_gateway.posts == 0


def test_a_committed_message_is_sent_once_through_the_sms_gateway(
    student: Any, sms_gateway: Any
) -> None:
    liaison_news(student)
    liaison_news(student)  # the same event twice: same idempotency key, one row
    assert OutboxMessage.objects.count() == 1
    result = deliver_pending()
    assert (result.sent, result.failed) == (1, 0)
    message = OutboxMessage.objects.get()
    assert message.state == OutboxMessage.State.SENT and message.attempts == 1
    assert list(sms_gateway.deliveries.values()) == [1]
    body = sms_gateway.bodies[0]
    assert body["OutId"] == message.idempotency_key
    assert body["PhoneNumbers"] == "13800138001"
    assert body["Action"] == "SendSms" and body["SignatureMethod"] == "HMAC-SHA1"


def test_a_student_who_withdrew_liaison_consent_gets_nothing(
    student: Any, sms_gateway: Any
) -> None:
    consent(student.talent_record, False)
    assert liaison_news(student, channels=(Channel.SMS, Channel.EMAIL, Channel.INBOX)) == []
    assert OutboxMessage.objects.count() == 0
    assert deliver_pending().sent == 0 and sms_gateway.posts == 0 and mail.outbox == []


def test_consent_withdrawn_after_queueing_cancels_delivery(student: Any, sms_gateway: Any) -> None:
    liaison_news(student)
    consent(student.talent_record, False)
    result = deliver_pending()
    assert (result.sent, result.cancelled) == (0, 1)
    assert OutboxMessage.objects.get().state == OutboxMessage.State.CANCELLED
    assert sms_gateway.posts == 0


def test_one_step_unsubscribe_link_needs_no_sign_in_and_stops_the_channel(
    student: Any, sms_gateway: Any
) -> None:
    liaison_news(student, key="before")
    token = unsubscribe_token(user_id=student.pk, channel=Channel.SMS)
    response = Client(enforce_csrf_checks=True).get(f"/messages/unsubscribe/{token}/")
    assert response.status_code == 200
    assert "已退订" in response.content.decode()
    assert (
        Unsubscription.objects.filter(user=student, channel=Channel.SMS, category="").count() == 1
    )
    assert OutboxMessage.objects.get().state == OutboxMessage.State.CANCELLED
    assert liaison_news(student, key="after") == []
    assert liaison_news(student, key="after-inbox", channels=(Channel.INBOX,)) != []
    assert deliver_pending().sent == 0 and sms_gateway.posts == 0


def test_a_tampered_unsubscribe_link_changes_nothing(student: Any) -> None:
    token = unsubscribe_token(user_id=student.pk, channel=Channel.SMS) + "x"
    assert Client().post(f"/messages/unsubscribe/{token}/").status_code == 400
    assert Unsubscription.objects.count() == 0


def test_a_channel_turned_off_in_preferences_receives_nothing(student: Any, client_as: Any) -> None:
    response = client_as(Role.STUDENT).post(
        "/messages/preferences/", {"on_email": "1", "quiet_start": "", "quiet_end": ""}
    )
    assert response.status_code == 302
    assert Preference.objects.get(user=student).disabled_channels == ["sms"]
    rows = liaison_news(student, channels=(Channel.SMS, Channel.EMAIL, Channel.WECHAT))
    assert [r.channel for r in rows] == [Channel.EMAIL]


def test_wechat_is_among_the_channels_to_choose_only_once_bound(
    student: Any, client_as: Any
) -> None:
    client = client_as(Role.STUDENT)
    assert 'name="on_wechat"' not in client.get("/messages/preferences/").content.decode()
    WechatBinding.objects.create(
        user=student, openid="oQinghe-openid-1", openid_index=openid_index("oQinghe-openid-1")
    )
    page = client.get("/messages/preferences/").content.decode()
    assert 'name="on_wechat"' in page and "微信公众号" in page
    client.post("/messages/preferences/", {"on_email": "1", "quiet_start": "", "quiet_end": ""})
    assert Preference.objects.get(user=student).disabled_channels == ["sms", "wechat"]
    rows = liaison_news(student, key="off", channels=(Channel.INBOX, Channel.WECHAT))
    assert [r.channel for r in rows] == [Channel.INBOX]
    client.post(
        "/messages/preferences/",
        {"on_email": "1", "on_wechat": "1", "quiet_start": "", "quiet_end": ""},
    )
    rows = liaison_news(student, key="on", channels=(Channel.INBOX, Channel.WECHAT))
    assert [r.channel for r in rows] == [Channel.INBOX, Channel.WECHAT]


def test_quiet_hours_hold_a_message_until_they_end(student: Any, sms_gateway: Any) -> None:
    preference_set(
        user=student, disabled_channels=[], quiet_start=dt.time(22, 0), quiet_end=dt.time(8, 0)
    )
    pref = Preference.objects.get(user=student)
    at_night = dt.datetime(2026, 3, 1, 23, 30, tzinfo=SHANGHAI)
    assert quiet_until(pref, at_night) == dt.datetime(2026, 3, 2, 8, 0, tzinfo=SHANGHAI)
    assert quiet_until(pref, dt.datetime(2026, 3, 2, 7, 0, tzinfo=SHANGHAI)) == dt.datetime(
        2026, 3, 2, 8, 0, tzinfo=SHANGHAI
    )
    assert quiet_until(pref, dt.datetime(2026, 3, 2, 12, 0, tzinfo=SHANGHAI)) is None
    # quiet all day long right now: the message waits and nothing is sent
    now_local = timezone.localtime(timezone.now(), SHANGHAI)
    preference_set(
        user=student,
        disabled_channels=[],
        quiet_start=(now_local - dt.timedelta(hours=1)).time(),
        quiet_end=(now_local + dt.timedelta(hours=2)).time(),
    )
    [row] = liaison_news(student)
    assert row.next_attempt_at > timezone.now() + dt.timedelta(minutes=100)
    assert deliver_pending().sent == 0 and sms_gateway.posts == 0


def test_throttling_is_retried_with_back_off_and_the_same_key(
    student: Any, sms_gateway: Any
) -> None:
    sms_gateway.fail_next = 1
    liaison_news(student)
    first = deliver_pending()
    assert (first.sent, first.retried) == (0, 1)
    message = OutboxMessage.objects.get()
    assert message.state == OutboxMessage.State.QUEUED and message.attempts == 1
    assert "BUSINESS_LIMIT_CONTROL" in message.last_error
    assert message.next_attempt_at - timezone.now() > dt.timedelta(seconds=25)
    assert (
        backoff(1) == dt.timedelta(seconds=30)
        and backoff(3) == dt.timedelta(seconds=120)
        and backoff(30) == dt.timedelta(hours=1)
    )
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    assert deliver_pending().sent == 1
    assert list(sms_gateway.deliveries) == [message.idempotency_key]


def test_a_message_claimed_by_a_dead_worker_is_reclaimed_after_its_lease_and_settled_by_a_status_query(
    student: Any, sms_gateway: Any, settings: Any
) -> None:
    liaison_news(student)
    claim = claim_batch(size=10, lease_seconds=60)

    def die_after_the_call(batch: Any, message: Any, attempt: Any, adapter: Any) -> str:
        adapter.send(message)  # the provider took it ...
        raise KeyboardInterrupt  # ... but the worker died before recording it

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(delivery, "_hand_over", die_after_the_call)
        with pytest.raises(KeyboardInterrupt):
            deliver_batch(claim)
    message = OutboxMessage.objects.get()
    assert message.state == OutboxMessage.State.SENDING
    [attempt] = DeliveryAttempt.objects.all()
    assert attempt.outcome == DeliveryAttempt.Outcome.HANDING_OVER
    assert claim_batch(size=10, lease_seconds=60).ids == []  # the lease still holds
    later = timezone.now() + dt.timedelta(seconds=61)
    again = claim_batch(size=10, lease_seconds=60, now=later)
    assert again.ids == claim.ids and again.token != claim.token
    settings.NOTIFY_INFLIGHT_SECONDS = 0  # the dead worker's call is long over
    result = deliver_batch(again)
    assert (result.sent, result.unknown) == (1, 0)
    assert sms_gateway.posts == 1 and sms_gateway.queries == 1
    assert list(sms_gateway.deliveries.values()) == [1]
    message.refresh_from_db()
    assert message.state == OutboxMessage.State.SENT and message.attempts == 2
    assert message.sent_at is not None and message.lease_token == ""
    attempt.refresh_from_db()
    assert (attempt.outcome, attempt.detail) == ("sent", "服务商状态查询：已送达")


def test_wechat_template_message_fetches_a_token_and_refreshes_an_expired_one(
    student: Any, wechat_api: Any
) -> None:
    WechatBinding.objects.create(
        user=student, openid="oQinghe-openid-1", openid_index=openid_index("oQinghe-openid-1")
    )
    liaison_news(student, key="w1", channels=(Channel.WECHAT,))
    assert deliver_pending().sent == 1
    wechat_api.expire_tokens()
    liaison_news(student, key="w2", channels=(Channel.WECHAT,))
    assert deliver_pending().sent == 1
    assert wechat_api.token_requests == 2
    assert len(wechat_api.deliveries) == 2
    payload = wechat_api.bodies[0]
    assert payload["touser"] == "oQinghe-openid-1" and payload["template_id"] == "TPL-1"
    assert (
        payload["client_msg_id"]
        == OutboxMessage.objects.get(idempotency_key__startswith="w1").idempotency_key
    )


def test_wechat_reaches_only_a_bound_account(student: Any, wechat_api: Any) -> None:
    rows = liaison_news(student, channels=(Channel.INBOX, Channel.WECHAT))
    assert [row.channel for row in rows] == [Channel.INBOX]
    assert not OutboxMessage.objects.filter(channel=Channel.WECHAT).exists()
    assert deliver_pending().claimed == 0 and wechat_api.posts == 0


def test_a_wechat_message_queued_before_unbinding_is_cancelled(
    student: Any, wechat_api: Any
) -> None:
    WechatBinding.objects.create(
        user=student, openid="oQinghe-openid-1", openid_index=openid_index("oQinghe-openid-1")
    )
    liaison_news(student, channels=(Channel.WECHAT,))
    WechatBinding.objects.filter(user=student).delete()
    result = deliver_pending()
    assert (result.cancelled, result.sent, result.failed) == (1, 0, 0)
    assert wechat_api.posts == 0 and wechat_api.token_requests == 0
    assert OutboxMessage.objects.get().state == OutboxMessage.State.CANCELLED


def test_the_wechat_adapter_refuses_a_user_without_a_binding(student: Any, wechat_api: Any) -> None:
    message = OutboxMessage(user=student, channel=Channel.WECHAT, subject="s", body="b")
    with pytest.raises(PermanentError, match="未绑定微信公众号"):
        WechatTemplateAdapter().send(message)
    assert wechat_api.posts == 0


def test_email_goes_through_django_mail_with_a_one_click_unsubscribe(student: Any) -> None:
    liaison_news(student, channels=(Channel.EMAIL,))
    assert deliver_pending().sent == 1
    [sent] = mail.outbox
    assert sent.to == ["xuezi@example.cn"]
    key = OutboxMessage.objects.get().idempotency_key
    assert sent.extra_headers["X-Idempotency-Key"] == key
    assert "/messages/unsubscribe/" in sent.extra_headers["List-Unsubscribe"]


def test_the_inbox_lists_the_users_messages_and_opening_one_marks_it_opened(
    student: Any, client_as: Any
) -> None:
    liaison_news(student, channels=(Channel.INBOX,))
    client = client_as(Role.STUDENT)
    response = client.get("/messages/")
    assert "鹤山产业资讯" in response.content.decode()
    assert OutboxMessage.objects.get().opened_at is None
    assert client.get(f"/messages/{OutboxMessage.objects.get().pk}/").status_code == 200
    assert OutboxMessage.objects.get().opened_at is not None
    assert "鹤山产业资讯" not in client_as(Role.LIAISON).get("/messages/").content.decode()
