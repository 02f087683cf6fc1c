"""A campaign's status follows its delivery: 已入队 -> 发送中 -> 已完成 (with sent, failed and
undelivered counts), read from its outbox rows as the real delivery worker leaves them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.core.roles import Role
from qinghe.notifications import delivery
from qinghe.notifications.delivery import claim_batch, deliver_batch, deliver_pending
from qinghe.notifications.fakes import FakeAliyunSms
from qinghe.notifications.models import Channel, OutboxMessage
from qinghe.notifications.selectors import delivery_figures
from qinghe.outreach.models import Campaign
from qinghe.outreach.selectors import campaign_progress
from qinghe.outreach.services import campaign_create, campaign_send
from qinghe.talents.models import Consent, Segment
from qinghe.talents.tests.factories import make_talent

pytestmark = pytest.mark.django_db
State = OutboxMessage.State


@pytest.fixture
def sms_gateway(settings: Any) -> Iterator[FakeAliyunSms]:
    with FakeAliyunSms() as fake:
        settings.NOTIFY_SMS = {
            **settings.NOTIFY_SMS,
            "BASE_URL": fake.url,
            "ACCESS_KEY_ID": "test-key",
            "ACCESS_KEY_SECRET": "test-secret",
        }
        yield fake


@pytest.fixture
def campaign(personas: Any, django_capture_on_commit_callbacks: Any) -> Campaign:
    """An SMS campaign queued to three students: two with a phone, one without (that one
    fails for good in the worker: 没有手机号)."""
    hr = personas[Role.HR_STAFF]
    phones = ["13912345601", "13912345602", ""]
    for i, phone in enumerate(phones):
        user = User.objects.create(username=f"push{i}", role=Role.STUDENT, phone=phone)
        talent = make_talent(name=f"推送学子{i}", user=user, phone=None)
        Consent.objects.create(
            talent=talent, purpose=Consent.Purpose.LIAISON, granted=True, notice_version="2026-01"
        )
    segment = Segment.objects.create(name="推送对象", filters={"q": "推送学子"}, owner=hr)
    created = campaign_create(
        actor=hr,
        segment=segment,
        kind="policy",
        title="青年创业补贴",
        body="申请开始了",
        channels=["sms"],
    )
    with django_capture_on_commit_callbacks(execute=True):
        campaign_send(actor=hr, campaign=created)
    created.refresh_from_db()
    return created


def status_on_page(client: Any, campaign: Campaign) -> tuple[str, str]:
    page = client.get(f"/outreach/campaigns/{campaign.pk}/").content.decode()
    listing = client.get("/outreach/campaigns/").content.decode()
    badge = page.split('data-testid="campaign-status">', 1)[1].split("<", 1)[0]
    in_list = listing.split('data-testid="campaign-status">', 1)[1].split("<", 1)[0]
    assert badge == in_list
    outcome = ""
    if 'data-testid="campaign-outcome">' in page:
        outcome = page.split('data-testid="campaign-outcome">', 1)[1].split("<", 1)[0]
    return badge, outcome


def test_the_status_moves_from_queued_to_sending_to_done_as_the_worker_delivers(
    campaign: Campaign, sms_gateway: FakeAliyunSms, client_as: Any
) -> None:
    client = client_as(Role.HR_STAFF)
    assert OutboxMessage.objects.filter(campaign=campaign, channel=Channel.SMS).count() == 3
    assert status_on_page(client, campaign) == ("已入队", "")

    first = deliver_pending(batch_size=1, max_batches=1)
    assert first.sent + first.failed == 1
    badge, outcome = status_on_page(client, campaign)
    assert badge == "发送中"
    assert outcome == (f"已发送 {first.sent} 条 · 失败 {first.failed} 条 · 待发送 2 条")

    deliver_pending()
    assert sms_gateway.posts == 2 and sms_gateway.duplicates == 0
    assert status_on_page(client, campaign) == (
        "已完成",
        "已发送 2 条 · 失败 1 条 · 未送达 0 条",
    )
    # Derived from the outbox, not a stored copy that a crash could leave behind.
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.QUEUED


def test_a_worker_dying_mid_campaign_leaves_it_sending_then_done_without_a_duplicate(
    campaign: Campaign, sms_gateway: FakeAliyunSms, client_as: Any, monkeypatch: Any, settings: Any
) -> None:
    original = delivery._hand_over

    def die_after_the_call(batch: Any, message: Any, attempt: Any, adapter: Any) -> str:
        # The batch's order differs between databases: the phone-less message (a permanent
        # failure) is recorded as usual, and the worker dies on the first real send.
        if not message.user.phone:
            return original(batch, message, attempt, adapter)
        adapter.send(message)  # the provider took it ...
        raise KeyboardInterrupt  # ... and the worker died before recording the outcome

    client = client_as(Role.HR_STAFF)
    with monkeypatch.context() as mp:
        mp.setattr(delivery, "_hand_over", die_after_the_call)
        with pytest.raises(KeyboardInterrupt):
            deliver_batch(claim_batch(size=10, lease_seconds=60))
    assert sms_gateway.posts == 1
    assert status_on_page(client, campaign)[0] == "发送中"

    # After the lease, the next worker asks the gateway (QuerySendDetails) about the one in
    # flight instead of sending it again, and delivers the rest.
    settings.NOTIFY_INFLIGHT_SECONDS = 0
    later = timezone.now() + dt.timedelta(seconds=61)
    deliver_batch(claim_batch(size=10, lease_seconds=60, now=later))
    assert sms_gateway.posts == 2 and sms_gateway.duplicates == 0
    assert status_on_page(client, campaign) == (
        "已完成",
        "已发送 2 条 · 失败 1 条 · 未送达 0 条",
    )


def test_a_retry_keeps_the_campaign_sending(campaign: Campaign, sms_gateway: FakeAliyunSms) -> None:
    sms_gateway.fail_next = 2  # flow control (触发流控) on two sends: retried later
    deliver_pending()
    progress = campaign_progress(
        campaign=campaign, figures=delivery_figures(campaign_ids=[campaign.pk])[campaign.pk]
    )
    assert (progress.label, progress.sent, progress.failed, progress.pending) == (
        "发送中",
        0,
        1,
        2,
    )
