"""云招聘会 in a real Chromium, two browsers: the student joins 雅图仕's booth queue and sees
their place; the enterprise's HR takes the next student on its queue page; the student's page
shows 轮到你了 through the websocket, with no reload; a third browser on the fair's hall sees the
booth's queue length follow both, also with no reload. At 390 px wide (a phone)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from qinghe.accounts.demo import DEMO_PASSWORD
from qinghe.accounts.demo import personas_ensure as make_persona_users
from qinghe.accounts.models import User
from qinghe.core.roles import Role
from qinghe.enterprises.tests.factories import make_enterprise, make_posting, make_reference
from qinghe.events.models import Event, Registration
from qinghe.events.tests.factories import make_event
from qinghe.fairs.models import Booth, QueueEntry
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_student_sees_the_call_without_a_reload(
    page: Any, browser: Any, live_server: Any
) -> None:
    users = make_persona_users()
    hr = User.objects.get(username="qiye")
    student = User.objects.get(username="xuezi")
    assert hr.organisation is not None
    enterprise = make_enterprise(
        make_reference(), name=hr.organisation.name, n=1, organisation=hr.organisation
    )
    posting = make_posting(enterprise, title="模具设计工程师")
    now = timezone.now()
    fair = make_event(
        users[Role.HR_STAFF].organisation,
        now=now,
        type=Event.Type.CLOUD_FAIR,
        title="空中双选会",
        capacity=None,
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=5),
        registration_closes_at=now + dt.timedelta(hours=4),
        cancel_deadline=now - dt.timedelta(hours=2),
        place="",
    )
    booth = Booth.objects.create(
        fair=fair, enterprise=enterprise, state=Booth.State.APPROVED, applied_at=now
    )
    booth.postings.set([posting])
    Registration.objects.create(
        event=fair,
        user=student,
        status=Registration.Status.CONFIRMED,
        registered_at=now,
        confirmed_at=now,
    )

    # The hall, watched from another phone (the ambassador's): the booth's length, live.
    hall_ctx = browser.new_context(
        locale="zh-CN", base_url=live_server.url, viewport={"width": 390, "height": 844}
    )
    hall = hall_ctx.new_page()
    sign_in(hall, "dashi", DEMO_PASSWORD)
    hall.goto(f"/fairs/{fair.pk}/")
    hall_length = hall.locator(f"[data-booth='{booth.pk}'] [data-testid=booth-length]")
    expect(hall_length).to_have_text("0")
    hall.wait_for_timeout(500)  # the hall's socket connects once its scripts have run

    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "xuezi", DEMO_PASSWORD)
    page.goto(f"/fairs/{fair.pk}/")
    page.get_by_role("link", name=enterprise.name).click()
    page.get_by_role("button", name="排队面谈").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("position").inner_text() == "1"
    assert page.get_by_test_id("wait").inner_text() == "10"
    assert page.get_by_test_id("called").is_hidden()
    expect(hall_length).to_have_text("1", timeout=5000)
    expect(hall.locator(f"[data-booth='{booth.pk}'] [data-testid=booth-wait]")).to_have_text("20")
    page.wait_for_timeout(500)  # the page's socket connects once its scripts have run

    hr_ctx = browser.new_context(locale="zh-CN", base_url=live_server.url)
    hr_page = hr_ctx.new_page()
    sign_in(hr_page, "qiye", DEMO_PASSWORD)
    hr_page.goto(f"/fairs/booths/{booth.pk}/queue/")
    assert hr_page.get_by_test_id("queue-length").inner_text() == "1"
    hr_page.get_by_test_id("take-next").click()
    hr_page.wait_for_load_state()
    hr_ctx.close()

    page.get_by_test_id("called").wait_for(state="visible", timeout=5000)
    assert "轮到你了" in page.get_by_test_id("called").inner_text()
    assert page.get_by_test_id("my-place").is_hidden()
    assert QueueEntry.objects.get().state == QueueEntry.State.CALLED
    expect(hall_length).to_have_text("0", timeout=5000)
    hall_ctx.close()
    assert page.console_errors == []
