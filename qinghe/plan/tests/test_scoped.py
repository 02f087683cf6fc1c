"""The scoped boards (issue 18 item 3): an ambassador sees only their chapter, an enterprise
only its own figures. Every figure equals a count made by hand from fixture rows that include
another chapter's or enterprise's rows (which must not count), its drill-down list shows
exactly those rows, and every role is let in or kept out as the policy table says."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.alliance.models import (
    ActivityReport,
    AmbassadorRound,
    Chapter,
    Membership,
    Nomination,
)
from qinghe.alliance.services import ChapterData, chapter_create
from qinghe.core.roles import ALL_ROLES, Role
from qinghe.enterprises.tests.factories import make_posting
from qinghe.events.models import Event, Registration
from qinghe.events.tests.factories import make_event, make_student
from qinghe.fairs.models import Booth
from qinghe.jobs.models import Posting
from qinghe.plan import scoped
from qinghe.recruitment.models import Application, Interview
from qinghe.talents.models import Consent
from qinghe.talents.services import consent_record
from qinghe.testing.recruiting import apply_to, claim_talent, interview_in_the_past
from qinghe.testing.world import World

pytestmark = pytest.mark.django_db

NOW = timezone.now()
YEAR = timezone.localtime(NOW).year
THIS_YEAR = timezone.localtime(NOW).replace(month=6, day=15, hour=10, minute=0)
LAST_YEAR = THIS_YEAR.replace(year=YEAR - 1)


def values(rows: list[scoped.ScopedRow]) -> dict[str, int]:
    return {r.figure.code: r.value for r in rows}


# ---- the enterprise ---------------------------------------------------------------------------


@pytest.fixture
def firms(world: World, personas: dict[str, User]) -> dict[str, Any]:
    """Enterprise A (the HR persona's) and B, each with postings, applications, interviews and
    booths; every kind of row of A has a twin at B that A must not count."""
    a, b = world.a, world.b
    make_posting(a, title="实习生（印刷）", kind=Posting.Kind.INTERNSHIP, headcount=5)
    make_posting(a, title="优质·工艺工程师", is_quality=True, quality_certified_at=NOW)
    make_posting(a, title="去年的岗位", published_at=LAST_YEAR)  # open, not published this year
    make_posting(b, title="实习生（五金）", kind=Posting.Kind.INTERNSHIP, headcount=7)
    make_posting(b, title="优质·模具工程师", is_quality=True, quality_certified_at=NOW)
    claim_talent(world.x, name="欧阳晓彤", seq="301", phone="13800000301")
    claim_talent(world.y, name="司马文", seq="302", phone="13800000302")
    x_a = apply_to(world.x, world.posting_a)  # A may read it
    y_a = apply_to(world.y, world.posting_a)
    consent_record(  # Y withdraws the consent to share with A: A may no longer read it
        talent=y_a.talent,
        purpose=Consent.Purpose.SHARE_ENTERPRISE,
        granted=False,
        actor=world.y,
        enterprise=a.organisation,
    )
    x_b = apply_to(world.x, world.posting_b)
    Application.objects.filter(pk__in=[x_a.pk, y_a.pk, x_b.pk]).update(hired_at=NOW)
    interview_in_the_past(x_a, hours=1)
    interview_in_the_past(y_a, hours=1)  # behind a withdrawn consent: not A's to see
    interview_in_the_past(x_b, hours=1)
    cancelled = interview_in_the_past(x_a, hours=3)
    cancelled.state = Interview.State.CANCELLED
    cancelled.save()
    org = personas[Role.LEAGUE_STAFF].organisation
    assert org is not None
    fair = make_event(org, now=THIS_YEAR, type=Event.Type.CLOUD_FAIR, starts_at=THIS_YEAR)
    old_fair = make_event(org, now=LAST_YEAR, type=Event.Type.CLOUD_FAIR, starts_at=LAST_YEAR)
    for ent, f, state in (
        (a, fair, Booth.State.APPROVED),
        (a, old_fair, Booth.State.APPROVED),  # last year's fair
        (b, fair, Booth.State.APPROVED),
        (b, old_fair, Booth.State.REJECTED),
    ):
        Booth.objects.create(fair=f, enterprise=ent, state=state, applied_at=NOW)
    return {"x_a": x_a, "y_a": y_a, "x_b": x_b}


def test_an_enterprise_counts_only_its_own_rows(world: World, firms: dict[str, Any]) -> None:
    a_scope = scoped.scope_for_viewer(viewer=world.hr_a)
    b_scope = scoped.scope_for_viewer(viewer=world.hr_b)
    assert (a_scope.kind, a_scope.object_id, b_scope.object_id) == (
        scoped.ENTERPRISE,
        world.a.pk,
        world.b.pk,
    )
    # Counted by hand from the fixture: A has posting_a, the internship, the quality job and
    # last year's posting published (draft and review are not), 3 of them published this
    # year; B's rows are as many again and must not count.
    assert values(scoped.scoped_figures(scope=a_scope, year=YEAR)) == {
        "open_postings": 4,
        "published": 3,
        "quality_jobs": 1,
        "internship_posts": 5,
        "applications": 1,  # X's; Y withdrew the consent to share with A
        "hires": 1,
        "interviews": 1,  # X's; not Y's (withdrawn), not the cancelled one
        "booths": 1,  # this year's fair; not last year's
    }
    assert values(scoped.scoped_figures(scope=b_scope, year=YEAR)) == {
        "open_postings": 3,
        "published": 3,
        "quality_jobs": 1,
        "internship_posts": 7,
        "applications": 1,
        "hires": 1,
        "interviews": 1,
        "booths": 1,
    }
    # The rows of the whole platform are more than either enterprise's.
    assert Posting.objects.filter(state="published").count() == 7
    assert Application.objects.filter(hired_at__isnull=False).count() == 3
    assert Interview.objects.exclude(state="cancelled").count() == 3
    assert Booth.objects.count() == 4
    # Last year: only last year's posting and last year's booth.
    last = values(scoped.scoped_figures(scope=a_scope, year=YEAR - 1))
    assert (last["published"], last["booths"], last["applications"]) == (1, 1, 0)


def test_each_enterprise_figure_lists_exactly_its_rows(world: World, firms: dict[str, Any]) -> None:
    scope = scoped.scope_for_viewer(viewer=world.hr_a)
    for row in scoped.scoped_figures(scope=scope, year=YEAR):
        figure, rows = scoped.scoped_rows(scope=scope, code=row.figure.code, year=YEAR)
        listed = list(rows)
        if figure.total:
            assert sum(getattr(r, figure.total) for r in listed) == row.value, figure.code
        else:
            assert len(listed) == row.value, figure.code
        owner = [
            getattr(r, "enterprise_id", None)
            or getattr(getattr(r, "application", None), "enterprise_id", None)
            for r in listed
        ]
        assert set(owner) <= {world.a.pk}, figure.code
    _, apps = scoped.scoped_rows(scope=scope, code="applications", year=YEAR)
    assert [a.pk for a in apps] == [firms["x_a"].pk]


def test_the_enterprise_board_page_links_each_figure_to_its_own_list(
    client_as: Any, world: World, firms: dict[str, Any]
) -> None:
    client = client_as(Role.ENTERPRISE_HR)
    response = client.get("/plan/mine/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="/plan/mine/internship_posts/?year={YEAR}"' in html
    assert values(response.context["rows"])["internship_posts"] == 5
    listing = client.get("/plan/mine/published/", {"year": str(YEAR)})
    assert listing.status_code == 200
    page = listing.content.decode()
    assert listing.context["page"].paginator.count == 3
    for title in ("软件开发工程师", "实习生（印刷）", "优质·工艺工程师"):
        assert title in page
    for title in ("机械设计工程师（五金卫浴）", "实习生（五金）", "优质·模具工程师", "去年的岗位"):
        assert title not in page  # B's, or not published this year
    applicants = client.get("/plan/mine/applications/").content.decode()
    assert "欧**" in applicants and "司*" not in applicants and "欧阳晓彤" not in applicants
    assert client.get("/plan/mine/no_such_figure/").status_code == 404
    assert client.get("/plan/mine/members/").status_code == 404  # a chapter's figure


# ---- the chapter ------------------------------------------------------------------------------


def _named(username: str, name: str, role: str = Role.STUDENT) -> User:
    user = make_student(username, role=role)
    User.objects.filter(pk=user.pk).update(display_name=name)
    user.display_name = name
    return user


def _chapter(personas: dict[str, User], name: str, city: str) -> Chapter:
    return chapter_create(
        actor=personas[Role.LEAGUE_STAFF],
        data=ChapterData(name=name, kind=Chapter.Kind.CITY, city=city),
    )


def _appoint(user: User, chapter: Chapter, *, term_ends_on: dt.date) -> Nomination:
    round_, _ = AmbassadorRound.objects.get_or_create(
        year=term_ends_on.year, defaults={"mode": AmbassadorRound.Mode.APPOINT, "state": "closed"}
    )
    return Nomination.objects.create(
        round=round_,
        chapter=chapter,
        nominee=user,
        state=Nomination.State.APPOINTED,
        term_ends_on=term_ends_on,
    )


@pytest.fixture
def chapters(personas: dict[str, User]) -> dict[str, Chapter]:
    """The ambassador persona serves 广州分会 (this year's term); 深圳分会 is another's.
    Members of 广州 are named 欧..., of 深圳 司马...: a masked list shows 欧** or 司**."""
    gz = _chapter(personas, "青鹤联盟·广州分会", "广州")
    sz = _chapter(personas, "青鹤联盟·深圳分会", "深圳")
    _appoint(personas[Role.AMBASSADOR], gz, term_ends_on=dt.date(YEAR, 12, 31))
    other = _named("dashi_sz", "司马大使", Role.AMBASSADOR)
    _appoint(other, sz, term_ends_on=dt.date(YEAR, 12, 31))
    rows = [
        (gz, "gz1", "欧阳一", "active", THIS_YEAR),
        (gz, "gz2", "欧阳二", "active", LAST_YEAR),
        (gz, "gz3", "欧阳三", "active", LAST_YEAR),
        (gz, "gz4", "欧阳四", "pending", None),
        (gz, "gz5", "欧阳五", "left", LAST_YEAR),
        (sz, "sz1", "司马一", "active", THIS_YEAR),
        (sz, "sz2", "司马二", "active", THIS_YEAR),
        (sz, "sz3", "司马三", "pending", None),
    ]
    users: dict[str, User] = {}
    for chapter, username, name, status, joined in rows:
        users[username] = _named(username, name)
        Membership.objects.create(
            chapter=chapter, user=users[username], slot="place", status=status, joined_at=joined
        )
    held = make_event(gz.organisation, now=THIS_YEAR, starts_at=THIS_YEAR, title="广州分会迎新会")
    make_event(gz.organisation, now=THIS_YEAR, starts_at=THIS_YEAR, title="广州分会茶话会")
    make_event(gz.organisation, now=THIS_YEAR, starts_at=THIS_YEAR, state=Event.State.CANCELLED)
    old = make_event(gz.organisation, now=LAST_YEAR, starts_at=LAST_YEAR, title="去年的活动")
    sz_event = make_event(sz.organisation, now=THIS_YEAR, starts_at=THIS_YEAR, title="深圳聚会")
    for event, username, attended in (
        (held, "gz1", True),
        (held, "gz2", True),
        (held, "gz3", False),  # registered, not checked in
        (old, "gz1", True),
        (sz_event, "sz1", True),
        (sz_event, "sz2", True),
        (sz_event, "gz1", True),  # a 广州 member at 深圳's event: 深圳's figure
    ):
        Registration.objects.create(
            event=event,
            user=users[username],
            status="confirmed",
            registered_at=event.starts_at,
            attended_at=event.starts_at if attended else None,
        )
    amb = personas[Role.AMBASSADOR]
    for chapter, held_on, n in (
        (gz, THIS_YEAR.date(), 10),
        (gz, THIS_YEAR.date(), 15),
        (gz, LAST_YEAR.date(), 40),
        (sz, THIS_YEAR.date(), 99),
    ):
        ActivityReport.objects.create(
            ambassador=amb, chapter=chapter, held_on=held_on, title="分会活动", attendance=n
        )
    return {"gz": gz, "sz": sz}


def test_an_ambassador_counts_only_their_chapter(
    personas: dict[str, User], chapters: dict[str, Chapter]
) -> None:
    scope = scoped.scope_for_viewer(viewer=personas[Role.AMBASSADOR])
    assert (scope.kind, scope.object_id) == (scoped.CHAPTER, chapters["gz"].pk)
    assert values(scoped.scoped_figures(scope=scope, year=YEAR)) == {
        "members": 3,
        "joined": 1,
        "pending": 1,
        "events": 2,  # not the cancelled one, not last year's
        "attendance": 2,  # checked in at this year's events of 广州
        "reports": 2,
        "reported_attendance": 25,
    }
    sz = scoped.scope_for_viewer(viewer=User.objects.get(username="dashi_sz"))
    assert values(scoped.scoped_figures(scope=sz, year=YEAR)) == {
        "members": 2,
        "joined": 2,
        "pending": 1,
        "events": 1,
        "attendance": 3,
        "reports": 1,
        "reported_attendance": 99,
    }
    assert Membership.objects.filter(status="active").count() == 5
    assert Registration.objects.filter(attended_at__isnull=False).count() == 6
    for row in scoped.scoped_figures(scope=scope, year=YEAR):
        figure, rows = scoped.scoped_rows(scope=scope, code=row.figure.code, year=YEAR)
        listed = list(rows)
        total = sum(getattr(r, figure.total) for r in listed) if figure.total else len(listed)
        assert total == row.value, figure.code


def test_the_ambassador_lists_show_masked_names_of_their_chapter_only(
    client_as: Any, chapters: dict[str, Chapter]
) -> None:
    client = client_as(Role.AMBASSADOR)
    board = client.get("/plan/mine/")
    assert board.status_code == 200
    assert "青鹤联盟·广州分会" in board.content.decode()
    assert "青鹤联盟·深圳分会" not in board.content.decode()
    members = client.get("/plan/mine/members/")
    html = members.content.decode()
    assert members.context["page"].paginator.count == 3
    assert html.count("欧**") == 3 and "司**" not in html and "欧阳一" not in html
    attendance = client.get("/plan/mine/attendance/").content.decode()
    assert attendance.count("广州分会迎新会") == 2 and "深圳聚会" not in attendance
    # Another chapter, asked for by id: the same 404 as a chapter that does not exist.
    other = client.get("/plan/mine/members/", {"chapter": str(chapters["sz"].pk)})
    missing = client.get("/plan/mine/members/", {"chapter": "999999"})
    assert other.status_code == missing.status_code == 404
    assert client.get("/plan/mine/", {"chapter": "x"}).status_code == 404
    assert client.get("/plan/mine/open_postings/").status_code == 404  # an enterprise's


def test_an_ambassador_with_two_chapters_switches_and_one_whose_term_ended_sees_none(
    client_as: Any, personas: dict[str, User], chapters: dict[str, Chapter]
) -> None:
    amb = personas[Role.AMBASSADOR]
    _appoint(amb, chapters["sz"], term_ends_on=dt.date(YEAR, 12, 31))
    client = client_as(Role.AMBASSADOR)
    first = client.get("/plan/mine/")
    assert [name for _, name in first.context["scope"].choices] == [
        "青鹤联盟·广州分会",
        "青鹤联盟·深圳分会",
    ]
    sz = client.get("/plan/mine/", {"chapter": str(chapters["sz"].pk)})
    assert values(sz.context["rows"])["members"] == 2
    Nomination.objects.filter(nominee=amb).update(
        term_ends_on=timezone.localdate() - dt.timedelta(days=1)
    )
    assert client.get("/plan/mine/").status_code == 404
    assert client.get("/plan/mine/members/").status_code == 404


# ---- who gets in ------------------------------------------------------------------------------

LET_IN = {Role.AMBASSADOR, Role.ENTERPRISE_HR}


@pytest.mark.parametrize("path", ["/plan/mine/", "/plan/mine/members/", "/plan/mine/published/"])
@pytest.mark.parametrize("role", sorted(ALL_ROLES))
def test_every_role_against_the_scoped_pages(
    role: str,
    path: str,
    client_as: Any,
    world: World,
    chapters: dict[str, Chapter],
) -> None:
    status = client_as(role).get(path).status_code
    if role not in LET_IN:
        assert status == 403
    elif path == "/plan/mine/":
        assert status == 200
    else:  # each scope has its own figures; the other scope's code is not found
        own = "members" if role == Role.AMBASSADOR else "published"
        assert status == (200 if path.endswith(f"/{own}/") else 404)


def test_a_visitor_is_sent_to_sign_in(client: Client) -> None:
    response = client.get("/plan/mine/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# ---- cost -------------------------------------------------------------------------------------

# After the session's first page (the unread badge kept, core/context_processors.py):
# session, user, the viewer's enterprise; postings, applications,
# interviews, booths (one aggregate each).
ENTERPRISE_BOARD_QUERIES = 7
# Session, user, the ambassador's terms; memberships, events, attendance,
# reports.
CHAPTER_BOARD_QUERIES = 7
# Session and user, the scope; the page's ids with the row count (one query on
# the lean rows), then those rows by id (scoped.page_of). An empty list has no second query:
# 4 (the benchmark's chapter has no activity reports).
LIST_QUERIES = 5


def test_the_scoped_pages_cost_the_same_queries_however_many_rows(
    personas: dict[str, User],
    world: World,
    firms: dict[str, Any],
    chapters: dict[str, Chapter],
    django_assert_num_queries: Any,
) -> None:
    ent, amb = Client(), Client()
    ent.force_login(personas[Role.ENTERPRISE_HR])
    amb.force_login(personas[Role.AMBASSADOR])
    for first_page in (ent, amb):
        first_page.get("/messages/preferences/")  # first page: session expiry pushed, badge drawn
    for extra in (0, 5):
        for i in range(extra):
            make_posting(world.a, title=f"加岗{extra}-{i}")
            Membership.objects.create(
                chapter=chapters["gz"],
                user=_named(f"more{extra}{i}", "欧阳加"),
                slot="place",
                status="active",
                joined_at=THIS_YEAR,
            )
        with django_assert_num_queries(ENTERPRISE_BOARD_QUERIES):
            assert ent.get("/plan/mine/").status_code == 200
        with django_assert_num_queries(CHAPTER_BOARD_QUERIES):
            assert amb.get("/plan/mine/").status_code == 200
        with django_assert_num_queries(LIST_QUERIES):
            assert ent.get("/plan/mine/open_postings/").status_code == 200
        with django_assert_num_queries(LIST_QUERIES):
            assert amb.get("/plan/mine/members/").status_code == 200


def test_every_list_costs_the_same_queries_and_shows_what_the_full_rows_show(
    personas: dict[str, User],
    world: World,
    firms: dict[str, Any],
    chapters: dict[str, Chapter],
    django_assert_num_queries: Any,
) -> None:
    """Each drill-down list of both scopes: LIST_QUERIES with rows, one fewer without (no page
    query), and its cells equal the columns read from the full rows (``scoped_rows``): the
    page reads only ``Base.fields``, and a field missing there would be a query per row."""
    for persona in (Role.ENTERPRISE_HR, Role.AMBASSADOR):
        client = Client()
        client.force_login(personas[persona])
        client.get("/messages/preferences/")  # first page: session expiry pushed, badge drawn
        scope = scoped.scope_for_viewer(viewer=personas[persona])
        listed = 0
        for figure in scoped.FIGURES[scope.kind]:
            _, rows = scoped.scoped_rows(scope=scope, code=figure.code, year=YEAR)
            full = list(rows)
            listed += bool(full)
            expected = LIST_QUERIES if full else LIST_QUERIES - 1
            with django_assert_num_queries(expected):
                response = client.get(f"/plan/mine/{figure.code}/")
            assert response.status_code == 200, figure.code
            columns = scoped.columns_for(figure)
            assert response.context["cells"] == [
                [(c.label, c.value(r)) for c in columns] for r in full
            ], figure.code
            assert response.context["page"].paginator.count == len(full), figure.code
        assert listed >= 5  # most lists of the fixture have rows


def test_a_list_pages_as_django_paginator_does(world: World) -> None:
    """``page_of`` reads the ids and the row count in one query; the page it answers is the
    one ``Paginator.get_page`` answers for any page number, out of range ones included."""
    from django.core.paginator import Paginator

    for i in range(5):
        make_posting(world.a, title=f"翻页{i}", published_at=THIS_YEAR - dt.timedelta(days=i))
    scope = scoped.scope_for_viewer(viewer=world.hr_a)
    figure, rows = scoped.scoped_rows(scope=scope, code="published", year=YEAR)
    assert rows.count() == 6  # posting_a and these five
    for number in (None, "", "1", "2", "4", "5", "0", "-1", "x", "2.0", "999"):
        ours = scoped.page_of(figure, rows, number, 2)
        theirs = Paginator(rows, 2).get_page(number)
        assert (
            ours.number,
            ours.paginator.count,
            ours.paginator.num_pages,
            [p.pk for p in ours.object_list],
        ) == (
            theirs.number,
            theirs.paginator.count,
            theirs.paginator.num_pages,
            [p.pk for p in theirs.object_list],
        ), number
    _, none = scoped.scoped_rows(scope=scope, code="published", year=YEAR - 5)
    empty = scoped.page_of(figure, none, "1", 2)
    assert (empty.number, empty.paginator.count, list(empty.object_list)) == (1, 0, [])
