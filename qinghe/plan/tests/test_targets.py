"""The plan's yearly targets: each count, where it comes from, and who may set the goals."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from qinghe.core.models import AuditLog
from qinghe.core.roles import Role
from qinghe.enterprises.models import InternshipBase
from qinghe.enterprises.tests.factories import make_base, make_posting
from qinghe.jobs.models import Posting
from qinghe.plan.models import YearTarget
from qinghe.plan.selectors import (
    internship_base_counts,
    native_hires_in_year,
    placed_interns,
    year_progress,
)
from qinghe.plan.views import PLAN_FIGURES_SECONDS
from qinghe.recruitment.models import Application, PipelineStage
from qinghe.talents.models import Destination, Source
from qinghe.talents.tests.factories import make_id, make_talent
from qinghe.testing.world import World

pytestmark = pytest.mark.django_db

TZ = timezone.get_current_timezone()


def at(year: int, month: int = 6, day: int = 1) -> dt.datetime:
    return dt.datetime(year, month, day, 10, 0, tzinfo=TZ)


def progress(year: int) -> dict[str, tuple[int, int]]:
    return {line.code: (line.count, line.goal) for line in year_progress(year=year)}


def test_defaults_when_no_target_was_set(world: World) -> None:
    assert progress(2026) == {
        "quality_jobs": (0, 500),
        "internship_bases": (0, 10),
        "internship_posts": (0, 500),
        "native_hires": (0, 300),
        "recruitment_events": (0, 10),
    }


def test_quality_jobs_count_certifications_of_the_year_not_revoked(world: World) -> None:
    make_posting(world.a, title="A", is_quality=True, quality_certified_at=at(2026, 3))
    make_posting(world.a, title="B", is_quality=True, quality_certified_at=at(2026, 12, 31))
    make_posting(world.a, title="C", is_quality=True, quality_certified_at=at(2025, 12, 31))
    make_posting(world.a, title="D", is_quality=False, quality_certified_at=at(2026, 4))  # revoked
    assert progress(2026)["quality_jobs"] == (2, 500)
    assert progress(2025)["quality_jobs"] == (1, 500)


def test_internship_posts_sum_the_headcount_of_internships_and_traineeships_published_in_the_year(
    world: World,
) -> None:
    make_posting(world.a, title="实习 1", kind="internship", headcount=10, published_at=at(2026, 2))
    make_posting(world.b, title="见习 1", kind="traineeship", headcount=4, published_at=at(2026, 9))
    make_posting(world.a, title="实习 2", kind="internship", headcount=7, published_at=at(2025, 9))
    make_posting(
        world.c, title="实习 3", kind="internship", headcount=50, published_at=at(2026, 5)
    )  # C unverified
    Posting.objects.filter(kind="job").update(published_at=at(2026, 1))  # jobs never count
    assert progress(2026)["internship_posts"] == (14, 500)


def test_certified_bases_count_enterprises_whose_period_overlaps_the_year(world: World) -> None:
    make_base(
        world.a,
        state=InternshipBase.State.CERTIFIED,
        valid_from=dt.date(2025, 7, 1),
        valid_to=dt.date(2026, 1, 31),
    )
    make_base(
        world.a,
        state=InternshipBase.State.CERTIFIED,
        valid_from=dt.date(2026, 2, 1),
        valid_to=dt.date(2027, 1, 31),
    )
    make_base(
        world.b,
        state=InternshipBase.State.REVOKED,
        valid_from=dt.date(2026, 1, 1),
        valid_to=dt.date(2026, 12, 31),
    )
    make_base(world.b, state=InternshipBase.State.APPLIED)
    assert progress(2026)["internship_bases"] == (1, 10)  # A counted once
    assert progress(2027)["internship_bases"] == (1, 10)
    assert progress(2028)["internship_bases"] == (0, 10)


def hire(
    world: World, posting: Posting, *, native: bool, hired: dt.datetime, n: int
) -> Application:
    talent = make_talent(
        name=f"学子{n}",
        id_number=make_id("440784" if native else "440106", "20030512", f"{n:03d}"),
        phone=f"1391234{n:04d}",
    )
    destination = Destination.objects.create(
        talent=talent,
        kind="employed",
        employer=posting.enterprise.name,
        year=hired.year,
        source=Source.SYSTEM,
    )
    return Application.objects.create(
        posting=posting,
        enterprise=posting.enterprise,
        talent=talent,
        stage=PipelineStage.objects.get(enterprise=None, code="offer"),
        hired_at=hired,
        destination=destination,
    )


def test_native_hires_count_destinations_written_by_hires_for_heshan_natives(world: World) -> None:
    hire(world, world.posting_a, native=True, hired=at(2026, 7), n=1)
    hire(world, world.posting_b, native=True, hired=at(2026, 8), n=2)
    hire(world, world.posting_a, native=False, hired=at(2026, 7), n=3)
    hire(world, world.posting_b, native=True, hired=at(2025, 8), n=4)
    # a destination from a survey import is not a hire on the platform
    survey = make_talent(
        name="调查", id_number=make_id("440784", "20020101", "555"), phone="13700001111"
    )
    Destination.objects.create(talent=survey, kind="employed", year=2026, source=Source.SURVEY)
    assert native_hires_in_year(year=2026).count() == 2
    assert progress(2026)["native_hires"] == (2, 300)


def test_each_base_counts_its_internship_posts_and_placed_interns_per_year(world: World) -> None:
    base = make_base(
        world.a,
        state=InternshipBase.State.CERTIFIED,
        valid_from=dt.date(2026, 1, 1),
        valid_to=dt.date(2027, 12, 31),
    )
    intern = make_posting(
        world.a, title="印刷实习生", kind="internship", headcount=6, published_at=at(2026, 3)
    )
    make_posting(
        world.a, title="见习文员", kind="traineeship", headcount=2, published_at=at(2026, 4)
    )
    hire(world, intern, native=True, hired=at(2026, 7), n=7)
    (count,) = internship_base_counts(bases=[base], year=2026)
    assert (count.postings, count.posts, count.placed) == (2, 8, 1)
    (count,) = internship_base_counts(bases=[base], year=2027)
    assert (count.postings, count.posts, count.placed) == (0, 0, 0)
    assert placed_interns(enterprise_id=world.a.pk, year=2026) == 1


def test_the_targets_page_shows_counts_sources_and_a_chart(client_as: Any, world: World) -> None:
    make_posting(world.a, title="A", is_quality=True, quality_certified_at=at(2026, 3))
    response = client_as(Role.LEAGUE_STAFF).get("/jobs/targets/", {"year": "2026"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "本年认定且未撤销的优质岗位数（优质岗位认定时间在本年）" in html
    assert 'data-chart="targets-chart-data"' in html and "<script" in html
    chart = response.context["chart"]
    assert chart["series"][1]["data"] == [1, 0, 0, 0, 0]
    assert chart["series"][0]["data"] == [500, 10, 500, 300, 10]
    assert json.loads(json.dumps(chart))  # serialisable for json_script
    assert "/jobs/targets/edit/" not in html  # the league cannot edit
    assert client_as(Role.HR_STAFF).get("/jobs/targets/", {"year": "1999"}).status_code == 404


def test_hr_staff_set_a_years_targets_and_it_is_audited(client_as: Any, world: World) -> None:
    response = client_as(Role.HR_STAFF).post(
        "/jobs/targets/edit/?year=2027",
        {
            "quality_jobs": "600",
            "internship_bases": "12",
            "internship_posts": "550",
            "native_hires": "320",
            "recruitment_events": "12",
        },
    )
    assert response["Location"] == "/jobs/targets/?year=2027"
    target = YearTarget.objects.get(year=2027)
    assert (
        target.quality_jobs,
        target.internship_bases,
        target.internship_posts,
        target.native_hires,
        target.recruitment_events,
    ) == (600, 12, 550, 320, 12)
    entry = AuditLog.objects.get(action="update", target_type="plan.yeartarget")
    assert entry.data["after"] == {
        "quality_jobs": 600,
        "internship_bases": 12,
        "internship_posts": 550,
        "native_hires": 320,
        "recruitment_events": 12,
    }
    assert progress(2027)["quality_jobs"] == (0, 600)


def test_other_staff_cannot_set_targets_and_nothing_changes(client_as: Any, world: World) -> None:
    response = client_as(Role.LEAGUE_STAFF).post(
        "/jobs/targets/edit/?year=2027",
        {
            "quality_jobs": "1",
            "internship_bases": "1",
            "internship_posts": "1",
            "native_hires": "1",
        },
    )
    assert response.status_code == 403
    assert (
        not YearTarget.objects.exists()
        and not AuditLog.objects.filter(target_type="plan.yeartarget").exists()
    )


# --- query budget ---------------------------------------------------------------------------------

# Session, user, the year's saved target (read once: the progress lines and the page),
# then a fixed number per measure (quality jobs, certified bases, internship posts, natives
# hired): aggregates, never one query per row.
# Measure 9 adds a fixed 8: cards (3, qinghe.cards.selectors.card_counts) and station
# services (5, qinghe.stations.selectors.service_counts).
# Measure 10 adds a fixed 4: subsidy totals, rejections by reason, payments by programme and
# month, and the paid total (qinghe.policies.selectors.subsidy_figures).
TARGETS_PAGE_QUERIES = (
    29  # alliance (3 whatever the members), events (2), cloud fairs (4); the badge kept
)
# Within PLAN_FIGURES_SECONDS of the last count (plan/views.py): the counts are kept.
TARGETS_PAGE_QUERIES_KEPT = 2  # session and user (the badge kept, no session write)
YEAR = 2026


def add_measured_rows(world: World, year: int, start: int, count: int) -> None:
    for i in range(start, start + count):
        make_posting(world.a, title=f"优质{i}", is_quality=True, quality_certified_at=at(year, 3))
        make_posting(
            world.b, title=f"实习{i}", kind="internship", headcount=2, published_at=at(year, 4)
        )
        make_base(
            world.b if i % 2 else world.a,
            state=InternshipBase.State.CERTIFIED,
            valid_from=dt.date(year, 1, 1),
            valid_to=dt.date(year, 12, 31),
        )
        hire(world, world.posting_a, native=True, hired=at(year, 5), n=i)
        add_subsidy(world, year, i)


def add_subsidy(world: World, year: int, n: int) -> None:
    """An approved 一次性创业资助 paid in June of ``year`` and a rejected one (measure 10)."""
    from qinghe.policies.models import Application as SubsidyApplication
    from qinghe.policies.models import Payment, Programme
    from qinghe.policies.services import builtin_ensure

    builtin_ensure()
    programme = Programme.objects.get(code="one_off_startup")
    from qinghe.accounts.models import User

    student = world.x
    staff = User.objects.get(username="renshe")
    approved = SubsidyApplication.objects.create(
        programme=programme,
        applicant=student,
        state=SubsidyApplication.State.APPROVED,
        amount=10000,
        double_first_class=n % 2 == 0,
    )
    rejected = SubsidyApplication.objects.create(
        programme=programme,
        applicant=student,
        state=SubsidyApplication.State.REJECTED,
        reason="材料不实",
    )
    SubsidyApplication.objects.filter(pk__in=[approved.pk, rejected.pk]).update(
        created_at=at(year, 3)
    )
    Payment.objects.create(
        application=approved,
        period="1",
        amount=10000,
        paid_on=dt.date(year, 6, 1),
        recorded_by=staff,
    )


def test_the_targets_page_costs_the_same_queries_however_much_it_counts(
    world: World,
    personas: dict[str, Any],
    django_assert_num_queries: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = Client()
    client.force_login(personas["hr_staff"])
    client.get("/messages/preferences/")  # first page: session expiry pushed, badge drawn
    add_measured_rows(world, YEAR, 100, 1)
    with django_assert_num_queries(TARGETS_PAGE_QUERIES):
        response = client.get(f"/jobs/targets/?year={YEAR}")
    assert response.status_code == 200
    first = {line.code: line.count for line in response.context["lines"]}
    add_measured_rows(world, YEAR, 200, 5)
    with django_assert_num_queries(TARGETS_PAGE_QUERIES_KEPT):  # kept: at most 60 s old
        response = client.get(f"/jobs/targets/?year={YEAR}")
    assert {line.code: line.count for line in response.context["lines"]} == first
    later = time.time() + PLAN_FIGURES_SECONDS + 1
    monkeypatch.setattr(time, "time", lambda: later)  # the fragments cache's clock
    with django_assert_num_queries(TARGETS_PAGE_QUERIES):
        response = client.get(f"/jobs/targets/?year={YEAR}")
    counts = {line.code: line.count for line in response.context["lines"]}
    assert (first, counts) == (
        {
            "quality_jobs": 1,
            "internship_bases": 1,
            "internship_posts": 2,
            "native_hires": 1,
            "recruitment_events": 0,
        },
        {
            "quality_jobs": 6,
            "internship_bases": 2,
            "internship_posts": 12,
            "native_hires": 6,
            "recruitment_events": 0,
        },
    )
    # measure 10 on the same page, at the same cost
    subsidies = response.context["subsidies"]
    assert (
        subsidies["applications"],
        subsidies["approved"],
        subsidies["rejected"],
        subsidies["double_first_class_approved"],
        subsidies["paid_total"],
    ) == (12, 6, 6, 4, 60000)
    block = response.content.decode().split('data-testid="measure-10"')[1]
    assert "申请 <strong>12</strong> 件 · 批准 <strong>6</strong> 件 · 未通过 6 件" in block
    assert "双一流 4 人（66.7%）" in block
    assert "材料不实：6 件" in block
    assert f"{YEAR}-06 · 一次性创业资助：60000 元（6 笔）" in block


def test_recruitment_events_and_gathering_figures(world: World, personas: dict[str, Any]) -> None:
    from qinghe.alliance.models import Chapter, Membership
    from qinghe.alliance.services import ChapterData, chapter_create
    from qinghe.events.models import Event, Registration
    from qinghe.events.tests.factories import make_event, make_student
    from qinghe.plan.selectors import gathering_figures

    org = personas["hr_staff"].organisation
    start = dt.datetime(YEAR, 5, 1, 9, tzinfo=dt.UTC)
    fair = make_event(
        org, now=start - dt.timedelta(days=20), type=Event.Type.JOB_FAIR, starts_at=start
    )
    make_event(
        org, now=start, type=Event.Type.CAMPUS_TALK, starts_at=start, state=Event.State.CANCELLED
    )
    tour = make_event(org, now=start, type=Event.Type.STUDY_TOUR, starts_at=start, title="研学")
    make_event(org, now=start, type=Event.Type.JOB_FAIR, starts_at=start.replace(year=YEAR + 1))
    students = [make_student(f"g{i}") for i in range(3)]
    for s, event in ((students[0], fair), (students[1], tour), (students[2], tour)):
        Registration.objects.create(
            event=event, user=s, status="confirmed", registered_at=start, attended_at=start
        )
    chapter = chapter_create(
        actor=personas["league_staff"],
        data=ChapterData(name="青鹤联盟·深圳分会", kind=Chapter.Kind.CITY, city="深圳"),
    )
    Membership.objects.create(chapter=chapter, user=students[0], slot="place", status="active")
    assert progress(YEAR)["recruitment_events"] == (1, 10)
    figures = {f.label: f.value for f in gathering_figures(year=YEAR)}
    assert figures == {
        "联盟会员": 1,
        "联盟分会": 1,
        "覆盖院校": 0,
        "覆盖城市": 1,
        "举办活动": 2,
        "活动签到": 3,
        "研学参加": 2,
        "云招聘会": 0,
        "云招聘展位": 0,
        "云招聘面谈": 0,
    }


def test_the_targets_page_shows_a_changed_target_at_once_while_its_counts_are_kept(
    client_as: Any, world: World
) -> None:
    client = client_as(Role.HR_STAFF)
    make_posting(world.a, title="A", is_quality=True, quality_certified_at=at(2026, 3))
    first = client.get("/jobs/targets/", {"year": "2026"}).context["lines"][0]
    assert (first.code, first.count, first.goal) == ("quality_jobs", 1, 500)
    make_posting(world.a, title="B", is_quality=True, quality_certified_at=at(2026, 4))
    kept = client.get("/jobs/targets/", {"year": "2026"}).context["lines"][0]
    assert (kept.count, kept.goal) == (1, 500)  # the count is kept (at most 60 s)
    values = {
        "quality_jobs": "700",
        "internship_bases": "10",
        "internship_posts": "500",
        "native_hires": "300",
        "recruitment_events": "10",
    }
    assert client.post("/jobs/targets/edit/?year=2026", values).status_code == 302
    fresh = client.get("/jobs/targets/", {"year": "2026"}).context["lines"][0]
    assert (fresh.count, fresh.goal) == (2, 700)  # the new target, counted afresh
