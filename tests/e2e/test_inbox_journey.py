"""我的消息 in a real Chromium: a student applies and the enterprise's HR user sees the unread
badge, opens the new-applicant message and follows its link to the applicant; the enterprise
invites the student to an interview and the student opens that message and its link."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from qinghe.accounts.demo import DEMO_PASSWORD
from qinghe.accounts.demo import personas_ensure as make_persona_users
from qinghe.accounts.models import User
from qinghe.enterprises.tests.factories import make_enterprise, make_posting, make_reference
from qinghe.recruitment.services.stages import default_stages_ensure
from qinghe.testing.recruiting import X_PHONE, apply_to, claim_talent, invite
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def open_first_message(page: Any, subject: str) -> None:
    """From any page: the badge, 我的消息, the message, its link."""
    page.get_by_test_id("inbox-link").click()
    page.wait_for_url("**/messages/")
    page.get_by_test_id("inbox").get_by_role("link", name=subject).click()
    page.get_by_test_id("message").wait_for()
    page.get_by_test_id("message-link").click()


def test_the_new_applicant_and_the_interview_invitation_reach_my_messages(page: Any) -> None:
    make_persona_users()
    ref = make_reference()
    default_stages_ensure()
    hr = User.objects.get(username="qiye")
    student = User.objects.get(username="xuezi")
    assert hr.organisation is not None
    enterprise = make_enterprise(ref, name=hr.organisation.name, n=1, organisation=hr.organisation)
    posting = make_posting(enterprise, title="模具设计工程师")
    claim_talent(student, name="李晓彤", seq="102", phone=X_PHONE)
    application = apply_to(student, posting)

    sign_in(page, "qiye", DEMO_PASSWORD)
    assert page.get_by_test_id("inbox-unread").inner_text().startswith("1")
    open_first_message(page, "【青鹤】“模具设计工程师”收到新的投递")
    page.wait_for_url(f"**{reverse('recruitment:applicant', args=[application.pk])}")
    assert "李晓彤" in page.content()
    # Opened: the badge is gone.
    page.goto("/messages/")
    assert page.get_by_test_id("inbox-unread").count() == 0
    page.context.clear_cookies()

    invite(hr, application)
    sign_in(page, "xuezi", DEMO_PASSWORD)
    page.get_by_test_id("inbox-link").click()
    subject = "【青鹤】模具设计工程师：投递进度通知"
    items = page.get_by_test_id("inbox").get_by_role("link", name=subject)
    assert items.count() == 2  # 已投递, then the interview invitation (newest first)
    items.first.click()
    assert "面试" in page.get_by_test_id("message").inner_text()
    page.get_by_test_id("message-link").click()
    page.wait_for_url(f"**{reverse('recruitment:my_application', args=[application.pk])}")
    assert "模具设计工程师" in page.content()
    assert page.console_errors == []


def test_the_badge_appears_and_goes_without_a_reload(
    page: Any, browser: Any, live_server: Any
) -> None:
    """The student is on the waiting list with their workbench open. Another student cancels
    in their own browser: the promotion message shows on the first student's badge through the
    websocket, with no reload; reading it in a second tab clears the badge on the first."""
    from django.utils import timezone

    from qinghe.accounts.services import user_create
    from qinghe.core.roles import Role
    from qinghe.events.services import registration_create
    from qinghe.events.tests.factories import make_event

    users = make_persona_users()
    student = User.objects.get(username="xuezi")
    other = user_create(
        username="xuezi2", password=DEMO_PASSWORD, role=Role.STUDENT, display_name="陈同学"
    )
    event = make_event(
        users[Role.LEAGUE_STAFF].organisation, now=timezone.now(), capacity=1, title="返乡分享会"
    )
    registration_create(user=other, event=event)
    registration_create(user=student, event=event)  # waiting list

    sign_in(page, "xuezi", DEMO_PASSWORD)
    assert page.get_by_test_id("inbox-unread").count() == 0
    page.wait_for_timeout(500)  # the page's socket connects once its scripts have run

    other_ctx = browser.new_context(locale="zh-CN", base_url=live_server.url)
    other_page = other_ctx.new_page()
    other_page.on("dialog", lambda dialog: dialog.accept())
    sign_in(other_page, "xuezi2", DEMO_PASSWORD)
    other_page.goto(f"/events/{event.pk}/")
    other_page.get_by_role("button", name="取消报名").click()
    other_page.wait_for_load_state()
    other_ctx.close()

    badge = page.get_by_test_id("inbox-unread")
    badge.wait_for(timeout=5000)
    assert badge.inner_text().startswith("1")

    second_tab = page.context.new_page()
    second_tab.goto("/messages/")
    second_tab.get_by_role("button", name="全部标为已读").click()
    second_tab.wait_for_load_state()
    badge.wait_for(state="detached", timeout=5000)
    assert page.console_errors == []
