"""On a 390-px phone: a student finds an event through the menu, registers and shows the QR;
League staff check them in at the door; nothing overflows sideways and the CSP refuses
nothing (no console errors)."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from qinghe.accounts.demo import DEMO_PASSWORD
from qinghe.accounts.demo import personas_ensure as make_persona_users
from qinghe.core.roles import Role
from qinghe.events.checkin import make_code
from qinghe.events.models import Registration
from qinghe.events.tests.factories import make_event
from tests.e2e.conftest import go_to_menu, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


def no_sideways_scroll(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_a_student_registers_on_a_phone_and_is_checked_in_at_the_door(page: Any) -> None:
    users = make_persona_users()
    league = users[Role.LEAGUE_STAFF]
    event = make_event(
        league.organisation, now=timezone.now(), title="暑期家乡研学：走进鹤山工业城"
    )
    page.set_viewport_size(PHONE)

    sign_in(page, "xuezi", DEMO_PASSWORD)
    go_to_menu(page, "活动报名")
    page.wait_for_url("**/events/")
    assert no_sideways_scroll(page)
    page.get_by_test_id("event-cards").get_by_role("link", name="暑期家乡研学").click()
    page.wait_for_url(f"**/events/{event.pk}/")
    page.get_by_role("button", name="立即报名").click()
    assert "报名成功" in page.locator("main").inner_text()
    assert no_sideways_scroll(page)
    go_to_menu(page, "我的活动")
    qr = page.get_by_alt_text("签到二维码：暑期家乡研学：走进鹤山工业城")
    assert qr.is_visible()
    assert qr.bounding_box()["width"] <= PHONE["width"]
    assert no_sideways_scroll(page)
    page.context.clear_cookies()  # the next person at the door, on another phone

    reg = Registration.objects.get(event=event, user=users[Role.STUDENT])
    sign_in(page, "tuanwei", DEMO_PASSWORD)
    page.goto(f"/events/{event.pk}/checkin/")
    page.get_by_label("签到码").fill(make_code(registration_id=reg.pk, event_id=event.pk))
    page.get_by_role("button", name="签到", exact=True).click()
    assert "李晓彤 签到成功" in page.get_by_test_id("checkin-result").inner_text()
    assert page.get_by_test_id("attended").inner_text() == "1"
    assert no_sideways_scroll(page)
    page.goto(f"/events/{event.pk}/registrations/")
    # On a phone the list is cards, not a table.
    assert page.get_by_test_id("registration-cards").is_visible()
    assert not page.get_by_test_id("registration-table").is_visible()
    assert no_sideways_scroll(page)
    assert page.console_errors == []
