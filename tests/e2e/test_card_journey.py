"""The 鹤才青年卡 end to end in Chromium: on a 390-px phone a student applies on a form whose
employer and start date come pre-filled from her newest employment, with an uploaded labour
contract; the station reviews, HR approves, the student shows the e-card QR; a partner on a
second phone scans that displayed QR with the camera (Chromium's fake camera plays a video of
the token read from the student's page), and logs a benefit use, which the student then sees
in the card's history. No console errors (the CSP refuses nothing)."""

from __future__ import annotations

import datetime as dt
import shutil
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
from qinghe.talents.models import Destination, Education, Source, Talent
from tests.e2e.conftest import CHROMIUM, sign_in
from tests.e2e.test_card_scan import qr_png, y4m_of

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg makes the fake camera"),
]

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
    today = timezone.localdate()
    # Two jobs on record: the form takes the newer one.
    Destination.objects.create(
        talent=talent,
        kind=Destination.Kind.EMPLOYED,
        employer="江门市蓬江区某贸易公司",
        start_date=today - dt.timedelta(days=400),
        source=Source.STUDENT,
    )
    Destination.objects.create(
        talent=talent,
        kind=Destination.Kind.EMPLOYED,
        employer="鹤山市雅图仕印刷有限公司",
        employer_uscc="91440784MA4UJX8Y2R",
        start_date=today - dt.timedelta(days=30),
        source=Source.STUDENT,
    )
    files = {}
    for name in ("contract", "form", "degree"):
        files[name] = tmp_path / f"{name}.pdf"
        files[name].write_bytes(PDF)
    page.set_viewport_size(PHONE)

    # The student applies on her phone.
    sign_in(page, "xuezi", DEMO_PASSWORD)
    page.goto("/cards/")
    page.get_by_test_id("apply-link").click()
    page.wait_for_url("**/cards/apply/")
    # Pre-filled from the newest employment; she does not type them.
    assert page.locator("#id_employer").input_value() == "鹤山市雅图仕印刷有限公司"
    assert page.locator("#id_employer_uscc").input_value() == "91440784MA4UJX8Y2R"
    assert (
        page.locator("#id_employer_since").input_value()
        == (today - dt.timedelta(days=30)).isoformat()
    )
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
    assert (card.employer, card.employer_since) == (
        "鹤山市雅图仕印刷有限公司",
        today - dt.timedelta(days=30),
    )
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

    # A partner scans the displayed QR with another phone's camera and logs a benefit.
    video = y4m_of(qr_png(token, tmp_path / "shown.png"), tmp_path / "shown.y4m")
    camera = browser.browser_type.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    try:
        partner_context = camera.new_context(
            locale="zh-CN", base_url=live_server.url, permissions=["camera"]
        )
        partner = partner_context.new_page()
        partner.set_viewport_size(PHONE)
        partner_errors: list[str] = []
        partner.on(
            "console", lambda m: partner_errors.append(m.text) if m.type == "error" else None
        )
        sign_in(partner, "hezuo", DEMO_PASSWORD)
        partner.goto("/cards/partner/")
        assert partner.get_by_test_id("partner-token").input_value() == ""
        partner.get_by_test_id("scan-start").click()
        found = partner.get_by_test_id("partner-result")
        found.wait_for(timeout=20_000)
        result = found.inner_text()
        assert "有效" in result and "李**" in result and "A 类（高层次青年人才）" in result
        # The code the camera read is exactly the one the student's page shows.
        assert partner.get_by_test_id("partner-token").input_value() == token
        partner.get_by_test_id("partner-benefit").select_option("hospital")
        partner.get_by_test_id("partner-log").click()
        assert "权益使用已登记" in partner.locator("main").inner_text()
        assert "李** · 医院就诊绿色通道" in partner.get_by_test_id("partner-recent").inner_text()
        assert no_sideways_scroll(partner)
        assert partner_errors == []
        partner_context.close()
    finally:
        camera.close()

    use = BenefitUse.objects.get()
    assert (use.partner.name, use.benefit) == ("鹤山市人民医院", "hospital")
    page.goto("/cards/")
    assert (
        "医院就诊绿色通道 · 鹤山市人民医院" in page.get_by_test_id("benefit-history").inner_text()
    )
    assert page.console_errors == []
