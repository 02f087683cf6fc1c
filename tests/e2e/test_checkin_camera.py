"""At the door, League staff scan the QR shown on the student's own phone with the door phone's
camera. Chromium's fake camera plays a video of the QR exactly as the student's 我的活动 page
draws it (an element screenshot of a phone screen at twice the CSS pixels, turned into .y4m by
ffmpeg), so the check-in page's own
getUserMedia + jsQR path decodes a real camera frame; the camera stays on for the next person;
the page's Permissions-Policy lets it use the camera and the CSP refuses nothing."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from qinghe.accounts.demo import DEMO_PASSWORD
from qinghe.accounts.demo import personas_ensure as make_persona_users
from qinghe.core.roles import Role
from qinghe.events.models import Registration
from qinghe.events.services import registration_create
from qinghe.events.tests.factories import make_event
from tests.e2e.conftest import CHROMIUM, sign_in

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg makes the fake camera"),
]

PHONE = {"width": 390, "height": 844}


def camera_video_of(png: Path, path: Path) -> Path:
    """A 2-second 640x480 video of the screenshot centred on white, as a camera held over the
    student's screen sees it (smooth scaling, as a lens does): Chromium's fake camera loops it."""
    subprocess.run(
        [
            "ffmpeg", "-loglevel", "error", "-y", "-loop", "1", "-i", str(png),
            "-vf", "scale=440:440:flags=bicubic,pad=640:480:(ow-iw)/2:(oh-ih)/2:white",
            "-t", "2", "-r", "10", "-pix_fmt", "yuv420p", str(path),
        ],
        check=True,
        timeout=60,
    )  # fmt: skip
    return path


def test_the_door_phone_scans_the_qr_on_the_students_phone_and_keeps_the_camera_on(
    browser: Any, live_server: Any, tmp_path: Path
) -> None:
    users = make_persona_users()
    league = users[Role.LEAGUE_STAFF]
    now = timezone.now()
    event = make_event(league.organisation, now=now, title="鹤山青年人才分享会")
    student = users[Role.STUDENT]
    reg = registration_create(user=student, event=event).registration

    # The student's phone: the QR as the page draws it.
    own = browser.new_context(
        locale="zh-CN", base_url=live_server.url, viewport=PHONE, device_scale_factor=2
    )
    phone = own.new_page()
    sign_in(phone, "xuezi", DEMO_PASSWORD)
    phone.goto("/events/mine/")
    png = tmp_path / "shown.png"
    phone.get_by_alt_text("签到二维码：鹤山青年人才分享会").screenshot(path=str(png))
    own.close()
    video = camera_video_of(png, tmp_path / "shown.y4m")

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
        context = camera.new_context(
            locale="zh-CN", base_url=live_server.url, viewport=PHONE, permissions=["camera"]
        )
        door = context.new_page()
        errors: list[str] = []
        door.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        sign_in(door, "tuanwei", DEMO_PASSWORD)
        response = door.goto(f"/events/{event.pk}/checkin/")
        assert response is not None
        assert response.headers["permissions-policy"].startswith("camera=(self)")
        door.get_by_test_id("scan-start").click()
        result = door.get_by_test_id("checkin-result")
        result.wait_for(timeout=20_000)
        assert result.inner_text().startswith("李晓彤 签到成功（")
        assert door.get_by_test_id("attended").inner_text() == "1"
        # the camera stays on for the next student (the same code is not sent again at once)
        assert door.locator("[data-scan-video]").is_visible()
        assert door.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert errors == []
        context.close()
    finally:
        camera.close()
    reg.refresh_from_db()
    assert reg.attended_at is not None
    assert Registration.objects.filter(event=event, attended_at__isnull=False).count() == 1
