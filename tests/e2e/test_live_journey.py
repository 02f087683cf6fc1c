"""直播带岗 in a real Chromium: ffmpeg (Debian) makes a test-pattern HLS stream served beside
the site, the watch page plays it (playback time advances, read from the page), a question
asked in one browser appears in another within a second, and one-click application (consent
asked once) creates the applications."""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qinghe.accounts.demo import DEMO_PASSWORD
from qinghe.accounts.demo import personas_ensure as make_persona_users
from qinghe.core.roles import Role
from qinghe.enterprises.tests.factories import make_reference
from qinghe.live.models import StreamApplication
from qinghe.live.tests.helpers import make_stream
from qinghe.recruitment.models import Application
from qinghe.recruitment.services.stages import default_stages_ensure
from qinghe.testing.recruiting import X_PHONE, claim_talent
from qinghe.testing.world import make_world
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

FFMPEG = shutil.which("ffmpeg")


class _CorsHandler(http.server.SimpleHTTPRequestHandler):
    """A provider's HLS server: the playlist and segments, readable from the site's origin."""

    def end_headers(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        return


@pytest.fixture
def hls_source(tmp_path: Path) -> Iterator[str]:
    """A 20-second H.264 test pattern cut into 2-second HLS segments, served over HTTP from a
    temporary folder; yields the playlist's URL."""
    if FFMPEG is None:
        pytest.skip("ffmpeg is not installed (Debian package ffmpeg; .ci/services.sh installs it)")
    subprocess.run(
        [
            FFMPEG,
            "-hide_banner",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=320x240:rate=15",
            "-t",
            "20",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-g",
            "30",
            "-f",
            "hls",
            "-hls_time",
            "2",
            "-hls_playlist_type",
            "vod",
            str(tmp_path / "stream.m3u8"),
        ],
        check=True,
        timeout=120,
    )
    handler = functools.partial(_CorsHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/stream.m3u8"
    finally:
        server.shutdown()
        server.server_close()


def test_watch_ask_and_apply_from_a_live_stream(
    page: Any, browser: Any, live_server: Any, hls_source: str
) -> None:
    personas = make_persona_users()
    default_stages_ensure()
    world = make_world(personas, make_reference())
    claim_talent(world.x, name="李晓彤", seq="102", phone=X_PHONE)
    world.y.set_password(DEMO_PASSWORD)
    world.y.save(update_fields=["password"])
    stream = make_stream(world, personas[Role.HR_STAFF], hls_url=hls_source)

    # The student watches: the test pattern plays (time advances in the page's own video).
    sign_in(page, world.x.username, DEMO_PASSWORD)
    page.goto(f"/live/{stream.pk}/")
    page.wait_for_function(
        "() => { const v = document.getElementById('player'); return v && v.currentTime > 1.5; }",
        timeout=30000,
    )
    first = page.evaluate("document.getElementById('player').currentTime")
    page.wait_for_timeout(1000)
    assert page.evaluate("document.getElementById('player').currentTime") > first

    # A second student, in another browser context, sees the question within a second.
    other_ctx = browser.new_context(locale="zh-CN", base_url=live_server.url)
    other = other_ctx.new_page()
    sign_in(other, world.y.username, DEMO_PASSWORD)
    other.goto(f"/live/{stream.pk}/")
    other.get_by_test_id("viewers").filter(has_text="2").wait_for(timeout=5000)
    page.get_by_label("我的问题").fill("实习期间提供住宿吗？")
    started = time.monotonic()
    page.get_by_role("button", name="提问").click()
    other.get_by_test_id("question").filter(has_text="实习期间提供住宿吗？").wait_for(timeout=1000)
    assert time.monotonic() - started < 1.0
    other_ctx.close()

    # One-click application: the consent is asked the first time only.
    page.get_by_role("button", name="一键投递").first.click()
    page.get_by_label("同意向本场直播中我投递的企业", exact=False).check()
    page.get_by_role("button", name="同意并投递").click()
    page.locator("#apply-note").filter(has_text="已投递").wait_for(timeout=5000)
    page.get_by_role("button", name="一键投递").click()  # the one left: no consent box now
    page.get_by_role("button", name="一键投递").wait_for(state="detached", timeout=5000)
    assert page.locator("#consent-box").is_hidden()

    applied = Application.objects.filter(applicant=world.x).order_by("posting_id")
    assert sorted(a.posting_id for a in applied) == sorted([world.posting_a.pk, world.posting_b.pk])
    assert StreamApplication.objects.filter(stream=stream).count() == 2
    assert page.console_errors == []
