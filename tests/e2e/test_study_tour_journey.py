"""A study tour from end to end: League staff create it with seats and groups and add a stop;
a high-school student registers on a phone and forwards the guardian's link; the guardian
consents without signing in (another browser); the student is confirmed and shows the QR;
staff check them in from a second page; the attendance appears on the student's record and in
the plan's counts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from qinghe.accounts.demo import DEMO_PASSWORD
from qinghe.accounts.demo import personas_ensure as make_persona_users
from qinghe.core.roles import Role
from qinghe.events.checkin import make_code
from qinghe.events.models import Event, Registration
from qinghe.talents.models import Talent
from tests.e2e.conftest import go_to_menu, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


def local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def no_sideways_scroll(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_study_tour_with_guardian_consent_and_check_in(
    page: Any, browser: Any, live_server: Any
) -> None:
    users = make_persona_users()
    student = users[Role.STUDENT]
    talent = Talent.objects.create(name="李晓彤", user=student)  # no birth date: a minor
    now = timezone.now()
    starts = (now + dt.timedelta(days=3)).replace(minute=0, second=0, microsecond=0)

    # League staff create the tour through the form, add a stop and publish it.
    sign_in(page, "tuanwei", DEMO_PASSWORD)
    page.goto("/events/manage/new/")
    page.locator("[name=type]").select_option("study_tour")
    page.locator("[name=title]").fill("寒假家乡研学：古劳水乡")
    page.locator("[name=place]").fill("鹤山市青少年宫")
    page.locator("[name=starts_at]").fill(local(starts))
    page.locator("[name=ends_at]").fill(local(starts + dt.timedelta(hours=8)))
    page.locator("[name=registration_opens_at]").fill(local(now - dt.timedelta(hours=1)))
    page.locator("[name=registration_closes_at]").fill(local(starts - dt.timedelta(days=1)))
    page.locator("[name=cancel_deadline]").fill(local(starts - dt.timedelta(days=2)))
    page.locator("[name=capacity]").fill("30")
    page.get_by_label("高中生组").check()
    page.get_by_label("大学生组").check()
    page.get_by_role("button", name="保存").click()
    event = Event.objects.get(title="寒假家乡研学：古劳水乡")
    page.wait_for_url(f"**/events/manage/{event.pk}/")
    page.locator("input[name=at]").fill(local(starts + dt.timedelta(hours=2)))
    page.locator("select[name=kind]").select_option("heritage")
    page.locator("input[name=place]").fill("古劳水乡")
    page.get_by_role("button", name="加入行程").click()
    assert "古劳水乡" in page.get_by_test_id("itinerary").inner_text()
    page.get_by_role("button", name="发布").click()
    event.refresh_from_db()
    assert event.state == "published"
    page.context.clear_cookies()

    # The student registers on a phone and copies the guardian's link.
    page.set_viewport_size(PHONE)
    sign_in(page, "xuezi", DEMO_PASSWORD)
    page.goto(f"/events/{event.pk}/")
    assert "古劳水乡" in page.get_by_test_id("itinerary").inner_text()
    page.get_by_label("研学分组").select_option("high_school")
    page.get_by_role("button", name="立即报名").click()
    assert "监护人" in page.locator("main").inner_text()
    go_to_menu(page, "我的活动")
    link = page.get_by_label("监护人同意书链接").input_value()
    assert "/events/guardian/" in link
    assert page.get_by_alt_text("签到二维码：寒假家乡研学：古劳水乡").count() == 0
    assert no_sideways_scroll(page)

    # The guardian, on their own phone, without an account.
    guardian = browser.new_context(locale="zh-CN", viewport=PHONE)
    gpage = guardian.new_page()
    gpage.goto(link)
    assert "李*" in gpage.locator("main").inner_text()
    gpage.get_by_label("监护人姓名").fill("李妈妈")
    gpage.get_by_label("监护人手机号").fill("13711112222")
    gpage.get_by_label("我已阅读行程安排，同意孩子参加本次研学").check()
    gpage.get_by_role("button", name="同意参加").click()
    assert "报名已确认" in gpage.get_by_test_id("guardian-done").inner_text()
    assert bool(gpage.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))
    guardian.close()

    # The student now has the QR.
    page.reload()
    assert page.get_by_alt_text("签到二维码：寒假家乡研学：古劳水乡").is_visible()
    reg = Registration.objects.get(event=event, user=student)
    assert reg.status == "confirmed"

    # Staff at the door, on a second page, scan it.
    staff_ctx = browser.new_context(locale="zh-CN", base_url=live_server.url)
    door = staff_ctx.new_page()
    sign_in(door, "tuanwei", DEMO_PASSWORD)
    door.goto(f"/events/{event.pk}/checkin/")
    door.get_by_label("签到码").fill(make_code(registration_id=reg.pk, event_id=event.pk))
    door.get_by_role("button", name="签到", exact=True).click()
    assert "签到成功" in door.get_by_test_id("checkin-result").inner_text()
    # the attendance on the student's record
    door.goto(f"/talents/{talent.pk}/")
    assert "参加活动“寒假家乡研学：古劳水乡”" in door.get_by_test_id("timeline").inner_text()
    # and in the plan's counts (the tour starts this year or the next)
    door.goto(f"/jobs/targets/?year={timezone.localtime(starts).year}")
    figures = door.get_by_test_id("gathering-figures").inner_text()
    assert "研学参加\n1" in figures
    staff_ctx.close()
    assert page.console_errors == []
