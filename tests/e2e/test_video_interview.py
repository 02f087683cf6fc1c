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
    # Still arriving (the fake camera sends ~30 fps; on a loaded machine far fewer, so wait up
    # to 10 s for five more rather than reading once).
    for _ in range(20):
        page.wait_for_timeout(500)
        if _frames(page) > before + 5:
            break
    assert _frames(page) > before + 5
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


def _direct_room() -> VideoRoom:
    make_persona_users()
    hr = User.objects.get(username="qiye")
    student = User.objects.get(username="xuezi")
    return services.room_create(
        interviewer=hr, student=student, minutes=30, source=VideoRoom.Source.DIRECT
    )


def _attr(page: Any, name: str) -> str:
    return page.locator("[data-video-room]").get_attribute(name) or ""


def _wait_attr(page: Any, name: str, predicate: Any, *, seconds: float = 30) -> str:
    """Polls a data- attribute of the room until ``predicate`` holds (a Python poll: the
    page's CSP forbids wait_for_function's string predicates)."""
    for _ in range(int(seconds * 4)):
        value = _attr(page, name)
        if predicate(value):
            return value
        page.wait_for_timeout(250)
    raise AssertionError(f"{name} stayed {_attr(page, name)!r}")


def test_after_a_network_drop_the_call_reconnects_on_its_own_and_frames_arrive_again(
    media_browser: Any, live_server: Any
) -> None:
    room = _direct_room()
    path = f"/video/{room.uuid}/"
    interviewer = _page(media_browser, live_server)
    candidate = _page(media_browser, live_server)
    try:
        sign_in(interviewer, "qiye", DEMO_PASSWORD)
        sign_in(candidate, "xuezi", DEMO_PASSWORD)
        _join(candidate, path)
        _join(interviewer, path)
        _frames_arrive(interviewer)
        _frames_arrive(candidate)
        before = {
            "candidate": _attr(candidate, "data-pc"),
            "interviewer": _attr(interviewer, "data-pc"),
        }
        assert before["candidate"] == before["interviewer"] != ""

        candidate.context.set_offline(True)
        candidate.get_by_test_id("video-status").filter(has_text="网络").wait_for()
        candidate.wait_for_timeout(3000)
        candidate.context.set_offline(False)
        # The socket was closed and is opened again on its own (a second welcome).
        _wait_attr(candidate, "data-reconnects", lambda v: v == "1")
        assert _attr(interviewer, "data-reconnects") == "0"

        # A fresh connection (the interviewer's new offer, new ICE) on both pages, connected.
        new_pc = _wait_attr(candidate, "data-pc", lambda v: v not in ("", before["candidate"]))
        _wait_attr(interviewer, "data-pc", lambda v: v == new_pc)
        _wait_attr(candidate, "data-connection", lambda v: v == "connected")
        _wait_attr(interviewer, "data-connection", lambda v: v == "connected")
        # Frames arrive again, measured from each page after the reconnection.
        for page in (candidate, interviewer):
            start = _frames(page)
            for _ in range(20):
                page.wait_for_timeout(500)
                if _frames(page) > start + 10:
                    break
            assert _frames(page) > start + 10
        assert candidate.get_by_test_id("video-status").inner_text() == ""
        assert interviewer.console_errors == []
        assert candidate.console_errors == []
    finally:
        for page in (interviewer, candidate):
            page.context.close()


def test_a_staff_observer_sees_both_sides_only_after_the_student_agreed(
    media_browser: Any, live_server: Any
) -> None:
    room = _direct_room()
    path = f"/video/{room.uuid}/"
    interviewer = _page(media_browser, live_server)
    candidate = _page(media_browser, live_server)
    observer = _page(media_browser, live_server)
    try:
        sign_in(interviewer, "qiye", DEMO_PASSWORD)
        sign_in(candidate, "xuezi", DEMO_PASSWORD)
        sign_in(observer, "renshe", DEMO_PASSWORD)
        response = observer.goto(path)
        assert response is not None and response.status == 403
        observer.console_errors.clear()  # the refused page itself
        room.refresh_from_db()
        assert room.observers_allowed is False

        candidate.goto(path)
        candidate.get_by_test_id("observers-allow").click()
        candidate.get_by_test_id("observers-allowed").wait_for()
        room.refresh_from_db()
        assert room.observers_allowed is True
        _join(candidate, path)
        _join(interviewer, path)
        _frames_arrive(candidate)

        observer.goto(path)
        assert observer.get_by_test_id("video-local").count() == 0  # no camera of its own
        assert observer.get_by_test_id("check-camera").count() == 0
        observer.get_by_test_id("check-connection").filter(has_text="正常").wait_for()
        observer.get_by_test_id("video-join").click()
        for side in ("interviewer", "student"):
            video = observer.get_by_test_id(f"video-observe-{side}")
            for _ in range(60):
                if int(video.get_attribute("data-frames") or 0) > 10:
                    break
                observer.wait_for_timeout(500)
            assert int(video.get_attribute("data-frames") or 0) > 10
        # The observer sends nothing: its connections carry no track of its own.
        assert _attr(observer, "data-sending") == "0"
        assert observer.evaluate("() => document.querySelectorAll('video').length") == 2
        assert observer.get_by_test_id("video-chat").count() == 1
        assert observer.get_by_role("button", name="发送").count() == 0
        # The two sides still see each other.
        _frames_arrive(interviewer)
        assert observer.console_errors == []
    finally:
        for page in (interviewer, candidate, observer):
            page.context.close()


def test_the_call_is_recorded_only_after_both_agree_and_the_recording_is_stored_encrypted(
    media_browser: Any, live_server: Any
) -> None:
    from django.core.files.storage import default_storage

    from qinghe.video.models import VideoRecording

    room = _direct_room()
    path = f"/video/{room.uuid}/"
    interviewer = _page(media_browser, live_server)
    candidate = _page(media_browser, live_server)
    try:
        sign_in(interviewer, "qiye", DEMO_PASSWORD)
        sign_in(candidate, "xuezi", DEMO_PASSWORD)
        _join(candidate, path)
        _join(interviewer, path)
        _frames_arrive(interviewer)
        start = interviewer.get_by_test_id("video-record-start")
        assert start.is_disabled()

        interviewer.get_by_test_id("video-consent").click()
        candidate.get_by_test_id("consent-interviewer").filter(has_text="已同意").wait_for()
        assert start.is_disabled()  # the student has not agreed
        candidate.get_by_test_id("video-consent").click()
        interviewer.get_by_test_id("consent-student").filter(has_text="已同意").wait_for()
        _wait_attr(interviewer, "data-recording-consent", lambda v: v == "both")
        assert start.is_enabled()

        start.click()
        candidate.get_by_test_id("video-recording-on").wait_for()  # the student sees it
        _wait_attr(interviewer, "data-chunks", lambda v: v != "" and int(v) >= 2)
        interviewer.get_by_test_id("video-record-stop").click()
        interviewer.get_by_test_id("video-record-status").filter(has_text="录制已结束").wait_for()
        candidate.get_by_test_id("video-recording-on").wait_for(state="hidden")

        recording = VideoRecording.objects.get(room=room)
        assert recording.state == VideoRecording.State.COMPLETE
        assert recording.chunks >= 2
        first = recording.pieces.get(seq=0)
        with default_storage.open(first.storage_name, "rb") as handle:
            assert handle.read(4) == b"QHF1"  # encrypted at rest
        # The student downloads it from the room page: a WebM file of the recorded size.
        candidate.reload()
        link = candidate.get_by_role("link", name="下载录像")
        response = candidate.request.get(link.get_attribute("href"))
        assert response.status == 200
        body = response.body()
        assert body[:4] == b"\x1a\x45\xdf\xa3"
        assert len(body) == recording.size
        assert interviewer.console_errors == []
    finally:
        for page in (interviewer, candidate):
            page.context.close()
