"""The partner scans a holder's e-card QR with the phone camera. Chromium is given a fake camera
that plays a video of the real QR (a PNG from the token, turned into .y4m by ffmpeg), so the
page's own getUserMedia + jsQR path decodes a real camera frame, fills the code and the online
check answers; a photo of a dependant's card goes through the same decoder; a browser without
camera permission falls back to the typed or pasted code. No console errors (the CSP and the
page's Permissions-Policy refuse nothing)."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from qinghe.accounts.demo import DEMO_PASSWORD
from qinghe.accounts.demo import personas_ensure as make_persona_users
from qinghe.cards import dependants, services
from qinghe.cards.materials import Upload
from qinghe.cards.models import BenefitUse, Card
from qinghe.cards.selectors import ecard_for_holder
from qinghe.core.roles import Role
from qinghe.reference.models import Town
from qinghe.stations.models import Station
from qinghe.talents.models import Education, Source, Talent
from tests.e2e.camera import camera_video, launch_media_browser, qr_png
from tests.e2e.conftest import sign_in

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg makes the fake camera"),
]

PHONE = {"width": 390, "height": 844}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
CHILD_ID = "440784201506010010"


@pytest.fixture
def world() -> Iterator[dict[str, Any]]:
    users = make_persona_users()
    town, _ = Town.objects.get_or_create(
        code="440784001", defaults={"name": "沙坪街道", "county_code": "440784"}
    )
    org = users[Role.STATION_STAFF].organisation
    Station.objects.create(
        kind=Station.Kind.TOWN,
        name=org.name,
        organisation=org,
        town=town,
        address="鹤山市沙坪街道中山路 8 号",
        hours="周一至周五 8:30-17:30",
    )
    student = users[Role.STUDENT]
    talent = Talent.objects.create(name="李晓彤", user=student, town=town)
    Education.objects.create(
        talent=talent,
        university_name="华南理工大学",
        level="doctor",
        is_double_first_class=True,
        source=Source.STUDENT,
    )
    today = timezone.localdate()
    card = services.card_apply(
        user=student,
        data=services.ApplyData(
            employer="鹤山市雅图仕印刷有限公司",
            employer_since=today - dt.timedelta(days=30),
            contract_end=today.replace(year=today.year + 3),
            requested_tier="A",
            uploads=[
                Upload(kind=k, file_name=f"{k}.pdf", data=PDF)
                for k in ("contract", "employer_form", "degree")
            ],
        ),
    )
    card = services.card_transition(card=card, action="review", actor=users[Role.STATION_STAFF])
    card = services.card_transition(card=card, action="approve", actor=users[Role.HR_STAFF])
    yield {"users": users, "card": card, "student": student}


def partner_page(context: Any) -> Any:
    page = context.new_page()
    page.set_viewport_size(PHONE)
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.console_errors = errors
    sign_in(page, "hezuo", DEMO_PASSWORD)
    page.goto("/cards/partner/")
    return page


def test_a_partner_scans_the_ecard_with_the_phone_camera_and_logs_a_benefit(
    browser: Any, live_server: Any, world: dict[str, Any], tmp_path: Path
) -> None:
    shown = ecard_for_holder(viewer=world["student"])
    assert shown is not None
    video = camera_video(qr_png(shown.token, tmp_path / "qr.png"), tmp_path / "qr.y4m")
    camera = launch_media_browser(browser, video)
    try:
        context = camera.new_context(
            locale="zh-CN", base_url=live_server.url, permissions=["camera"]
        )
        page = partner_page(context)
        assert page.get_by_test_id("partner-token").input_value() == ""
        page.get_by_test_id("scan-start").click()
        # The frame is decoded, the code filled in and the form sent: the online check answers.
        result = page.get_by_test_id("partner-result")
        result.wait_for(timeout=20_000)
        text = result.inner_text()
        assert "有效" in text and "A 类" in text and "李**" in text, text
        assert page.get_by_test_id("partner-token").input_value() == shown.token
        page.get_by_test_id("partner-benefit").select_option("hospital")
        page.get_by_test_id("partner-log").click()
        assert "李** · 医院就诊绿色通道" in page.get_by_test_id("partner-recent").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert page.console_errors == []
        context.close()
    finally:
        camera.close()
    use = BenefitUse.objects.get()
    assert (use.card_number, use.benefit, use.dependant) == (
        world["card"].number,
        "hospital",
        None,
    )


def test_a_photo_of_a_dependants_card_is_decoded_by_the_same_code_and_marked(
    browser: Any, live_server: Any, world: dict[str, Any], tmp_path: Path
) -> None:
    users, student = world["users"], world["student"]
    dep = dependants.dependant_apply(
        user=student,
        data=dependants.DependantData(
            relation="child",
            name="李小满",
            id_number=CHILD_ID,
            uploads=[
                Upload(kind="relation_proof", file_name="a.pdf", data=PDF),
                Upload(kind="id_doc", file_name="b.pdf", data=PDF),
            ],
        ),
    )
    dep = dependants.dependant_transition(
        dependant=dep, action="review", actor=users[Role.STATION_STAFF]
    )
    dep = dependants.dependant_transition(
        dependant=dep, action="approve", actor=users[Role.HR_STAFF]
    )
    shown = dependants.ecard_for_dependant(viewer=student, dependant_id=dep.pk)
    assert shown is not None
    photo = qr_png(shown.token, tmp_path / "photo.png")
    # No camera permission in this browser: the camera button reports it, the photo still works.
    context = browser.new_context(locale="zh-CN", base_url=live_server.url)
    page = partner_page(context)
    page.get_by_test_id("scan-photo").set_input_files(str(photo))
    page.get_by_test_id("partner-result").wait_for(timeout=20_000)
    assert page.get_by_test_id("partner-dependant").inner_text() == "家属卡（子女）"
    assert "李**" in page.get_by_test_id("partner-result").inner_text()
    options = page.get_by_test_id("partner-benefit").locator("option").all_inner_texts()
    assert options == [
        "医院就诊绿色通道",
        "文体场馆免费或优惠入场",
        "子女入学协助",
        "年度免费健康体检",
    ]
    # Typed or pasted code keeps working: a changed token is refused.
    page.get_by_test_id("partner-token").fill(shown.token[:-4] + "AAAA")
    page.get_by_role("button", name="核验").click()
    assert "无效" in page.get_by_test_id("partner-result").inner_text()
    assert page.console_errors == []
    context.close()
    assert Card.objects.count() == 1
