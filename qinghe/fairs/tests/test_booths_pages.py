"""Booth applications and review, the pages of the hall, booth, queue and staff page, and the
fair's figures."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from qinghe.core.errors import ApplicationError, PermissionDenied
from qinghe.core.roles import Role
from qinghe.fairs import selectors, services
from qinghe.fairs.models import Booth, HallVisit, QueueEntry
from qinghe.notifications.models import OutboxMessage
from qinghe.testing.recruiting import apply_to, claim_talent

from .conftest import Fair

pytestmark = pytest.mark.django_db


def test_an_enterprise_applies_with_its_open_postings_and_staff_approve(fair: Fair) -> None:
    world = fair.world
    with pytest.raises(ApplicationError, match="只能选择贵企业已发布的岗位"):
        services.booth_apply(actor=world.hr_b, fair=fair.fair, posting_ids=[world.draft_b.pk])
    with pytest.raises(ApplicationError, match="只能选择贵企业已发布的岗位"):
        services.booth_apply(actor=world.hr_b, fair=fair.fair, posting_ids=[world.posting_a.pk])
    with pytest.raises(ApplicationError, match="请至少选择一个参会岗位"):
        services.booth_apply(actor=world.hr_b, fair=fair.fair, posting_ids=[])
    with pytest.raises(PermissionDenied):
        services.booth_apply(actor=world.hr_c, fair=fair.fair, posting_ids=[])
    assert Booth.objects.filter(enterprise=world.b).count() == 0

    booth = services.booth_apply(actor=world.hr_b, fair=fair.fair, posting_ids=[world.posting_b.pk])
    assert booth.state == Booth.State.APPLIED
    assert list(booth.postings.all()) == [world.posting_b]
    with pytest.raises(ApplicationError, match="已申请"):
        services.booth_apply(actor=world.hr_b, fair=fair.fair, posting_ids=[world.posting_b.pk])
    with pytest.raises(PermissionDenied):
        services.booth_decide(actor=world.hr_a, booth=booth, approve=True)
    with pytest.raises(ApplicationError, match="请填写不通过的原因"):
        services.booth_decide(actor=fair.staff, booth=booth, approve=False)
    booth.refresh_from_db()
    assert booth.state == Booth.State.APPLIED and booth.decided_by is None

    services.booth_decide(actor=fair.staff, booth=booth, approve=False, note="岗位信息不完整")
    message = OutboxMessage.objects.get(user=world.hr_b, subject__startswith="展位申请")
    assert message.subject == f"展位申请未通过：{fair.fair.title}"
    assert "岗位信息不完整" in message.body
    # A rejected enterprise may apply again; then staff approve.
    booth = services.booth_apply(actor=world.hr_b, fair=fair.fair, posting_ids=[world.posting_b.pk])
    booth = services.booth_decide(actor=fair.staff, booth=booth, approve=True)
    assert booth.state == Booth.State.APPROVED
    assert [row.booth.enterprise for row in selectors.hall_booths(fair=fair.fair)] == sorted(
        [world.a, world.b], key=lambda e: e.name
    )


def test_the_queue_is_closed_outside_the_fair(fair: Fair) -> None:
    event = fair.fair
    event.starts_at = timezone.now() + dt.timedelta(hours=1)
    event.save(update_fields=["starts_at"])
    with pytest.raises(ApplicationError, match="招聘会尚未开始"):
        services.queue_join(user=fair.students[0], booth=fair.booth)
    assert QueueEntry.objects.count() == 0


def test_the_pages_walk_the_queue(fair: Fair, client_as: Any) -> None:
    booth = fair.booth
    student = client_as(Role.STUDENT)
    # The student persona is not registered: the hall says so and joining is refused.
    response = student.get(f"/fairs/{fair.fair.pk}/")
    assert response.status_code == 200
    assert "请先" in response.content.decode() and "雅图仕" in response.content.decode()
    response = student.post(f"/fairs/booths/{booth.pk}/join/", follow=True)
    assert "请先报名该招聘会再排队" in response.content.decode()
    assert QueueEntry.objects.count() == 0
    assert HallVisit.objects.filter(fair=fair.fair, user=fair.world.x).count() == 1
    # The fair's event page leads to the hall.
    assert (
        f'href="/fairs/{fair.fair.pk}/"' in student.get(f"/events/{fair.fair.pk}/").content.decode()
    )

    s1 = Client()
    s1.force_login(fair.students[0])
    response = s1.post(f"/fairs/booths/{booth.pk}/join/", follow=True)
    page = response.content.decode()
    assert "已加入队列" in page and 'data-testid="position">1<' in page
    hr = client_as(Role.ENTERPRISE_HR)
    page = hr.get(f"/fairs/booths/{booth.pk}/queue/").content.decode()
    assert "学" in page and 'data-testid="queue-length">1<' in page
    page = hr.post(f"/fairs/booths/{booth.pk}/next/", follow=True).content.decode()
    assert "已叫号" in page
    entry = QueueEntry.objects.get()
    assert entry.state == QueueEntry.State.CALLED
    page = s1.get(f"/fairs/booths/{booth.pk}/").content.decode()
    assert 'data-testid="called" >' in page  # shown, not hidden
    page = hr.post(f"/fairs/entries/{entry.pk}/finish/", {"outcome": "done"}, follow=True)
    assert "已标记为已面谈" in page.content.decode()
    # Another enterprise's HR gets 404 for this queue and its entries.
    other = Client()
    other.force_login(fair.world.hr_b)
    assert other.get(f"/fairs/booths/{booth.pk}/queue/").status_code == 404
    assert other.post(f"/fairs/entries/{entry.pk}/finish/", {"outcome": "done"}).status_code == 404
    # The invite form offers registered students not in the queue; inviting puts them first.
    page = hr.post(
        f"/fairs/booths/{booth.pk}/invite/", {"student": fair.students[1].pk}, follow=True
    ).content.decode()
    assert "已邀请" in page
    assert selectors.student_queue_state(user=fair.students[1], booth=booth)["position"] == 1


def test_staff_page_shows_the_figures(fair: Fair, client_as: Any) -> None:
    booth = fair.booth
    now = timezone.now()
    for s in fair.students[:4]:
        services.queue_join(user=s, booth=booth)
    services.queue_leave(user=fair.students[3], booth=booth)
    taken = services.queue_take_next(actor=fair.world.hr_a, booth=booth)
    services.queue_finish(actor=fair.world.hr_a, entry=taken, outcome="done")
    services.hall_visit_record(user=fair.students[5], fair=fair.fair)
    services.hall_visit_record(user=fair.students[0], fair=fair.fair)
    claim_talent(fair.students[6], name="学子七", seq="017", phone="13800000007")
    apply_to(fair.students[6], fair.world.posting_a)
    figures = selectors.fair_figures(fair.fair)
    per_booth = figures.pop("per_booth")
    assert figures == {
        "booths": 1,
        "visitors": 5,
        "queue_max": 4,
        "queue_avg": 4.0,
        "joined": 4,
        "taken": 1,
        "done": 1,
        "applications": 1,
        "offers": 0,
    }
    assert [
        (r.booth, r.queue_peak, r.joined, r.taken, r.applications, r.offers) for r in per_booth
    ] == [(booth, 4, 4, 1, 1, 0)]
    assert selectors.fairs_counts_for_plan(timezone.localtime(now).year) == {
        "applications": 1,  # the same application the fair's own figures count
        "fairs": 1,
        "booths": 1,
        "students_served": 1,
    }
    from qinghe.plan.selectors import gathering_figures

    board = {f.label: f.value for f in gathering_figures(year=timezone.localtime(now).year)}
    assert (board["云招聘会"], board["云招聘展位"], board["云招聘面谈"]) == (1, 1, 1)
    assert selectors.fairs_counts_for_plan(now.year - 1) == {
        "applications": 0,
        "fairs": 0,
        "booths": 0,
        "students_served": 0,
    }
    page = client_as(Role.HR_STAFF).get(f"/fairs/{fair.fair.pk}/manage/")
    assert page.status_code == 200 and 'data-testid="fair-figures"' in page.content.decode()
    assert client_as(Role.ENTERPRISE_HR).get(f"/fairs/{fair.fair.pk}/manage/").status_code == 403
