"""The events pages and API, end to end through the test client, and who reaches what."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.core.roles import ALL_ROLES, Role
from qinghe.events.checkin import make_code
from qinghe.events.models import Event, Registration
from qinghe.outreach.models import ContactLog

from .conftest import World
from .factories import make_event, make_student

pytestmark = pytest.mark.django_db

STAFF: set[str] = {Role.HR_STAFF, Role.LEAGUE_STAFF, Role.SYSADMIN}
ORGANISERS: set[str] = STAFF | {Role.ENTERPRISE_HR, Role.AMBASSADOR}
SELF: set[str] = {Role.STUDENT, Role.AMBASSADOR}

# (method, path with {id}, roles let through). Every page and API operation of the app.
EXPECTED: list[tuple[str, str, set[str]]] = [
    ("GET", "/events/", set(ALL_ROLES)),
    ("GET", "/events/{id}/", set(ALL_ROLES)),
    ("POST", "/events/{id}/register/", SELF),
    ("POST", "/events/{id}/unregister/", SELF),
    ("GET", "/events/mine/", SELF),
    ("GET", "/events/manage/", ORGANISERS),
    ("GET", "/events/manage/new/", ORGANISERS),
    ("POST", "/events/manage/new/", ORGANISERS),
    ("GET", "/events/manage/{id}/", ORGANISERS),
    ("GET", "/events/manage/{id}/edit/", ORGANISERS),
    ("POST", "/events/manage/{id}/edit/", ORGANISERS),
    ("POST", "/events/manage/{id}/submit/", {str(Role.ENTERPRISE_HR), str(Role.AMBASSADOR)}),
    ("POST", "/events/manage/{id}/publish/", STAFF),
    ("POST", "/events/manage/{id}/return/", STAFF),
    ("POST", "/events/manage/{id}/cancel/", STAFF),
    ("POST", "/events/manage/{id}/finish/", STAFF),
    ("GET", "/events/{id}/registrations/", STAFF),
    ("GET", "/events/{id}/checkin/", STAFF),
    ("POST", "/events/{id}/checkin/", STAFF),
    ("GET", "/events/{id}/checkin/offline.json", STAFF),
    ("POST", "/events/{id}/checkin/sync/", STAFF),
    ("GET", "/api/v1/events", set(ALL_ROLES)),
    ("GET", "/api/v1/events/{id}", set(ALL_ROLES)),
    ("POST", "/api/v1/events/{id}/registrations", SELF),
    ("DELETE", "/api/v1/events/{id}/registrations/me", SELF),
    ("POST", "/api/v1/events/{id}/checkins", STAFF),
]


@pytest.mark.parametrize(("method", "path", "allowed"), EXPECTED)
def test_each_page_and_operation_lets_in_exactly_these_roles(
    method: str, path: str, allowed: set[str], personas: dict[str, User]
) -> None:
    let_in: set[str] = set()
    for role in ALL_ROLES:
        client = Client()
        client.force_login(personas[role])
        response = client.generic(method, path.format(id=999999))
        if not getattr(response, "policy_refused", False):
            let_in.add(role)
    assert let_in == allowed
    anonymous = Client().generic(method, path.format(id=999999))
    assert getattr(anonymous, "policy_refused", False) is True


# ---- pages ---------------------------------------------------------------------------------


@pytest.fixture
def live(world: World) -> Event:
    """A published talk in ten days, registration open now, two places."""
    return make_event(world.a.organisation, now=timezone.now(), title="鹤山青年人才分享会")


def test_the_list_shows_published_events_to_everyone_and_filters_by_type(
    world: World, live: Event, client_as: Any
) -> None:
    make_event(world.a.organisation, now=timezone.now(), title="草稿活动", state="draft")
    for role in ALL_ROLES:
        body = client_as(role).get("/events/").content.decode()
        assert "鹤山青年人才分享会" in body
        assert "草稿活动" not in body
    assert (
        "鹤山青年人才分享会"
        not in client_as(Role.STUDENT).get("/events/?type=study_tour").content.decode()
    )
    month = timezone.localtime(live.starts_at).strftime("%Y-%m")
    assert (
        "鹤山青年人才分享会"
        in client_as(Role.STUDENT).get(f"/events/?month={month}").content.decode()
    )


def test_a_student_registers_sees_the_qr_and_cancels(
    world: World, live: Event, client_as: Any, personas: dict[str, User]
) -> None:
    student = client_as(Role.STUDENT)
    page = student.get(f"/events/{live.pk}/").content.decode()
    assert "立即报名" in page
    response = student.post(f"/events/{live.pk}/register/")
    assert response.status_code == 302
    reg = Registration.objects.get(event=live, user=personas[Role.STUDENT])
    assert reg.status == "confirmed"
    assert "你已报名" in student.get(f"/events/{live.pk}/").content.decode()
    mine = student.get("/events/mine/").content.decode()
    assert "data:image/svg+xml;base64," in mine
    assert "鹤山青年人才分享会" in mine
    student.post(f"/events/{live.pk}/unregister/")
    reg.refresh_from_db()
    assert reg.status == "cancelled"
    assert "data:image/svg+xml" not in student.get("/events/mine/").content.decode()


def test_a_full_event_puts_the_student_on_the_waiting_list_with_a_position(
    world: World, live: Event, client_as: Any
) -> None:
    live.capacity = 1
    live.save()
    make_student("first")
    Registration.objects.create(
        event=live,
        user=User.objects.get(username="first"),
        status="confirmed",
        registered_at=timezone.now(),
    )
    student = client_as(Role.STUDENT)
    assert "名额已满，报名候补" in student.get(f"/events/{live.pk}/").content.decode()
    student.post(f"/events/{live.pk}/register/")
    assert "候补名单第 <strong>1</strong> 位" in student.get(f"/events/{live.pk}/").content.decode()
    assert "候补第 <strong>1</strong> 位" in student.get("/events/mine/").content.decode()


def test_drafts_are_hidden_from_students_and_other_enterprises(
    world: World, client_as: Any
) -> None:
    draft = make_event(world.a.organisation, now=timezone.now(), state="draft")
    assert client_as(Role.STUDENT).get(f"/events/{draft.pk}/").status_code == 404
    assert client_as(Role.STUDENT).post(f"/events/{draft.pk}/register/").status_code == 404
    assert client_as(Role.ENTERPRISE_HR).get(f"/events/{draft.pk}/").status_code == 200
    other = Client()
    other.force_login(world.hr_b)
    assert other.get(f"/events/{draft.pk}/").status_code == 404
    assert other.get(f"/events/manage/{draft.pk}/").status_code == 404
    assert draft.title not in other.get("/events/manage/").content.decode()
    # Staff of other departments see published events but do not manage them.
    assert client_as(Role.LIAISON).get(f"/events/{draft.pk}/").status_code == 404


def test_staff_create_and_publish_through_the_pages(world: World, client_as: Any) -> None:
    staff = client_as(Role.LEAGUE_STAFF)
    response = staff.post(
        "/events/manage/new/",
        {
            "type": "study_tour",
            "title": "暑期鹤山企业研学",
            "place": "鹤山工业城",
            "starts_at": "2027-07-10T09:00",
            "ends_at": "2027-07-10T17:00",
            "registration_opens_at": "2027-06-01T09:00",
            "registration_closes_at": "2027-07-05T18:00",
            "cancel_deadline": "2027-07-03T18:00",
            "audience": "open",
            "capacity": "40",
            "tour_groups": ["high_school", "university"],
        },
    )
    event = Event.objects.get(title="暑期鹤山企业研学")
    assert response.status_code == 302
    assert event.tour_groups == ["high_school", "university"]
    assert (event.state, event.organiser_id, event.capacity) == (
        "draft",
        world.league.organisation_id,
        40,
    )
    # Times are Beijing time.
    assert timezone.localtime(event.starts_at).strftime("%Y-%m-%d %H:%M %Z") == (
        "2027-07-10 09:00 CST"
    )
    staff.post(f"/events/manage/{event.pk}/publish/")
    event.refresh_from_db()
    assert event.state == "published"


def test_an_enterprise_proposes_and_submits_through_the_pages(world: World, client_as: Any) -> None:
    hr = client_as(Role.ENTERPRISE_HR)
    assert "申请举办活动" in hr.get("/events/manage/").content.decode()
    hr.post(
        "/events/manage/new/",
        {
            "type": "campus_talk",
            "title": "雅图仕秋季宣讲会",
            "place": "五邑大学",
            "starts_at": "2027-09-10T14:00",
            "ends_at": "2027-09-10T16:00",
            "registration_opens_at": "2027-09-01T09:00",
            "registration_closes_at": "2027-09-09T18:00",
            "cancel_deadline": "2027-09-08T18:00",
            "audience": "open",
            "enterprises": [str(world.a.pk)],
        },
    )
    event = Event.objects.get(title="雅图仕秋季宣讲会")
    assert list(event.enterprises.all()) == [world.a]
    hr.post(f"/events/manage/{event.pk}/submit/")
    event.refresh_from_db()
    assert (event.organiser_id, event.state) == (world.a.organisation_id, "review")


def test_the_check_in_page_checks_in_once_and_refuses_other_codes(
    world: World, live: Event, client_as: Any
) -> None:
    student = make_student("x", talent=True)
    reg = Registration.objects.create(
        event=live, user=student, status="confirmed", registered_at=timezone.now()
    )
    staff = client_as(Role.HR_STAFF)
    page = staff.get(f"/events/{live.pk}/checkin/").content.decode()
    assert "js/cards-scan.js" in page and "vendor/jsqr/jsQR.js" in page
    code = make_code(registration_id=reg.pk, event_id=live.pk)
    first = staff.post(f"/events/{live.pk}/checkin/", {"code": code})
    assert first.status_code == 200
    assert "学子x 签到成功" in first.content.decode()
    second = staff.post(f"/events/{live.pk}/checkin/", {"code": code})
    assert "学子x 已签到" in second.content.decode()
    wrong = staff.post(f"/events/{live.pk}/checkin/", {"code": "QHE:forged"})
    assert wrong.status_code == 400
    assert "签到码无效" in wrong.content.decode()
    assert ContactLog.objects.filter(talent__user=student, channel="event").count() == 1
    counts = staff.get(f"/events/{live.pk}/registrations/").context["counts"]
    assert (counts.registered, counts.confirmed, counts.waitlisted, counts.attended) == (
        1,
        1,
        0,
        1,
    )


# ---- API -----------------------------------------------------------------------------------


def test_api_lists_and_bounds_its_pages(world: World, live: Event, client_as: Any) -> None:
    client = client_as(Role.STUDENT)
    rows = client.get("/api/v1/events").json()
    assert [r["title"] for r in rows] == ["鹤山青年人才分享会"]
    assert client.get("/api/v1/events?limit=1&offset=1").json() == []
    for bad in ("limit=0", "limit=101", "offset=-1"):
        assert client.get(f"/api/v1/events?{bad}").status_code == 422
    detail = client.get(f"/api/v1/events/{live.pk}").json()
    assert (detail["capacity"], detail["places_left"], detail["enterprises"]) == (2, 2, [])


def test_api_registers_waitlists_cancels_and_checks_in(
    world: World, live: Event, client_as: Any, personas: dict[str, User]
) -> None:
    live.capacity = 1
    live.save()
    student, ambassador = client_as(Role.STUDENT), client_as(Role.AMBASSADOR)
    first = student.post(f"/api/v1/events/{live.pk}/registrations")
    assert first.status_code == 201
    assert (first.json()["status"], first.json()["position"]) == ("confirmed", None)
    again = student.post(f"/api/v1/events/{live.pk}/registrations")
    assert (again.status_code, again.json()) == (400, {"detail": "你已报名该活动"})
    second = ambassador.post(f"/api/v1/events/{live.pk}/registrations")
    assert (second.json()["status"], second.json()["position"]) == ("waitlisted", 1)
    gone = student.delete(f"/api/v1/events/{live.pk}/registrations/me")
    assert (gone.status_code, gone.json()["status"]) == (200, "cancelled")
    promoted = Registration.objects.get(event=live, user=personas[Role.AMBASSADOR])
    assert promoted.status == "confirmed"
    code = make_code(registration_id=promoted.pk, event_id=live.pk)
    checked = client_as(Role.LEAGUE_STAFF).post(
        f"/api/v1/events/{live.pk}/checkins", {"code": code}, content_type="application/json"
    )
    assert (checked.status_code, checked.json()["already"]) == (200, False)
    twice = client_as(Role.LEAGUE_STAFF).post(
        f"/api/v1/events/{live.pk}/checkins", {"code": code}, content_type="application/json"
    )
    assert twice.json()["already"] is True
    assert twice.json()["message"].startswith("黄子晴 已签到（")


def test_api_hides_drafts_with_a_404(world: World, client_as: Any) -> None:
    draft = make_event(world.a.organisation, now=timezone.now(), state="draft")
    client = client_as(Role.STUDENT)
    assert client.get(f"/api/v1/events/{draft.pk}").status_code == 404
    assert client.post(f"/api/v1/events/{draft.pk}/registrations").status_code == 404
    assert Registration.objects.count() == 0


def test_every_page_renders_with_real_rows_for_the_people_it_serves(
    world: World, live: Event, client_as: Any, personas: dict[str, User]
) -> None:
    from qinghe.events import services

    services.registration_create(user=personas[Role.STUDENT], event=live)
    services.registration_create(user=personas[Role.AMBASSADOR], event=live)
    services.registration_create(user=make_student("third"), event=live)
    pages = {
        Role.LEAGUE_STAFF: [
            "/events/",
            f"/events/{live.pk}/",
            "/events/manage/",
            "/events/manage/new/",
            f"/events/manage/{live.pk}/",
            f"/events/manage/{live.pk}/edit/",
            f"/events/{live.pk}/registrations/",
            f"/events/{live.pk}/registrations/?status=waitlisted",
            f"/events/{live.pk}/checkin/",
        ],
        Role.ENTERPRISE_HR: [
            "/events/manage/",
            "/events/manage/new/",
            f"/events/manage/{live.pk}/",
        ],
        Role.STUDENT: ["/events/", f"/events/{live.pk}/", "/events/mine/"],
        Role.AMBASSADOR: [f"/events/{live.pk}/", "/events/mine/"],
    }
    for role, paths in pages.items():
        client = client_as(role)
        for path in paths:
            assert client.get(path).status_code == 200, (role, path)
    waiting = client_as(Role.LEAGUE_STAFF).get(
        f"/events/{live.pk}/registrations/?status=waitlisted"
    )
    assert [r.user.username for r in waiting.context["page"]] == ["third"]


def test_an_enterprise_cannot_open_the_edit_form_once_submitted(
    world: World, live: Event, client_as: Any
) -> None:
    hr = client_as(Role.ENTERPRISE_HR)
    response = hr.get(f"/events/manage/{live.pk}/edit/")
    assert response.status_code == 302
    assert response["Location"] == f"/events/manage/{live.pk}/"
    before = (live.title, live.capacity)
    hr.post(f"/events/manage/{live.pk}/edit/", {"title": "改名", "type": "campus_talk"})
    live.refresh_from_db()
    assert (live.title, live.capacity) == before
    assert "修改</a>" not in hr.get(f"/events/manage/{live.pk}/").content.decode()


@pytest.mark.parametrize("path", ["/events/", "/events/mine/", "/api/v1/events"])
def test_list_pages_use_the_same_number_of_queries_however_many_rows(
    path: str, world: World, client_as: Any, personas: dict[str, User]
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from qinghe.events import services

    student = personas[Role.STUDENT]

    made: list[int] = []

    def grow(n: int) -> None:
        for _ in range(n):
            i = len(made)
            made.append(i)
            e = make_event(world.a.organisation, now=timezone.now(), title=f"活动{i}", capacity=1)
            services.registration_create(user=make_student(f"p{i}"), event=e)
            services.registration_create(user=student, event=e)  # waitlisted: a position each

    client = client_as(Role.STUDENT)
    client.get(path)  # the first visit draws the unread badge, kept afterwards
    grow(2)
    with CaptureQueriesContext(connection) as small:
        assert client.get(path).status_code == 200
    grow(5)
    with CaptureQueriesContext(connection) as large:
        assert client.get(path).status_code == 200
    assert len(large) == len(small)


def test_a_refused_button_press_comes_back_to_the_page_with_the_reason(
    world: World, live: Event, client_as: Any
) -> None:
    student = client_as(Role.STUDENT)
    student.post(f"/events/{live.pk}/register/", follow=True)
    again = student.post(f"/events/{live.pk}/register/", follow=True)
    assert again.redirect_chain == [(f"/events/{live.pk}/", 302)]
    assert [str(m) for m in again.context["messages"]] == ["你已报名该活动"]
    assert Registration.objects.filter(event=live).count() == 1
    staff = client_as(Role.HR_STAFF)
    refused = staff.post(f"/events/manage/{live.pk}/cancel/", {"note": ""}, follow=True)
    assert refused.redirect_chain == [(f"/events/manage/{live.pk}/", 302)]
    assert [str(m) for m in refused.context["messages"]] == ["请填写原因"]
    live.refresh_from_db()
    assert live.state == "published"
