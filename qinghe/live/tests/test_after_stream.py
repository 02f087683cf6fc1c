"""After a stream (issue 15 item 4): the watch page shows the replay and the figures (peak
viewers, questions, applications per featured posting), each equal to a count of the rows;
staff set or correct the replay address of an ended stream, nobody else can, and a refused or
bad address changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from qinghe.core.models import AuditLog
from qinghe.core.roles import ALL_ROLES, Role
from qinghe.live import services
from qinghe.live.models import Question, Stream, StreamApplication
from qinghe.testing.recruiting import X_PHONE, Y_PHONE, claim_talent
from qinghe.testing.world import World

from .helpers import make_stream

pytestmark = pytest.mark.django_db


def _ended(world: World, staff: Any) -> Stream:
    claim_talent(world.x, name="李晓彤", seq="102", phone=X_PHONE)
    claim_talent(world.y, name="王一鸣", seq="103", phone=Y_PHONE)
    stream = make_stream(world, staff)
    services.question_ask(actor=world.x, stream=stream, text="有宿舍吗")
    q = services.question_ask(actor=world.y, stream=stream, text="试用期多久")
    services.question_answer(actor=staff, stream=stream, question_id=q.pk, text="三个月")
    for student in (world.x, world.y):
        services.apply_from_stream(
            actor=student, stream=stream, posting_id=world.posting_b.pk, consent=True
        )
    services.apply_from_stream(
        actor=world.x, stream=stream, posting_id=world.posting_a.pk, consent=True
    )
    Stream.objects.filter(pk=stream.pk).update(peak_viewers=128)
    return services.stream_end(actor=staff, stream=stream)


def test_the_watch_page_after_the_stream_shows_replay_and_figures(
    world: World, personas: dict[str, Any], client_as: Any
) -> None:
    staff = personas[Role.LEAGUE_STAFF]
    stream = _ended(world, staff)
    page = client_as(Role.STUDENT).get(f"/live/{stream.pk}/").content.decode()
    assert "回放整理中" in page and 'data-testid="replay-link"' not in page
    assert f'<div class="fs-5" data-testid="fig-peak">{128}</div>' in page
    questions = Question.objects.filter(stream=stream).count()
    assert questions == 2
    assert f'data-testid="fig-questions">{questions}</div>' in page
    assert 'data-testid="fig-answered">1</div>' in page
    assert StreamApplication.objects.filter(stream=stream).count() == 3
    assert 'data-testid="fig-applications">3</div>' in page
    per_posting = {
        p.pk: StreamApplication.objects.filter(stream=stream, application__posting=p).count()
        for p in (world.posting_a, world.posting_b)
    }
    assert per_posting == {world.posting_a.pk: 1, world.posting_b.pk: 2}
    for posting, n in ((world.posting_a, 1), (world.posting_b, 2)):
        assert (
            f'<span class="text-break">{posting.enterprise.name} · {posting.title}</span>'
            f'<span class="text-nowrap">投递 {n}</span>'
        ) in page

    # Staff add the replay once the recording is ready: the page plays it and links to it.
    staff_client = client_as(Role.LEAGUE_STAFF)
    reply = staff_client.post(
        f"/live/manage/{stream.pk}/replay/", {"replay_url": "/hls/replay-2026.m3u8"}, follow=True
    )
    assert "回放地址已保存。" in reply.content.decode()
    page = client_as(Role.STUDENT).get(f"/live/{stream.pk}/").content.decode()
    assert 'data-src="/hls/replay-2026.m3u8"' in page
    assert 'href="#player" data-testid="replay-link">播放回放</a>' in page
    assert "可看回放" in client_as(Role.STUDENT).get("/live/").content.decode()
    assert AuditLog.objects.filter(summary=f"设置直播回放：{stream.title}").count() == 1


def test_a_live_stream_shows_no_after_stream_figures(
    world: World, personas: dict[str, Any], client_as: Any
) -> None:
    stream = make_stream(world, personas[Role.HR_STAFF])
    page = client_as(Role.STUDENT).get(f"/live/{stream.pk}/").content.decode()
    assert 'data-testid="after-stream"' not in page
    reply = client_as(Role.HR_STAFF).post(
        f"/live/manage/{stream.pk}/replay/", {"replay_url": "/hls/r.m3u8"}, follow=True
    )
    assert "直播结束后才能设置回放地址" in reply.content.decode()
    stream.refresh_from_db()
    assert stream.replay_url == ""


def test_only_event_staff_set_the_replay_and_a_bad_address_changes_nothing(
    world: World, personas: dict[str, Any]
) -> None:
    stream = _ended(world, personas[Role.HR_STAFF])
    services.stream_set_replay(
        actor=personas[Role.HR_STAFF], stream=stream, replay_url="/hls/first.m3u8"
    )
    allowed = {Role.HR_STAFF, Role.LEAGUE_STAFF, Role.SYSADMIN}
    expected = "/hls/first.m3u8"
    for role in ALL_ROLES:
        client = Client()
        client.force_login(personas[role])
        url = f"/hls/{role}.m3u8"
        answer = client.post(f"/live/manage/{stream.pk}/replay/", {"replay_url": url})
        if role in allowed:
            expected = url
        stream.refresh_from_db()
        code = 302 if role in allowed else 403
        assert (role, answer.status_code, stream.replay_url) == (role, code, expected)
    before = Stream.objects.get(pk=stream.pk).replay_url
    client = Client()
    client.force_login(personas[Role.HR_STAFF])
    answer = client.post(
        f"/live/manage/{stream.pk}/replay/", {"replay_url": "https://x/replay.mp4"}, follow=True
    )
    assert "回放地址须是以 .m3u8 结尾的 HLS 播放地址" in answer.content.decode()
    assert Stream.objects.get(pk=stream.pk).replay_url == before
    anonymous = Client().post(f"/live/manage/{stream.pk}/replay/", {"replay_url": "/hls/z.m3u8"})
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    assert Stream.objects.get(pk=stream.pk).replay_url == before
