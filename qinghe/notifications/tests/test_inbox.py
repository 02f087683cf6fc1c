"""我的消息: what staff and the clock do to an enterprise's postings and its verification
reaches the enterprise's HR users with a link to the object; the unread badge; mark read."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.core.roles import Role
from qinghe.enterprises.services import enterprise_transition
from qinghe.jobs.models import Posting
from qinghe.jobs.services import posting_transition, postings_expire
from qinghe.notifications.models import Category, Channel, OutboxMessage
from qinghe.notifications.services import notify
from qinghe.testing.world import World


def inbox_rows(user: User) -> list[tuple[str, str]]:
    return [
        (m.subject, m.data.get("url", ""))
        for m in OutboxMessage.objects.filter(user=user, channel=Channel.INBOX).order_by("pk")
    ]


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def open_message(user: User, subject: str) -> str:
    """Opens the message in 我的消息 and returns the link it shows (asserting it is there)."""
    m = OutboxMessage.objects.get(user=user, channel=Channel.INBOX, subject=subject)
    page = signed_in(user).get(reverse("notifications:message", args=[m.pk]))
    assert page.status_code == 200
    link = m.data["url"]
    assert f'href="{link}"' in page.content.decode()
    return str(link)


@pytest.fixture
def staff(personas: dict[str, User]) -> User:
    return personas[Role.HR_STAFF]


def test_approving_a_posting_tells_its_enterprise_with_a_link_only_it_can_open(
    world: World, staff: User
) -> None:
    posting_transition(actor=staff, posting=world.review_a, action="approve")
    link = reverse("jobs:my_detail", args=[world.review_a.pk])
    subject = "【青鹤】岗位“品质管理工程师”已审核通过并发布"
    assert inbox_rows(world.hr_a) == [(subject, link)]
    assert inbox_rows(world.hr_b) == [] and inbox_rows(world.x) == []
    assert signed_in(world.hr_a).get(open_message(world.hr_a, subject)).status_code == 200
    assert signed_in(world.hr_b).get(link).status_code == 404
    # B cannot open A's message either.
    m = OutboxMessage.objects.get(user=world.hr_a, channel=Channel.INBOX)
    assert (
        signed_in(world.hr_b).get(reverse("notifications:message", args=[m.pk])).status_code == 404
    )


def test_returning_a_posting_gives_the_reason(world: World, staff: User) -> None:
    posting_transition(actor=staff, posting=world.review_a, action="reject", note="薪资请写明范围")
    [m] = OutboxMessage.objects.filter(user=world.hr_a, channel=Channel.INBOX)
    assert (m.subject, m.body, m.data["url"]) == (
        "【青鹤】岗位“品质管理工程师”被退回修改",
        "岗位“品质管理工程师”被退回修改。\n说明：薪资请写明范围",
        reverse("jobs:my_detail", args=[world.review_a.pk]),
    )


def test_expiry_and_a_staff_close_are_told_but_the_enterprises_own_close_is_not(
    world: World, staff: User
) -> None:
    Posting.objects.filter(pk=world.posting_b.pk).update(
        closing_date=timezone.localdate() - dt.timedelta(days=1)
    )
    assert postings_expire() == 1
    assert inbox_rows(world.hr_b) == [
        (
            "【青鹤】岗位“机械设计工程师（五金卫浴）”已到期下线",
            reverse("jobs:my_detail", args=[world.posting_b.pk]),
        )
    ]
    posting_transition(actor=world.hr_a, posting=world.posting_a, action="close")
    assert inbox_rows(world.hr_a) == []
    approved = posting_transition(actor=staff, posting=world.review_a, action="approve")
    posting_transition(actor=staff, posting=approved, action="close", note="岗位信息不实")
    assert [s for s, _ in inbox_rows(world.hr_a)] == [
        "【青鹤】岗位“品质管理工程师”已审核通过并发布",
        "【青鹤】岗位“品质管理工程师”已被工作人员关闭",
    ]


def test_a_refused_move_tells_nobody(world: World) -> None:
    with pytest.raises(Exception):  # noqa: B017 - the enterprise cannot approve its own
        posting_transition(actor=world.hr_a, posting=world.review_a, action="approve")
    assert not OutboxMessage.objects.exists()


def test_verification_outcomes_reach_the_enterprise(world: World, staff: User) -> None:
    enterprise_transition(actor=staff, enterprise=world.c, action="reject", reason="执照模糊")
    link = reverse("enterprises:mine")
    assert inbox_rows(world.hr_c) == [(f"【青鹤】企业“{world.c.name}”未通过认证", link)]
    body = OutboxMessage.objects.get(user=world.hr_c, channel=Channel.INBOX).body
    assert "原因：执照模糊" in body
    assert (
        signed_in(world.hr_c)
        .get(open_message(world.hr_c, inbox_rows(world.hr_c)[0][0]))
        .status_code
        == 200
    )
    assert inbox_rows(world.hr_a) == [] and inbox_rows(world.hr_b) == []
    enterprise_transition(actor=world.hr_c, enterprise=world.c, action="resubmit")
    enterprise_transition(actor=staff, enterprise=world.c, action="verify")
    assert inbox_rows(world.hr_c)[1] == (f"【青鹤】企业“{world.c.name}”已通过认证", link)
    assert len(inbox_rows(world.hr_c)) == 2


def news(user: User, n: int) -> None:
    notify(
        user=user,
        channels=[Channel.INBOX],
        category=Category.SYSTEM,
        subject=f"第{n}条",
        body="正文",
        key=f"test-{user.pk}-{n}",
        data={"url": reverse("core:home")},
    )


def test_badge_counts_unread_opening_marks_read_and_mark_all(world: World) -> None:
    for n in (1, 2, 3):
        news(world.x, n)
    news(world.y, 9)
    client = signed_in(world.x)
    home = client.get(reverse("notifications:preferences")).content.decode()
    assert 'data-testid="inbox-unread">3<' in home
    inbox = client.get(reverse("notifications:inbox")).content.decode()
    assert inbox.count(">未读</span>") == 3  # the list does not mark anything read
    first = OutboxMessage.objects.get(user=world.x, subject="第1条")
    assert client.get(reverse("notifications:message", args=[first.pk])).status_code == 200
    first.refresh_from_db()
    assert first.opened_at is not None
    assert (
        'data-testid="inbox-unread">2<'
        in client.get(reverse("notifications:preferences")).content.decode()
    )
    response = client.post(reverse("notifications:mark_all_read"))
    assert response.status_code == 302
    assert not OutboxMessage.objects.filter(user=world.x, opened_at__isnull=True).exists()
    # Y's message is untouched, and X's badge is gone.
    assert OutboxMessage.objects.get(user=world.y).opened_at is None
    assert (
        'data-testid="inbox-unread"'
        not in client.get(reverse("notifications:preferences")).content.decode()
    )
    assert client.get(reverse("notifications:mark_all_read")).status_code == 405


def test_the_badge_costs_one_query_however_often_it_is_shown(world: World) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    news(world.x, 1)
    client = signed_in(world.x)
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(reverse("notifications:inbox"))  # badge and the mark-all button
    assert page.status_code == 200
    counts = [
        q["sql"]
        for q in ctx.captured_queries
        if "opened_at" in q["sql"] and "COUNT" in q["sql"].upper()
    ]
    assert len(counts) == 1


def test_the_badge_is_kept_until_that_users_inbox_changes(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The badge is kept under the user's inbox version (core/fragments.py): read without
    its COUNT until a message of that user is queued, opened, marked read, saved or deleted;
    another user's change leaves it kept."""
    import re

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from qinghe.notifications import services

    clients = {world.x.pk: signed_in(world.x), world.y.pk: signed_in(world.y)}

    def badge(user: User) -> tuple[str | None, int]:
        """The badge shown and how many unread COUNTs the page read."""
        with CaptureQueriesContext(connection) as ctx:
            html = clients[user.pk].get(reverse("notifications:preferences")).content.decode()
        counted = sum(
            "opened_at" in q["sql"] and "COUNT" in q["sql"].upper() for q in ctx.captured_queries
        )
        shown = re.search(r'data-testid="inbox-unread">(\d+)<', html)
        return (shown.group(1) if shown else None, counted)

    news(world.x, 1)
    assert badge(world.x) == ("1", 1)
    assert badge(world.x) == ("1", 0)  # kept
    assert badge(world.y) == (None, 1)
    assert badge(world.y) == (None, 0)
    news(world.x, 2)  # queued (notify_bulk)
    assert badge(world.x) == ("2", 1)
    assert badge(world.y) == (None, 0)  # not Y's inbox
    first = OutboxMessage.objects.get(user=world.x, subject="第1条")
    assert services.inbox_mark_opened(user=world.y, ids=[first.pk]) == 0  # not Y's message
    assert badge(world.x) == ("2", 0)
    assert services.inbox_mark_opened(user=world.x, ids=[first.pk]) == 1
    assert badge(world.x) == ("1", 1)

    def campaign(key: str) -> None:
        services.notify_bulk_count(
            user_ids=[world.x.pk, world.y.pk],
            channels=[Channel.INBOX],
            category=Category.SYSTEM,
            subject="活动",
            body="正文",
            key=key,
        )

    campaign("campaign-1")
    assert badge(world.x) == ("2", 1)
    assert badge(world.y) == ("1", 1)
    # A large audience gives every badge one new version instead of one per recipient.
    monkeypatch.setattr(services, "LIVE_PUSH_LIMIT", 1)
    campaign("campaign-2")
    assert badge(world.x) == ("3", 1)
    assert badge(world.y) == ("2", 1)
    # Saved or deleted one at a time (the admin; a user's deletion cascades).
    OutboxMessage.objects.get(user=world.x, subject="第2条").delete()
    assert badge(world.x) == ("2", 1)
    unread = OutboxMessage.objects.filter(user=world.x, opened_at__isnull=True).first()
    assert unread is not None
    unread.opened_at = timezone.now()
    unread.save()
    assert badge(world.x) == ("1", 1)
    assert badge(world.y) == ("2", 0)
    assert services.inbox_mark_all_read(user=world.y) == 2
    assert badge(world.y) == (None, 1)
    assert badge(world.x) == ("1", 0)
