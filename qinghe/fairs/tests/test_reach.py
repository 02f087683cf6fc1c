"""Reaching the cloud platform (issue 15): the menu leads students, enterprises and event staff
to the fairs, the streams and their video interviews; 我的视频面试 lists exactly the rooms the
viewer is a party to; the fair list leads an enterprise to its booth and marks what staff must
review; each 工作台 counts what its links list and names the booth to go to now."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from qinghe.core.navigation import menu_for
from qinghe.core.roles import ALL_ROLES, Role
from qinghe.events.models import Event
from qinghe.fairs import services
from qinghe.fairs.models import Booth
from qinghe.live.tests.helpers import make_stream
from qinghe.video.models import VideoRoom
from qinghe.video.services import room_create
from qinghe.workbench.selectors import workbench_for

from .conftest import Fair

pytestmark = pytest.mark.django_db

CLOUD: set[str] = {"fairs:list", "live:list", "live:manage", "video:mine"}
EXPECTED_MENU: dict[str, set[str]] = {
    Role.STUDENT: {"fairs:list", "live:list", "video:mine"},
    Role.AMBASSADOR: {"fairs:list", "live:list", "video:mine"},
    Role.ENTERPRISE_HR: {"fairs:list", "live:list", "video:mine"},
    Role.HR_STAFF: {"fairs:list", "live:list", "live:manage", "video:mine"},
    Role.SYSADMIN: {"fairs:list", "live:list", "live:manage", "video:mine"},
    Role.LEAGUE_STAFF: {"fairs:list", "live:list", "live:manage"},
}


def test_the_menu_leads_each_role_to_the_cloud_platform(personas: dict[str, Any]) -> None:
    for role in ALL_ROLES:
        shown = {item.url_name for item in menu_for(personas[role])} & CLOUD
        assert (role, shown) == (role, EXPECTED_MENU.get(role, set()))
        client = Client()
        client.force_login(personas[role])
        for name in shown:  # every entry shown opens
            from django.urls import reverse

            assert (role, name, client.get(reverse(name)).status_code) == (role, name, 200)


def test_my_video_interviews_lists_exactly_the_viewers_rooms(
    fair: Fair, personas: dict[str, Any]
) -> None:
    w = fair.world
    s = fair.students
    mine = room_create(interviewer=w.hr_a, student=s[0], minutes=15, source=VideoRoom.Source.FAIR)
    other = room_create(
        interviewer=w.hr_b, student=s[1], minutes=30, source=VideoRoom.Source.DIRECT
    )
    VideoRoom.objects.filter(pk=other.pk).update(state=VideoRoom.State.ENDED)

    def listed(user: Any) -> str:
        client = Client()
        client.force_login(user)
        return client.get("/video/").content.decode()

    page = listed(s[0])
    assert page.count('data-testid="room-link"') == 1
    assert f'href="/video/{mine.uuid}/" data-testid="room-link"' in page
    assert w.a.name in page and w.b.name not in page
    hr_page = listed(w.hr_a)  # the enterprise side sees the student's name masked
    assert f'href="/video/{mine.uuid}/"' in hr_page and str(other.uuid) not in hr_page
    assert "fair_s01" not in hr_page
    assert f"/video/{other.uuid}/" not in listed(s[0])
    assert "暂无待进行的视频面试。" in listed(w.hr_b)  # B's only room has ended
    # Staff see a room only where the student agreed to observers.
    assert str(mine.uuid) not in listed(personas[Role.HR_STAFF])
    VideoRoom.objects.filter(pk=mine.pk).update(observers_allowed=True)
    assert f'href="/video/{mine.uuid}/"' in listed(personas[Role.HR_STAFF])
    # Roles with no part in video interviews are refused the page.
    for role in (Role.LIAISON, Role.AUDITOR, Role.PARTNER, Role.EDU_STAFF, Role.LEAGUE_STAFF):
        client = Client()
        client.force_login(personas[role])
        assert (role, client.get("/video/").status_code) == (role, 403)


def test_the_fair_list_leads_to_the_booth_and_filters_running(
    fair: Fair, client_as: Any, personas: dict[str, Any]
) -> None:
    staff = personas[Role.HR_STAFF]
    assert staff.organisation is not None
    later = Event.objects.create(
        title="秋季空中双选会",
        type=Event.Type.CLOUD_FAIR,
        organiser=staff.organisation,
        created_by=staff,
        state=Event.State.PUBLISHED,
        starts_at=timezone.now() + dt.timedelta(days=30),
        ends_at=timezone.now() + dt.timedelta(days=31),
        registration_opens_at=timezone.now(),
        registration_closes_at=timezone.now() + dt.timedelta(days=29),
        cancel_deadline=timezone.now() + dt.timedelta(days=29),
    )
    Booth.objects.create(
        fair=later, enterprise=fair.world.b, state=Booth.State.APPLIED, applied_at=timezone.now()
    )
    hr = client_as(Role.ENTERPRISE_HR).get("/fairs/").content.decode()
    assert f'href="/fairs/booths/{fair.booth.pk}/queue/" data-testid="own-booth"' in hr
    assert f'href="/fairs/{later.pk}/apply/"' in hr
    running = client_as(Role.STUDENT).get("/fairs/?show=running").content.decode()
    assert fair.fair.title in running and later.title not in running
    staff_page = client_as(Role.HR_STAFF).get("/fairs/").content.decode()
    assert staff_page.count('<span class="badge text-bg-warning">待审核</span>') == 1


def test_workbenches_count_the_cloud_platform_and_say_where_to_go(
    fair: Fair, personas: dict[str, Any]
) -> None:
    w = fair.world
    s = fair.students
    services.queue_join(user=s[0], booth=fair.booth)
    services.queue_join(user=s[1], booth=fair.booth)
    make_stream(w, personas[Role.HR_STAFF])
    room_create(interviewer=w.hr_a, student=s[0], minutes=15, source=VideoRoom.Source.FAIR)
    Booth.objects.create(
        fair=fair.fair, enterprise=w.b, state=Booth.State.APPLIED, applied_at=timezone.now()
    )

    student = workbench_for(viewer=s[0])
    assert {
        k: student.figure(k).value for k in ("video_open", "fairs_running", "streams_upcoming")
    } == {"video_open": 1, "fairs_running": 1, "streams_upcoming": 1}
    queue_todos = [t for t in student.todos if t.key.startswith("queue_")]
    assert [(t.text, t.url) for t in queue_todos] == [
        (f"正在排队：{w.a.name}展位", f"/fairs/booths/{fair.booth.pk}/")
    ]
    assert [t.text for t in student.todos if t.key == "video_open"] == ["进入 1 场待进行的视频面试"]

    hr = workbench_for(viewer=w.hr_a)
    assert [(t.text, t.url) for t in hr.todos if t.key.startswith("booth_")] == [
        (f"2 位学子在本企业展位排队（{fair.fair.title}）", f"/fairs/booths/{fair.booth.pk}/queue/")
    ]
    assert hr.figure("video_open").value == 1
    assert [t for t in workbench_for(viewer=w.hr_b).todos if t.key.startswith("booth_")] == []

    for role in (Role.HR_STAFF, Role.LEAGUE_STAFF, Role.SYSADMIN):
        wb = workbench_for(viewer=personas[role])
        assert (role, wb.figure("booths_review").value) == (role, 1)
        assert (role, wb.figure("streams_upcoming").url) == (role, "/live/manage/")
