"""The 鹤才青年卡 end to end in Chromium: on a 390-px phone a student applies with an
uploaded labour contract, the station reviews, HR approves, the student shows the e-card QR;
a partner on a second page verifies the code and logs a benefit use, which the student then
sees in the card's history. No console errors (the CSP refuses nothing)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from qinghe.accounts.demo import DEMO_PASSWORD
from qinghe.accounts.demo import personas_ensure as make_persona_users
from qinghe.cards.models import BenefitUse, Card
from qinghe.core.roles import Role
from qinghe.reference.models import Town
from qinghe.stations.models import Station
from qinghe.talents.models import Education, Source, Talent
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def no_sideways_scroll(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_apply_review_approve_show_and_a_partner_logs_a_benefit(
    page: Any, browser: Any, live_server: Any, tmp_path: Path
) -> None:
    users = make_persona_users()
    town, _ = Town.objects.get_or_create(
        code="440784001", defaults={"name": "沙坪街道", "county_code": "440784"}
    )
    station_org = users[Role.STATION_STAFF].organisation
    Station.objects.create(
        kind=Station.Kind.TOWN,
        name=station_org.name,
        organisation=station_org,
        town=town,
        address="鹤山市沙坪街道中山路 8 号",
        hours="周一至周五 8:30-17:30",
    )
    talent = Talent.objects.create(name="李晓彤", user=users[Role.STUDENT], town=town)
    Education.objects.create(
        talent=talent,
        university_name="华南理工大学",
        level="master",
        is_double_first_class=True,
        source=Source.STUDENT,
    )
    files = {}
    for name in ("contract", "form", "degree"):
        files[name] = tmp_path / f"{name}.pdf"
        files[name].write_bytes(PDF)
    today = timezone.localdate()
    page.set_viewport_size(PHONE)

    # The student applies on her phone.
    sign_in(page, "xuezi", DEMO_PASSWORD)
    page.goto("/cards/")
    page.get_by_test_id("apply-link").click()
    page.wait_for_url("**/cards/apply/")
    page.locator("#id_employer").fill("鹤山市雅图仕印刷有限公司")
    page.locator("#id_employer_since").fill((today - dt.timedelta(days=30)).isoformat())
    page.locator("#id_contract_end").fill(today.replace(year=today.year + 3).isoformat())
    page.locator("#id_requested_tier").select_option("A")
    page.locator("#id_contract").set_input_files(str(files["contract"]))
    page.locator("#id_employer_form").set_input_files(str(files["form"]))
    page.locator("#id_degree").set_input_files(str(files["degree"]))
    assert no_sideways_scroll(page)
    page.get_by_role("button", name="提交申请").click()
    page.wait_for_url("**/cards/")
    assert page.get_by_test_id("card-state").inner_text() == "待驿站初审"
    card = Card.objects.get()
    page.context.clear_cookies()

    # The station reviews, HR approves.
    sign_in(page, "yizhan", DEMO_PASSWORD)
    page.goto(f"/cards/manage/{card.pk}/")
    page.get_by_test_id("act-review").click()
    assert page.get_by_test_id("card-state").inner_text() == "待人社局审批"
    page.context.clear_cookies()
    sign_in(page, "renshe", DEMO_PASSWORD)
    page.goto(f"/cards/manage/{card.pk}/")
    page.get_by_test_id("act-approve").click()
    assert page.get_by_test_id("card-state").inner_text() == "有效"
    page.context.clear_cookies()

    # The student shows the QR.
    sign_in(page, "xuezi", DEMO_PASSWORD)
    page.goto("/cards/")
    page.get_by_test_id("ecard-link").click()
    page.wait_for_url("**/cards/ecard/")
    qr = page.get_by_test_id("ecard-qr")
    assert qr.is_visible()
    assert qr.bounding_box()["width"] <= PHONE["width"]
    assert no_sideways_scroll(page)
    card.refresh_from_db()
    assert page.get_by_test_id("ecard-number").inner_text() == card.number
    token = qr.get_attribute("data-token")
    assert token and token.count(".") == 2

    # A partner scans it on another phone and logs a benefit.
    partner_context = browser.new_context(locale="zh-CN", base_url=live_server.url)
    partner = partner_context.new_page()
    partner.set_viewport_size(PHONE)
    sign_in(partner, "hezuo", DEMO_PASSWORD)
    partner.goto("/cards/partner/")
    partner.get_by_test_id("partner-token").fill(token)
    partner.get_by_role("button", name="核验").click()
    result = partner.get_by_test_id("partner-result").inner_text()
    assert "有效" in result and "李**" in result and "A 类（高层次青年人才）" in result
    partner.get_by_test_id("partner-benefit").select_option("hospital")
    partner.get_by_test_id("partner-log").click()
    assert "权益使用已登记" in partner.locator("main").inner_text()
    assert "李** · 医院就诊绿色通道" in partner.get_by_test_id("partner-recent").inner_text()
    assert no_sideways_scroll(partner)
    partner_context.close()

    use = BenefitUse.objects.get()
    assert (use.partner.name, use.benefit) == ("鹤山市人民医院", "hospital")
    page.goto("/cards/")
    assert (
        "医院就诊绿色通道 · 鹤山市人民医院" in page.get_by_test_id("benefit-history").inner_text()
    )
    assert page.console_errors == []
