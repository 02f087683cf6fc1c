"""Check-in at the door while the venue's network is down: League staff open the check-in page
(the phone downloads the keys and the masked list and caches the page), the browser goes
offline, a valid code is accepted on the phone and a forged, a wrong-event and a repeated one
are refused with their reasons; back online, the queued check-in synchronises and the
registration is attended exactly once, with the offline time."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from qinghe.accounts.demo import DEMO_PASSWORD
from qinghe.accounts.demo import personas_ensure as make_persona_users
from qinghe.core.roles import Role
from qinghe.events.checkin import make_code
from qinghe.events.models import Registration
from qinghe.events.services import registration_create
from qinghe.events.tests.factories import make_event, make_student
from qinghe.outreach.models import ContactLog
from qinghe.talents.models import Talent
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def b64e(raw: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_offline_check_in_is_verified_on_the_phone_and_synchronised_once(
    browser: Any, live_server: Any
) -> None:
    users = make_persona_users()
    now = timezone.now()
    league = users[Role.LEAGUE_STAFF]
    assert league.organisation is not None
    event = make_event(
        league.organisation,
        now=now - dt.timedelta(days=2),
        title="鹤山青年人才分享会",
        starts_at=now - dt.timedelta(minutes=20),
        registration_closes_at=now + dt.timedelta(hours=1),
        capacity=10,
    )
    other = make_event(league.organisation, now=now, title="另一场宣讲会")
    student = make_student("chen")
    student.display_name = "陈小明"
    student.save(update_fields=["display_name"])
    Talent.objects.create(name="陈小明", user=student)
    reg = registration_create(user=student, event=event).registration
    other_reg = registration_create(user=make_student("li"), event=other).registration
    code = make_code(registration_id=reg.pk, event_id=event.pk)
    header, _payload, signature = code[len("QHE2:") :].split(".")
    forged_payload = b64e(json.dumps({"r": reg.pk + 1000, "e": event.pk}).encode())
    forged = f"QHE2:{header}.{forged_payload}.{signature}"
    wrong_event = make_code(registration_id=other_reg.pk, event_id=other.pk)

    context = browser.new_context(locale="zh-CN", base_url=live_server.url)
    door = context.new_page()
    errors: list[str] = []
    door.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    sign_in(door, "tuanwei", DEMO_PASSWORD)
    door.goto(f"/events/{event.pk}/checkin/")
    door.wait_for_selector("[data-offline][data-ready='1']")
    assert "离线名单 1 人" in door.get_by_test_id("offline-status").inner_text()
    # the service worker controls /events/ and the page is in the cache
    assert door.evaluate("navigator.serviceWorker.ready.then(r => r.scope)").endswith("/events/")
    # (polled from here: wait_for_function would need eval, which the page's CSP refuses)
    cached = "caches.open('qinghe-checkin-v1').then(c => c.match(location.pathname)).then(Boolean)"
    for _ in range(50):
        if door.evaluate(cached):
            break
        door.wait_for_timeout(100)
    assert door.evaluate(cached) is True

    context.set_offline(True)
    assert door.evaluate("navigator.onLine") is False

    def scan(text: str) -> None:
        door.get_by_label("签到码").fill(text)
        door.get_by_role("button", name="签到", exact=True).click()

    scan(code)
    assert door.get_by_test_id("offline-result").inner_text() == "陈** 已签到（离线，待同步）"
    assert "待同步的离线签到 1 条" in door.get_by_test_id("offline-pending").inner_text()
    scan(forged)
    assert (
        door.get_by_test_id("offline-error").inner_text()
        == "签名无效：签到码是伪造的或被改动，不能签到"
    )
    assert door.get_by_test_id("offline-result").is_hidden()
    scan(wrong_event)
    assert door.get_by_test_id("offline-error").inner_text() == "该签到码不属于本活动"
    scan(code)
    assert "陈** 已签到（离线，待同步" in door.get_by_test_id("offline-error").inner_text()
    assert "无需重复签到" in door.get_by_test_id("offline-error").inner_text()
    # nothing has reached the server
    reg.refresh_from_db()
    assert reg.attended_at is None

    # Back online: the queue goes to the server, which records the check-in once.
    context.set_offline(False)
    sync = door.get_by_test_id("offline-sync")
    sync.wait_for(state="visible")
    assert sync.inner_text() == "离线签到已同步：新记录 1 条"
    assert door.get_by_test_id("attended").inner_text() == "1"
    expect(door.get_by_test_id("offline-pending")).to_be_hidden()
    reg.refresh_from_db()
    assert reg.attended_at is not None and reg.checkin_synced_at is not None
    assert reg.attended_at < reg.checkin_synced_at
    assert Registration.objects.filter(event=event, attended_at__isnull=False).count() == 1
    assert ContactLog.objects.filter(talent__user=student).count() == 1

    # The Wi-Fi is up but the line behind it is down (navigator.onLine stays true): the post
    # cannot reach the server, and the phone checks the code itself.
    wang = make_student("wang")
    wang.display_name = "王芳"
    wang.save(update_fields=["display_name"])
    second = registration_create(user=wang, event=event).registration
    door.reload()
    door.wait_for_selector("[data-offline][data-ready='1']")
    door.route(
        "**/checkin/",
        lambda route: route.abort() if route.request.method == "POST" else route.continue_(),
    )
    scan(make_code(registration_id=second.pk, event_id=event.pk))
    # the aborted post fails asynchronously before the phone falls back: wait for the answer
    expect(door.get_by_test_id("offline-result")).to_have_text("王* 已签到（离线，待同步）")
    assert door.evaluate("navigator.onLine") is True
    second.refresh_from_db()
    assert second.attended_at is None
    door.unroute("**/checkin/")
    # Online again, a code checks in on the server, answered in place; the queue follows.
    scan(code)
    assert "陈小明 已签到" in door.get_by_test_id("checkin-result").inner_text()
    expect(door.get_by_test_id("offline-sync")).to_contain_text("新记录 1 条")
    second.refresh_from_db()
    assert second.attended_at is not None and second.checkin_synced_at is not None

    # A reload sends nothing again; the list shows the two offline check-ins.
    door.reload()
    door.wait_for_selector("[data-offline][data-ready='1']")
    assert door.get_by_test_id("offline-sync").is_hidden()
    door.goto(f"/events/{event.pk}/registrations/")
    table = door.get_by_test_id("registration-table").inner_text()
    assert table.count("离线") == 2
    assert door.get_by_test_id("counts").inner_text().split("\n")[6:8] == ["2", "已签到"]
    assert Registration.objects.filter(event=event, attended_at__isnull=False).count() == 2
    assert ContactLog.objects.filter(talent__user=student).count() == 1
    # (the only console errors: the posts the test cut off on purpose)
    assert [e for e in errors if "net::ERR_FAILED" not in e] == []
    context.close()
