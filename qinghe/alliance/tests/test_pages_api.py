"""Alliance pages and API as each role sees them."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from qinghe.alliance import services
from qinghe.alliance.models import Chapter, Membership
from qinghe.core.roles import Role
from qinghe.notifications.models import OutboxMessage

from .conftest import World, make_student

pytestmark = pytest.mark.django_db


def test_public_list_and_page_show_no_personal_data(alliance: World, client: Client) -> None:
    s = make_student("pub1", university=alliance.scut, graduation_year=2027)
    m = services.membership_apply(user=s, chapter=alliance.uni)
    services.membership_decide(actor=alliance.league, membership=m, approve=True)
    page = client.get("/alliance/")
    assert page.status_code == 200
    assert [c.name for c in page.context["page"]] == [
        "青鹤联盟·广州分会",
        "青鹤联盟·鹤山一中分会",
        "青鹤联盟·中山大学分会",
        "青鹤联盟·华南理工大学分会",
    ]
    detail = client.get(f"/alliance/{alliance.uni.pk}/")
    html = detail.content.decode()
    assert detail.context["chapter"].member_count == 1
    assert "梁pub1" not in html and "学子pub1" not in html
    assert "登录后申请加入" in html


def test_student_joins_and_leaves_through_the_pages(alliance: World, client_as: Any) -> None:
    client = client_as(Role.STUDENT)
    r = client.post(f"/alliance/{alliance.city.pk}/join/")
    assert r.status_code == 302
    m = Membership.objects.get(user=alliance.student, chapter=alliance.city)
    assert m.status == "pending"
    mine = client.get("/alliance/mine/")
    assert [x.pk for x in mine.context["pending"]] == [m.pk]
    r = client.post(f"/alliance/{alliance.city.pk}/join/", follow=True)
    assert "你已提交申请，请等待审核" in r.content.decode()
    assert Membership.objects.filter(user=alliance.student).count() == 1
    client.post(f"/alliance/{alliance.city.pk}/leave/")
    m.refresh_from_db()
    assert m.status == "left"


def test_leader_manages_own_chapter_only(alliance: World) -> None:
    leader = make_student("lead")
    Membership.objects.create(
        chapter=alliance.uni, user=leader, slot="university", status="active", role="leader"
    )
    applicant = make_student("ap", university=alliance.scut, graduation_year=2026)
    m = services.membership_apply(user=applicant, chapter=alliance.uni)
    m2 = services.membership_apply(user=make_student("ap2"), chapter=alliance.city)
    client = Client()
    client.force_login(leader)
    listing = client.get("/alliance/manage/")
    assert [c.pk for c in listing.context["page"]] == [alliance.uni.pk]
    page = client.get(f"/alliance/manage/{alliance.uni.pk}/")
    assert [(r.name, r.school, r.graduation_year) for r in page.context["pending"]] == [
        ("梁ap", "华南理工大学", 2026)
    ]
    assert client.get(f"/alliance/manage/{alliance.city.pk}/").status_code == 404
    # another chapter's application: 404, nothing changed
    assert (
        client.post(
            f"/alliance/manage/memberships/{m2.pk}/decide/", {"decision": "approve"}
        ).status_code
        == 404
    )
    m2.refresh_from_db()
    assert m2.status == "pending"
    # staff-only moves are refused to a leader by policy
    assert (
        client.post(f"/alliance/manage/{alliance.uni.pk}/retire/", {"reason": "x"}).status_code
        == 403
    )
    assert (
        client.post(f"/alliance/manage/memberships/{m.pk}/leader/", {"leader": "1"}).status_code
        == 403
    )
    r = client.post(f"/alliance/manage/memberships/{m.pk}/decide/", {"decision": "approve"})
    assert r.status_code == 302
    m.refresh_from_db()
    assert m.status == "active"
    assert Chapter.objects.get(pk=alliance.uni.pk).state == "active"


def test_a_plain_student_manages_nothing(alliance: World, client_as: Any) -> None:
    client = client_as(Role.STUDENT)
    assert list(client.get("/alliance/manage/").context["page"]) == []
    assert client.get(f"/alliance/manage/{alliance.uni.pk}/").status_code == 404
    before = Membership.objects.count()
    assert (
        client.post(
            f"/alliance/manage/{alliance.uni.pk}/invite/", {"phone": "13800138001"}
        ).status_code
        == 404
    )
    assert Membership.objects.count() == before


def test_staff_create_merge_and_retire_through_pages(alliance: World, client_as: Any) -> None:
    client = client_as(Role.LEAGUE_STAFF)
    r = client.post(
        "/alliance/manage/new/",
        {
            "name": "粤港联分部",
            "kind": "partner",
            "city": "香港",
            "description": "粤港两地鹤山学子",
        },
    )
    chapter = Chapter.objects.get(name="粤港联分部")
    assert r["Location"] == f"/alliance/manage/{chapter.pk}/"
    r = client.post(
        "/alliance/manage/new/",
        {"name": "北大分会", "kind": "university", "university_name": "北京大学"},
    )
    assert r.status_code == 200
    assert r.context["form"].errors == {
        "university_name": ["未找到该高校，请填写教育部名单中的全称"]
    }
    assert not Chapter.objects.filter(name="北大分会").exists()
    r = client.post(f"/alliance/manage/{alliance.uni.pk}/merge/", {"target": alliance.uni2.pk})
    assert r["Location"] == f"/alliance/manage/{alliance.uni2.pk}/"
    assert Chapter.objects.get(pk=alliance.uni.pk).state == "merged"
    r = client.post(f"/alliance/manage/{chapter.pk}/retire/", {"reason": ""}, follow=True)
    assert "请填写撤销原因" in r.content.decode()
    assert Chapter.objects.get(pk=chapter.pk).state == "active"
    client.post(f"/alliance/manage/{chapter.pk}/retire/", {"reason": "并入广州分会活动"})
    assert Chapter.objects.get(pk=chapter.pk).state == "retired"
    figures = client.get("/alliance/figures/")
    assert figures.context["f"].chapters == 3


def test_api_join_list_and_leave(alliance: World, client_as: Any) -> None:
    client = client_as(Role.STUDENT)
    listed = client.get("/api/v1/chapters", {"kind": "university"}).json()
    assert [c["name"] for c in listed] == ["青鹤联盟·中山大学分会", "青鹤联盟·华南理工大学分会"]
    assert listed[1]["university"] == "华南理工大学"
    r = client.post(f"/api/v1/chapters/{alliance.uni.pk}/memberships")
    assert r.status_code == 201
    assert (r.json()["status"], r.json()["chapter"]) == ("pending", "青鹤联盟·华南理工大学分会")
    r = client.post(f"/api/v1/chapters/{alliance.uni2.pk}/memberships")
    assert r.status_code == 400
    assert "每位学子只能加入一个高校分会" in r.json()["detail"]
    assert [m["status"] for m in client.get("/api/v1/chapters/memberships/mine").json()] == [
        "pending"
    ]
    r = client.delete(f"/api/v1/chapters/{alliance.uni.pk}/memberships/me")
    assert r.status_code == 200 and r.json()["status"] == "left"
    assert client.get("/api/v1/chapters/999999").status_code == 404
    # staff cannot join
    staff = client_as(Role.LEAGUE_STAFF)
    assert staff.post(f"/api/v1/chapters/{alliance.uni.pk}/memberships").status_code == 403
    assert OutboxMessage.objects.filter(user=alliance.league).count() == 0


def test_an_event_for_one_chapters_members(alliance: World, client_as: Any) -> None:
    import datetime as dt

    from django.utils import timezone

    from qinghe.events import services as events
    from qinghe.events.models import Event, Registration
    from qinghe.events.services import EventData

    now = timezone.now()
    data = EventData(
        type=Event.Type.CHAPTER,
        title="华工分会迎新会",
        place="华南理工大学",
        starts_at=now + dt.timedelta(days=5),
        ends_at=now + dt.timedelta(days=5, hours=2),
        registration_opens_at=now - dt.timedelta(hours=1),
        registration_closes_at=now + dt.timedelta(days=4),
        cancel_deadline=now + dt.timedelta(days=3),
        audience=Event.Audience.CHAPTER,
    )
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        events.event_create(actor=alliance.league, data=data)
    assert exc.value.message_dict == {"audience_chapter": ["请选择限定的分会（须为活跃分会）"]}
    data.audience_chapter = alliance.uni
    event = events.event_create(actor=alliance.league, data=data)
    events.event_transition(actor=alliance.league, event=event, action="publish")
    outsider = client_as(Role.STUDENT)
    r = outsider.post(f"/events/{event.pk}/register/", follow=True)
    assert "该活动仅限青鹤联盟·华南理工大学分会会员报名" in r.content.decode()
    assert Registration.objects.filter(event=event).count() == 0
    Membership.objects.create(
        chapter=alliance.uni, user=alliance.student, slot="university", status="active"
    )
    outsider.post(f"/events/{event.pk}/register/")
    assert Registration.objects.get(event=event).user_id == alliance.student.pk
    assert outsider.get(f"/api/v1/events/{event.pk}").json()["audience_chapter"] == (
        "青鹤联盟·华南理工大学分会"
    )


def test_api_a_leader_decides_applications_and_invites_and_the_student_answers(
    alliance: World,
) -> None:
    leader = make_student("lead")
    Membership.objects.create(
        chapter=alliance.uni, user=leader, slot="university", status="active", role="leader"
    )
    applicant = make_student("ap", university=alliance.scut, graduation_year=2026)
    refused = make_student("ap3")
    m = services.membership_apply(user=applicant, chapter=alliance.uni)
    m3 = services.membership_apply(user=refused, chapter=alliance.uni)
    m2 = services.membership_apply(user=make_student("ap2"), chapter=alliance.city)
    api = Client()
    api.force_login(leader)
    listed = api.get(f"/api/v1/chapters/{alliance.uni.pk}/members").json()
    assert [(r["membership_id"], r["name"], r["school"], r["graduation_year"]) for r in listed] == [
        (m.pk, "梁ap", "华南理工大学", 2026),
        (m3.pk, "学子ap3", "", None),
    ]
    assert "phone" not in listed[0]
    # another chapter: 404 for its list and its applications, nothing changed
    assert api.get(f"/api/v1/chapters/{alliance.city.pk}/members").status_code == 404
    r = api.post(
        f"/api/v1/chapters/memberships/{m2.pk}/decision",
        {"approve": True},
        content_type="application/json",
    )
    assert r.status_code == 404
    m2.refresh_from_db()
    assert m2.status == "pending"
    # a refusal needs a reason: 400, nothing changed, nobody told
    before = OutboxMessage.objects.count()
    r = api.post(
        f"/api/v1/chapters/memberships/{m3.pk}/decision",
        {"approve": False},
        content_type="application/json",
    )
    assert r.status_code == 400 and r.json()["errors"] == {"reason": ["请填写不通过的原因"]}
    m3.refresh_from_db()
    assert m3.status == "pending" and OutboxMessage.objects.count() == before
    r = api.post(
        f"/api/v1/chapters/memberships/{m3.pk}/decision",
        {"approve": False, "reason": "本分会只接收华南理工大学在读学子"},
        content_type="application/json",
    )
    assert (r.status_code, r.json()["status"]) == (200, "rejected")
    r = api.post(
        f"/api/v1/chapters/memberships/{m.pk}/decision",
        {"approve": True},
        content_type="application/json",
    )
    assert (r.status_code, r.json()["status"]) == (200, "active")
    assert (
        OutboxMessage.objects.filter(user=applicant, subject=f"你已加入{alliance.uni.name}").count()
        == 1
    )
    # deciding again: refused, nothing changed
    again = api.post(
        f"/api/v1/chapters/memberships/{m.pk}/decision",
        {"approve": False, "reason": "x"},
        content_type="application/json",
    )
    assert again.status_code == 400
    m.refresh_from_db()
    assert m.status == "active"

    # Invitations answer alike for a registered phone and an unknown one.
    invitee = make_student("inv", phone="13955556666")
    known = api.post(
        f"/api/v1/chapters/{alliance.uni.pk}/invitations",
        {"phone": "13955556666"},
        content_type="application/json",
    )
    unknown = api.post(
        f"/api/v1/chapters/{alliance.uni.pk}/invitations",
        {"phone": "13900000000"},
        content_type="application/json",
    )
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())
    assert known.status_code == 202
    invitation = Membership.objects.get(user=invitee, chapter=alliance.uni)
    assert invitation.status == "invited"
    assert Membership.objects.filter(status="invited").count() == 1
    bad = api.post(
        f"/api/v1/chapters/{alliance.uni.pk}/invitations",
        {"phone": "12345"},
        content_type="application/json",
    )
    assert bad.status_code == 400 and bad.json()["errors"] == {"phone": ["请输入正确的手机号"]}
    # someone else cannot answer the invitation; the invitee accepts it
    other = Client()
    other.force_login(applicant)
    r = other.post(
        f"/api/v1/chapters/memberships/{invitation.pk}/answer",
        {"accept": True},
        content_type="application/json",
    )
    assert r.status_code == 404
    invitation.refresh_from_db()
    assert invitation.status == "invited"
    mine = Client()
    mine.force_login(invitee)
    r = mine.post(
        f"/api/v1/chapters/memberships/{invitation.pk}/answer",
        {"accept": True},
        content_type="application/json",
    )
    assert (r.status_code, r.json()["status"]) == (200, "active")
    # a plain member (not a leader) manages nothing
    member_api = Client()
    member_api.force_login(applicant)
    assert member_api.get(f"/api/v1/chapters/{alliance.uni.pk}/members").status_code == 404


# Session, user (within a minute of the last push the staff session is not written, and the
# unread badge is kept: core/middleware.py, core/context_processors.py); the active members'
# ids, the active chapters, the members' latest educations (one query), the pending
# applications.
FIGURES_QUERIES = 6


def test_the_figures_page_costs_the_same_for_2_and_for_12_members(
    alliance: World, client_as: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_as(Role.LEAGUE_STAFF)
    shown = []
    for first, count in ((0, 2), (2, 10)):
        for n in range(first, first + count):
            s = make_student(f"fq{n}", university=alliance.scut, graduation_year=2026)
            m = services.membership_apply(user=s, chapter=alliance.uni)
            services.membership_decide(actor=alliance.league, membership=m, approve=True)
        client.get("/alliance/figures/")
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/alliance/figures/")
        assert response.status_code == 200
        shown.append((response.context["f"].members, len(captured)))
    assert shown == [(2, FIGURES_QUERIES), (12, FIGURES_QUERIES)]
