"""视频面试 in two real Chromium contexts with fake cameras and microphones: the interviewer
(企业人事) and the student pass the device test and join the same room, each receives the
other's video with frames arriving (counted by the page's requestVideoFrameCallback), a note
typed during the call is saved to the room and to the recruitment interview, and a third
signed-in user is refused (the page says so; the socket closes with 4403)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from qinghe.accounts.demo import DEMO_PASSWORD
from qinghe.accounts.demo import personas_ensure as make_persona_users
from qinghe.accounts.models import User
from qinghe.enterprises.tests.factories import make_enterprise, make_posting, make_reference
from qinghe.recruitment.models import Interview
from qinghe.recruitment.services.stages import default_stages_ensure
from qinghe.testing.recruiting import X_PHONE, apply_to, claim_talent
from qinghe.video import services
from qinghe.video.models import VideoRoom
from tests.e2e.conftest import CHROMIUM, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def media_browser(browser: Any) -> Iterator[Any]:
    """Chromium with a fake camera (a moving test pattern) and microphone (a beep), granted
    without a prompt; launched by the session's Playwright (a second sync_playwright in the
    same worker would refuse to start)."""
    if True:
        media = browser.browser_type.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        yield media
        media.close()


def _page(browser: Any, live_server: Any, *, width: int = 390) -> Any:
    context = browser.new_context(
        locale="zh-CN",
        base_url=live_server.url,
        viewport={"width": width, "height": 844},
        permissions=["camera", "microphone"],
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.console_errors = errors
    return page


def _frames(page: Any) -> int:
    return int(page.get_by_test_id("video-remote").get_attribute("data-frames") or 0)


def _frames_arrive(page: Any) -> None:
    """Frames of the other side's video are being presented on this page, and keep coming.
    (A Python poll: the page's CSP forbids the string predicates of ``wait_for_function``.)"""
    for _ in range(60):
        if _frames(page) > 10:
            break
        page.wait_for_timeout(500)
    before = _frames(page)
    assert before > 10
    page.wait_for_timeout(1000)
    assert _frames(page) > before + 5  # still arriving (the fake camera sends ~30 fps)
    width = page.evaluate("document.querySelector('[data-testid=video-remote]').videoWidth")
    assert width > 0


def _join(page: Any, path: str) -> None:
    page.goto(path)
    page.get_by_test_id("check-camera").filter(has_text="正常").wait_for()
    page.get_by_test_id("check-connection").filter(has_text="正常").wait_for()
    page.get_by_test_id("video-join").click()
    page.get_by_test_id("video-call").wait_for()


def test_interviewer_and_student_see_each_other_and_the_note_is_saved(
    media_browser: Any, live_server: Any
) -> None:
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
    now = timezone.now()
    interview = Interview.objects.create(
        application=application,
        starts_at=now - dt.timedelta(minutes=1),
        ends_at=now + dt.timedelta(minutes=30),
        mode="video",
        state=Interview.State.CONFIRMED,
        created_by=hr,
    )
    room = services.room_for_interview(interview)
    path = f"/video/{room.uuid}/"

    interviewer = _page(media_browser, live_server)
    candidate = _page(media_browser, live_server)
    outsider = _page(media_browser, live_server)
    try:
        sign_in(interviewer, "qiye", DEMO_PASSWORD)
        sign_in(candidate, "xuezi", DEMO_PASSWORD)
        _join(candidate, path)
        assert "不录音、不录像" in candidate.get_by_test_id("video-not-recorded").inner_text()
        _join(interviewer, path)

        _frames_arrive(interviewer)
        _frames_arrive(candidate)
        # The controls stay on screen at 390 px.
        leave = candidate.get_by_role("button", name="离开")
        box = leave.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 390
        assert candidate.get_by_test_id("video-notes").count() == 0  # notes are the interviewer's

        # Text chat over the same socket.
        candidate.get_by_role("textbox", name="消息").fill("您好，我这边声音有点小")
        candidate.get_by_role("button", name="发送").click()
        interviewer.get_by_test_id("video-chat").filter(
            has_text="您好，我这边声音有点小"
        ).wait_for()

        interviewer.get_by_test_id("video-notes").fill("沟通清楚，模具基础扎实")
        interviewer.get_by_label("结果").select_option("passed")
        interviewer.get_by_test_id("video-notes-save").click()
        interviewer.get_by_test_id("video-notes-status").filter(has_text="已保存").wait_for()
        room.refresh_from_db()
        assert (room.notes, room.result) == ("沟通清楚，模具基础扎实", "passed")
        interview.refresh_from_db()
        assert (interview.notes, interview.result, interview.state) == (
            "沟通清楚，模具基础扎实",
            "passed",
            Interview.State.DONE,
        )

        # A third signed-in user: refused by the page and by the socket.
        sign_in(outsider, "dashi", DEMO_PASSWORD)
        response = outsider.goto(path)
        assert response is not None and response.status == 403
        assert "不是本场视频面试的参与者" in outsider.get_by_test_id("video-refused").inner_text()
        code = outsider.evaluate(
            """(url) => new Promise((resolve) => {
                const ws = new WebSocket(url);
                ws.onclose = (event) => resolve(event.code);
            })""",
            live_server.url.replace("http", "ws") + f"/ws/video/{room.uuid}/",
        )
        assert code == 4403
        room.refresh_from_db()
        assert (room.notes, room.result) == ("沟通清楚，模具基础扎实", "passed")

        assert interviewer.console_errors == []
        assert candidate.console_errors == []
    finally:
        for page in (interviewer, candidate, outsider):
            page.context.close()


def test_the_room_page_alone_may_use_camera_and_microphone(
    media_browser: Any, live_server: Any
) -> None:
    make_persona_users()
    hr = User.objects.get(username="qiye")
    student = User.objects.get(username="xuezi")
    room = services.room_create(
        interviewer=hr, student=student, minutes=20, source=VideoRoom.Source.DIRECT
    )
    page = _page(media_browser, live_server)
    try:
        sign_in(page, "xuezi", DEMO_PASSWORD)
        response = page.goto(f"/video/{room.uuid}/")
        assert response is not None
        assert response.headers["permissions-policy"].startswith("camera=(self), microphone=(self)")
        other = page.goto("/workbench/")
        assert other is not None
        assert other.headers["permissions-policy"].startswith("camera=(), microphone=()")
    finally:
        page.context.close()
