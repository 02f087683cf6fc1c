"""Scheduling streams (with a clear Chinese error and nothing written for bad input), starting
and ending them, the HLS URL rule, one-click application, and the figures."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from qinghe.core.errors import ApplicationError, PermissionDenied
from qinghe.core.roles import Role
from qinghe.live import rules, selectors, services
from qinghe.live.models import Question, Stream, StreamApplication
from qinghe.recruitment.models import Application
from qinghe.testing.recruiting import X_PHONE, claim_talent
from qinghe.testing.world import World

from .helpers import make_stream

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://live.example.cn/a/index.m3u8", None),
        ("http://10.1.2.3:8080/live/x.m3u8?token=1", None),
        ("/hls/2026-fair.m3u8", None),
        ("", "请填写直播地址"),
        ("https://live.example.cn/a/index.mp4", "直播地址须是以 .m3u8 结尾的 HLS 播放地址"),
        (
            "ftp://live.example.cn/a.m3u8",
            "直播地址须是 http(s) 地址，或本机推流服务的路径（以 /hls/ 开头）",
        ),
        ("/static/a.m3u8", "直播地址须是 http(s) 地址，或本机推流服务的路径（以 /hls/ 开头）"),
        ("/hls/../secret.m3u8", "直播地址不合法"),
        (
            "javascript:alert(1)//.m3u8",
            "直播地址须是 http(s) 地址，或本机推流服务的路径（以 /hls/ 开头）",
        ),
    ],
)
def test_hls_url_rule(url: str, problem: str | None) -> None:
    assert rules.hls_url_problem(url) == problem


def test_word_filter_sees_through_spaces_and_punctuation() -> None:
    assert rules.needs_review("加 微.信 聊")
    assert not rules.needs_review("请问有没有宿舍？")


def test_bad_schedule_writes_nothing(world: World, personas: dict[str, Any]) -> None:
    now = timezone.now()
    with pytest.raises(ValidationError) as caught:
        services.stream_create(
            actor=personas[Role.HR_STAFF],
            title="",
            host="何主任",
            enterprises=[world.a, world.c],
            postings=[world.draft_a],
            starts_at=now,
            ends_at=now - dt.timedelta(hours=1),
            hls_url="rtmp://x/live",
        )
    assert caught.value.message_dict == {
        "title": ["请填写直播标题"],
        "enterprises": ["只能选择已认证的企业"],
        "postings": ["只能推介已发布的岗位"],
        "ends_at": ["结束时间须晚于开始时间"],
        "hls_url": ["直播地址须是以 .m3u8 结尾的 HLS 播放地址"],
    }
    with pytest.raises(PermissionDenied):
        make_stream(world, world.hr_a)
    assert Stream.objects.count() == 0


def test_start_end_and_figures(world: World, personas: dict[str, Any]) -> None:
    staff = personas[Role.LEAGUE_STAFF]
    claim_talent(world.x, name="李晓彤", seq="102", phone=X_PHONE)
    stream = make_stream(world, staff)
    with pytest.raises(ApplicationError):
        services.stream_start(actor=staff, stream=stream)
    services.question_ask(actor=world.x, stream=stream, text="有宿舍吗")
    services.question_ask(actor=world.y, stream=stream, text="加微信")
    services.apply_from_stream(
        actor=world.x, stream=stream, posting_id=world.posting_b.pk, consent=True
    )
    Stream.objects.filter(pk=stream.pk).update(peak_viewers=37)
    with pytest.raises(ValidationError):
        services.stream_end(actor=staff, stream=stream, replay_url="https://x/replay.mp4")
    stream = services.stream_end(actor=staff, stream=stream, replay_url="/hls/replay.m3u8")
    with pytest.raises(ApplicationError):
        services.question_ask(actor=world.y, stream=stream, text="还能问吗")
    figures = selectors.stream_figures(stream)
    assert (figures["peak_viewers"], figures["questions"], figures["held"]) == (37, 2, 1)
    assert {r["posting"].pk: r["applications"] for r in figures["postings"]} == {
        world.posting_a.pk: 0,
        world.posting_b.pk: 1,
    }
    year = timezone.localtime(stream.started_at).year
    assert selectors.live_counts_for_plan(year) == {
        "streams": 1,
        "peak_viewers": 37,
        "applications": 1,
    }
    assert selectors.live_counts_for_plan(year - 1) == {
        "streams": 0,
        "peak_viewers": 0,
        "applications": 0,
    }
    assert Question.objects.count() == 2


def test_one_click_apply_asks_consent_once(world: World, personas: dict[str, Any]) -> None:
    claim_talent(world.x, name="李晓彤", seq="102", phone=X_PHONE)
    stream = make_stream(world, personas[Role.HR_STAFF])
    client = Client()
    client.force_login(world.x)
    first = client.post(f"/live/{stream.pk}/apply/{world.posting_a.pk}/")
    assert first.json() == {"ok": False, "need_consent": True}
    assert Application.objects.count() == 0
    second = client.post(f"/live/{stream.pk}/apply/{world.posting_a.pk}/", {"consent": "1"})
    assert second.json()["ok"] is True
    third = client.post(f"/live/{stream.pk}/apply/{world.posting_b.pk}/")
    assert third.json()["ok"] is True
    not_featured = client.post(f"/live/{stream.pk}/apply/{world.draft_a.pk}/")
    assert not_featured.json() == {"ok": False, "message": "该岗位不在本场直播的推介岗位中"}
    assert StreamApplication.objects.filter(stream=stream).count() == 2
    assert Application.objects.filter(applicant=world.x).count() == 2


def test_staff_pages(world: World, personas: dict[str, Any], client_as: Any) -> None:
    stream = make_stream(world, personas[Role.HR_STAFF], live=False)
    staff = client_as(Role.HR_STAFF)
    assert "开始直播" in staff.get(f"/live/manage/{stream.pk}/").content.decode()
    staff.post(f"/live/manage/{stream.pk}/start/")
    stream.refresh_from_db()
    assert stream.state == Stream.State.LIVE
    page = client_as(Role.STUDENT).get(f"/live/{stream.pk}/")
    assert page.status_code == 200
    assert "一键投递" in page.content.decode()
    assert "/hls/fair.m3u8" in page.content.decode()
