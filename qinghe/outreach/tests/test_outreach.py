"""Liaison assignment, the one-step contact log, contact rates, consultations, campaigns."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.core.roles import Role
from qinghe.notifications.delivery import deliver_pending
from qinghe.notifications.models import Channel, OutboxMessage, Unsubscription
from qinghe.outreach.models import (
    AssignmentRule,
    Campaign,
    Consultation,
    ContactLog,
    LiaisonAssignment,
)
from qinghe.outreach.selectors import contact_rate, workspace
from qinghe.outreach.services import (
    assignment_set,
    assignments_apply_rules,
    assignments_bulk_reassign,
    campaign_create,
    campaign_preview,
    campaign_send,
    contact_log_record,
)
from qinghe.talents.models import Consent, Segment, Source
from qinghe.talents.tests.factories import make_talent

pytestmark = pytest.mark.django_db


def consent(talent: Any, granted: bool = True) -> None:
    Consent.objects.create(
        talent=talent, purpose=Consent.Purpose.LIAISON, granted=granted, notice_version="2026-01"
    )


@pytest.fixture
def world(personas: Any) -> dict[str, Any]:
    liaison = personas[Role.LIAISON]
    other = User.objects.create(username="zhuanyuan2", role=Role.LIAISON, display_name="陈少敏")
    mine = make_talent(name="李晓彤", user=personas[Role.STUDENT], phone="13912340001")
    theirs = make_talent(name="周子豪", phone="13912340002", university="中山大学")
    assignment_set(talent=mine, liaison=liaison, actor=personas[Role.HR_STAFF])
    assignment_set(talent=theirs, liaison=other, actor=personas[Role.HR_STAFF])
    return {
        "liaison": liaison,
        "other": other,
        "mine": mine,
        "theirs": theirs,
        "hr": personas[Role.HR_STAFF],
        "student": personas[Role.STUDENT],
    }


def test_rules_assign_the_least_loaded_liaison_and_reassignment_keeps_history(
    world: dict[str, Any],
) -> None:
    a, b = world["liaison"], world["other"]
    rule = AssignmentRule.objects.create(kind=AssignmentRule.Kind.UNIVERSITY, value="华南理工大学")
    rule.liaisons.set([a, b])
    for i in range(3):
        make_talent(name=f"新生{i}", phone=None)
    make_talent(name="外校生", phone=None, university="暨南大学")
    assert assignments_apply_rules(actor=world["hr"]) == 3
    loads = {u: LiaisonAssignment.objects.filter(liaison=u, active=True).count() for u in (a, b)}
    # each had one student; the least loaded gets the next one (ties: the earlier account)
    assert loads == {a: 3, b: 2}
    moved = assignments_bulk_reassign(
        from_id=b.pk, to_id=a.pk, actor=world["hr"], reason="专员调岗"
    )
    assert moved == 2
    assert LiaisonAssignment.objects.filter(liaison=b, active=True).count() == 0
    assert (
        LiaisonAssignment.objects.filter(liaison=b, active=False, ended_at__isnull=False).count()
        == 2
    )
    assert LiaisonAssignment.objects.filter(liaison=a, active=True).count() == 5


def test_one_step_contact_log_updates_the_record_with_the_liaison_as_source(
    world: dict[str, Any], client_as: Any
) -> None:
    follow = timezone.localdate() + dt.timedelta(days=7)
    response = client_as(Role.LIAISON).post(
        f"/outreach/students/{world['mine'].pk}/contact/",
        {
            "channel": "phone",
            "outcome": "reached",
            "notes": "已回鹤山，在找工作",
            "next_follow_up": follow.isoformat(),
            "wechat": "xiaotong_hs",
        },
    )
    assert response.status_code == 302
    log = ContactLog.objects.get()
    assert (log.channel, log.outcome, log.next_follow_up) == ("phone", "reached", follow)
    talent = world["mine"]
    talent.refresh_from_db()
    assert talent.wechat == "xiaotong_hs"
    assert talent.provenance["wechat"]["source"] == Source.LIAISON


def test_wrong_number_flags_the_phone_and_puts_the_student_on_the_lost_list(
    world: dict[str, Any],
) -> None:
    contact_log_record(
        liaison=world["liaison"],
        talent_id=world["mine"].pk,
        channel="phone",
        outcome="wrong_number",
    )
    assert world["mine"].phones.get().is_wrong is True
    ws = workspace(liaison=world["liaison"])
    assert [s.pk for s in ws.lost] == [world["mine"].pk]


def test_workspace_shows_due_today_overdue_and_days_since_last_contact(
    world: dict[str, Any],
) -> None:
    today = timezone.localdate()
    contact_log_record(
        liaison=world["liaison"],
        talent_id=world["mine"].pk,
        channel="wechat",
        outcome="reached",
        next_follow_up=today,
    )
    ws = workspace(liaison=world["liaison"])
    assert [s.pk for s in ws.students] == [world["mine"].pk]
    assert [s.pk for s in ws.due_today] == [world["mine"].pk]
    assert ws.students[0].days_since == 0 and ws.lost == []
    assert [
        s.pk
        for s in workspace(liaison=world["liaison"], today=today + dt.timedelta(days=1)).overdue
    ] == [world["mine"].pk]


def test_a_liaison_cannot_reach_another_liaisons_student(
    world: dict[str, Any], client_as: Any
) -> None:
    client = client_as(Role.LIAISON)
    assert client.get(f"/outreach/students/{world['theirs'].pk}/contact/").status_code == 404
    assert (
        client.post(
            f"/outreach/students/{world['theirs'].pk}/contact/",
            {"channel": "phone", "outcome": "reached"},
        ).status_code
        == 404
    )
    assert ContactLog.objects.count() == 0


def test_contact_rate_per_liaison_and_overall(world: dict[str, Any], client_as: Any) -> None:
    today = timezone.localdate()
    contact_log_record(
        liaison=world["liaison"], talent_id=world["mine"].pk, channel="phone", outcome="reached"
    )
    contact_log_record(
        liaison=world["other"], talent_id=world["theirs"].pk, channel="phone", outcome="not_reached"
    )
    fig = contact_rate(start=today - dt.timedelta(days=30), end=today)
    assert (fig["assigned"], fig["reached"], fig["rate"]) == (2, 1, 50.0)
    assert {r["liaison"]: r["rate"] for r in fig["rows"]} == {"冯家乐": 100.0, "陈少敏": 0.0}
    page = client_as(Role.HR_STAFF).get("/outreach/figures/")
    assert page.status_code == 200 and "联络率 50.0%" in page.content.decode()


def test_consultation_is_routed_to_the_liaison_answered_and_rated(
    world: dict[str, Any], client_as: Any
) -> None:
    student = client_as(Role.STUDENT)
    assert (
        student.post(
            "/outreach/consult/", {"topic": "housing", "question": "人才公寓怎么申请？"}
        ).status_code
        == 302
    )
    c = Consultation.objects.get()
    assert c.liaison == world["liaison"] and not c.overdue
    assert OutboxMessage.objects.filter(user=world["liaison"], channel=Channel.INBOX).count() == 1
    assert (
        client_as(Role.LIAISON)
        .post(f"/outreach/consultations/{c.pk}/answer/", {"answer": "在“鹤才通”小程序申请"})
        .status_code
        == 302
    )
    c.refresh_from_db()
    assert c.state == Consultation.State.ANSWERED
    assert (
        student.post(
            f"/outreach/consult/{c.pk}/rate/", {"rating": "5", "comment": "很及时"}
        ).status_code
        == 302
    )
    c.refresh_from_db()
    assert (c.state, c.rating) == (Consultation.State.CLOSED, 5)
    Consultation.objects.filter(pk=c.pk).update(
        state=Consultation.State.OPEN, due_at=timezone.now() - dt.timedelta(hours=1)
    )
    c.refresh_from_db()
    assert c.overdue


def test_campaign_preview_counts_per_channel_after_consent_and_unsubscribes(
    world: dict[str, Any], personas: Any, django_capture_on_commit_callbacks: Any
) -> None:
    hr = world["hr"]
    others = [User.objects.create(username=f"s{i}", role=Role.STUDENT) for i in range(3)]
    talents = [make_talent(name=f"学子{i}", user=u, phone=None) for i, u in enumerate(others)]
    consent(world["mine"])
    consent(talents[0])
    consent(talents[1])
    consent(talents[2], False)  # withdrew: nothing on any channel
    Unsubscription.objects.create(user=others[1], channel=Channel.SMS)
    segment = Segment.objects.create(name="全部", filters={}, owner=hr)
    campaign = campaign_create(
        actor=hr,
        segment=segment,
        kind="policy",
        title="青年创业补贴",
        body="申请开始了",
        channels=["inbox", "sms"],
    )
    preview = campaign_preview(campaign=campaign)
    assert preview["members"] == 4
    assert preview["counts"] == {"inbox": 3, "sms": 2}
    with django_capture_on_commit_callbacks(execute=True):
        campaign_send(actor=hr, campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.QUEUED and campaign.recipients == 3
    assert OutboxMessage.objects.filter(campaign=campaign, channel=Channel.SMS).count() == 2
    assert not OutboxMessage.objects.filter(user=others[2]).exists()
    assert not OutboxMessage.objects.filter(user=others[1], channel=Channel.SMS).exists()


def test_a_scheduled_campaign_waits(world: dict[str, Any]) -> None:
    segment = Segment.objects.create(name="全部", filters={}, owner=world["hr"])
    campaign = campaign_create(
        actor=world["hr"],
        segment=segment,
        kind="event",
        title="暑期返乡见面会",
        body="欢迎报名",
        channels=["inbox"],
    )
    campaign_send(actor=world["hr"], campaign=campaign, when=timezone.now() + dt.timedelta(days=1))
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.SCHEDULED and campaign.scheduled_for is not None


def test_campaign_pages_for_staff(world: dict[str, Any], client_as: Any) -> None:
    Segment.objects.create(name="全部", filters={}, owner=world["hr"])
    client = client_as(Role.HR_STAFF)
    seg = Segment.objects.get()
    response = client.post(
        "/outreach/campaigns/",
        {
            "segment": seg.pk,
            "kind": "news",
            "title": "产业资讯",
            "body": "本周",
            "channels": ["inbox"],
        },
    )
    c = Campaign.objects.get()
    assert response["Location"] == f"/outreach/campaigns/{c.pk}/"
    assert "预览" in client.get(f"/outreach/campaigns/{c.pk}/").content.decode()
    assert client.post(f"/outreach/campaigns/{c.pk}/send/").status_code == 302
    assert deliver_pending().sent == 0  # inbox only: delivered on commit
    assert client_as(Role.LIAISON).get(f"/outreach/campaigns/{c.pk}/").status_code == 403


def test_rules_by_chapter_and_by_city_of_work(world: dict[str, Any]) -> None:
    from qinghe.accounts.services import organisation_get_or_create
    from qinghe.talents.models import Destination, Talent

    a, b = world["liaison"], world["other"]
    before = {u: LiaisonAssignment.objects.filter(liaison=u, active=True).count() for u in (a, b)}
    chapter = organisation_get_or_create(kind="chapter", name="青鹤联盟·深圳分会")
    member = make_talent(name="深圳会员", phone=None, university="暨南大学")
    Talent.objects.filter(pk=member.pk).update(chapter=chapter)
    worker = make_talent(name="广州打工", phone=None, university="暨南大学")
    Destination.objects.create(
        talent=worker,
        kind="employed",
        region_text="广东省广州市天河区",
        year=2025,
        source=Source.SURVEY,
    )
    make_talent(name="无关", phone=None, university="暨南大学")
    by_chapter = AssignmentRule.objects.create(
        kind=AssignmentRule.Kind.CHAPTER, value="青鹤联盟·深圳分会", priority=1
    )
    by_chapter.liaisons.set([a])
    by_city = AssignmentRule.objects.create(kind=AssignmentRule.Kind.CITY, value="广州", priority=2)
    by_city.liaisons.set([b])
    assert assignments_apply_rules(actor=world["hr"]) == 2
    assert LiaisonAssignment.objects.get(talent=member, active=True).liaison == a
    assert LiaisonAssignment.objects.get(talent=worker, active=True).liaison == b
    after = {u: LiaisonAssignment.objects.filter(liaison=u, active=True).count() for u in (a, b)}
    assert after == {a: before[a] + 1, b: before[b] + 1}


def test_a_consultation_and_its_answer_reach_the_inbox_with_a_link(
    world: dict[str, Any], client_as: Any
) -> None:
    from django.urls import reverse

    student = client_as(Role.STUDENT)
    student.post("/outreach/consult/", {"topic": "housing", "question": "人才公寓怎么申请？"})
    c = Consultation.objects.get()
    [asked] = OutboxMessage.objects.filter(user=world["liaison"], channel=Channel.INBOX)
    assert (asked.subject, asked.data["url"]) == (
        "新的点单咨询：住房安居",
        reverse("outreach:consultations"),
    )
    client_as(Role.LIAISON).post(
        f"/outreach/consultations/{c.pk}/answer/", {"answer": "在“鹤才通”小程序申请"}
    )
    [answered] = OutboxMessage.objects.filter(user=world["student"], channel=Channel.INBOX)
    link = reverse("outreach:my_consultations")
    assert (answered.subject, answered.data["url"]) == ("你的咨询已答复：住房安居", link)
    opened = student.get(reverse("notifications:message", args=[answered.pk]))
    assert opened.status_code == 200 and f'href="{link}"' in opened.content.decode()
    page = student.get(link)
    assert page.status_code == 200 and "在“鹤才通”小程序申请" in page.content.decode()
    # Nobody else opens the student's message, and the other liaison does not see the answer.
    assert (
        client_as(Role.LIAISON)
        .get(reverse("notifications:message", args=[answered.pk]))
        .status_code
        == 404
    )
    assert "在“鹤才通”小程序申请" not in client_as(Role.ENTERPRISE_HR).get(link).content.decode()
