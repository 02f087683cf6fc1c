"""The 十个一 board: each figure against rows counted independently, the measure without data
shown as such, monthly snapshots (idempotent), trend and burn-down, access and query budget."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from qinghe.alliance.models import Chapter, Membership
from qinghe.alliance.services import ChapterData, chapter_create
from qinghe.core.roles import Role
from qinghe.enterprises.tests.factories import make_posting
from qinghe.events.models import Event, Registration
from qinghe.events.tests.factories import make_event, make_student
from qinghe.jobs.models import Posting
from qinghe.plan import board as board_module
from qinghe.plan.indicators import BY_CODE, INDICATORS, MEASURES, Measured, measure_all
from qinghe.plan.models import IndicatorSnapshot, PrecomputedFigures, YearTarget
from qinghe.plan.precomputed import CADENCE_MINUTES, STALE_AFTER, figures_refresh
from qinghe.plan.services import snapshots_record
from qinghe.talents.models import Destination, Source, Talent
from qinghe.talents.tests.factories import make_id, make_talent
from qinghe.testing.world import World

pytestmark = pytest.mark.django_db

TZ = timezone.get_current_timezone()
YEAR = 2026
TODAY = dt.date(YEAR, 6, 15)


def native(n: int, **fields: Any) -> Talent:
    return make_talent(
        name=f"学子{n}",
        id_number=make_id("440784", "20030512", f"{n:03d}"),
        phone=f"1391234{n:04d}",
        **fields,
    )


def incomer(n: int) -> Talent:
    return make_talent(
        name=f"外地{n}", id_number=make_id("440106", "20030512", f"{n:03d}"), phone=None
    )


def test_the_registry_covers_all_ten_measures_with_owner_and_source() -> None:
    assert {i.measure for i in INDICATORS} == set(MEASURES) == set(range(1, 11))
    assert len(BY_CODE) == len(INDICATORS)  # codes are unique
    for i in INDICATORS:
        assert i.owner and i.source and i.unit and i.name, i.code


def test_the_cloud_platform_figures_equal_the_rows(world: World, personas: Any) -> None:
    """Fairs, streams, video interviews and applications through them, each counted from rows
    made here (the apps' own tests cover their rules)."""
    from qinghe.fairs.models import Booth
    from qinghe.live.models import Stream, StreamApplication
    from qinghe.recruitment.models import Application
    from qinghe.testing.recruiting import apply_to, claim_talent
    from qinghe.video.models import VideoRoom

    cloud = [i.code for i in INDICATORS if i.measure == 4]
    assert cloud == ["cloud_fairs", "cloud_streams", "cloud_interviews", "cloud_applications"]
    values = measure_all(Measured(year=YEAR, today=TODAY))
    assert {code: values[code] for code in cloud} == dict.fromkeys(cloud, 0)

    now = timezone.now()
    fair = make_event(
        personas["league_staff"].organisation,
        now=now,
        type=Event.Type.CLOUD_FAIR,
        title="空中双选会",
    )
    fair.starts_at, fair.ends_at = now - dt.timedelta(hours=1), now + dt.timedelta(hours=1)
    fair.save()
    booth = Booth.objects.create(
        fair=fair,
        enterprise=world.a,
        state=Booth.State.APPROVED,
        applied_by=world.hr_a,
        applied_at=now,
    )
    booth.postings.add(world.posting_a)
    claim_talent(world.x, name="李晓彤", seq="102", phone="13800000002")
    apply_to(world.x, world.posting_a)  # during the fair, to a booth posting: counts
    stream = Stream.objects.create(
        title="直播带岗",
        host="团市委主持人",
        starts_at=now - dt.timedelta(hours=2),
        ends_at=now - dt.timedelta(hours=1),
        created_by=personas["league_staff"],
        hls_url="https://live.example.cn/a.m3u8",
        state=Stream.State.ENDED,
        started_at=now - dt.timedelta(hours=2),
        ended_at=now - dt.timedelta(hours=1),
    )
    StreamApplication.objects.create(
        stream=stream, application=Application.objects.get(), created_at=now
    )
    VideoRoom.objects.create(
        interviewer=world.hr_a,
        organisation_id=world.hr_a.organisation_id,
        student=world.x,
        source=VideoRoom.Source.FAIR,
        starts_at=now - dt.timedelta(minutes=5),
        minutes=15,
    )
    VideoRoom.objects.create(  # not begun yet: not counted
        interviewer=world.hr_a,
        organisation_id=world.hr_a.organisation_id,
        student=world.x,
        source=VideoRoom.Source.DIRECT,
        starts_at=now + dt.timedelta(days=1),
        minutes=15,
    )
    year = timezone.localtime(now).year
    values = measure_all(Measured(year=year, today=timezone.localdate()))
    expected = {
        "cloud_fairs": Event.objects.filter(type=Event.Type.CLOUD_FAIR).count(),
        "cloud_streams": Stream.objects.filter(state=Stream.State.ENDED).count(),
        "cloud_interviews": VideoRoom.objects.filter(starts_at__lte=now).count(),
        "cloud_applications": 1 + StreamApplication.objects.count(),
    }
    assert expected == {
        "cloud_fairs": 1,
        "cloud_streams": 1,
        "cloud_interviews": 1,
        "cloud_applications": 2,
    }
    assert {code: values[code] for code in cloud} == expected


def test_talent_database_figures_equal_the_rows(world: World) -> None:
    a, b, c = native(1), native(2), native(3)
    incomer(4)
    merged = native(5)
    merged.merged_into = a
    merged.save()
    Destination.objects.create(talent=a, kind="employed", year=YEAR, source=Source.SURVEY)
    Destination.objects.create(talent=a, kind="employed", year=YEAR - 1, source=Source.SURVEY)
    Destination.objects.create(talent=b, kind="further_study", year=YEAR, source=Source.SURVEY)
    Talent.objects.filter(pk=c.pk).update(last_confirmed_at=timezone.now())
    Talent.objects.filter(pk=b.pk).update(last_confirmed_at=timezone.now() - dt.timedelta(days=400))
    values = measure_all(Measured(year=YEAR, today=TODAY))
    natives = Talent.objects.filter(merged_into=None).exclude(native_evidence="none")
    assert natives.count() == 3
    assert values["natives"] == 3
    assert values["natives_with_destination"] == round(100 * 2 / 3, 1) == 66.7
    assert values["natives_confirmed"] == round(100 * 1 / 3, 1) == 33.3


def test_alliance_events_and_targets_equal_the_rows(world: World, personas: dict[str, Any]) -> None:
    org = personas["hr_staff"].organisation
    start = dt.datetime(YEAR, 5, 1, 9, tzinfo=dt.UTC)
    tour = make_event(org, now=start, type=Event.Type.STUDY_TOUR, starts_at=start, title="研学")
    make_event(org, now=start, type=Event.Type.SHARING, starts_at=start, title="分享会")
    make_event(
        org, now=start, type=Event.Type.SHARING, starts_at=start, state=Event.State.CANCELLED
    )
    fair = make_event(org, now=start, type=Event.Type.JOB_FAIR, starts_at=start)
    students = [make_student(f"b{i}") for i in range(3)]
    for s in students[:2]:
        Registration.objects.create(
            event=tour, user=s, status="confirmed", registered_at=start, attended_at=start
        )
    Registration.objects.create(
        event=tour, user=students[2], status="confirmed", registered_at=start
    )
    Registration.objects.create(
        event=fair, user=students[2], status="confirmed", registered_at=start, attended_at=start
    )
    chapter = chapter_create(
        actor=personas["league_staff"],
        data=ChapterData(name="青鹤联盟·广州分会", kind=Chapter.Kind.CITY, city="广州"),
    )
    for s in students:
        Membership.objects.create(chapter=chapter, user=s, slot="place", status="active")
    make_posting(world.a, title="优质", is_quality=True, quality_certified_at=start)
    values = measure_all(Measured(year=YEAR, today=TODAY))
    assert {k: values[k] for k in ("alliance_members", "alliance_chapters", "alliance_cities")} == {
        "alliance_members": Membership.objects.filter(status="active").count(),
        "alliance_chapters": 1,
        "alliance_cities": 1,
    }
    assert values["ambassadors"] == 0
    assert values["hometown_sessions"] == 2  # the tour and the sharing session, not the cancelled
    assert values["study_tour_participants"] == 2  # attended, not only registered
    assert values["recruitment_events"] == 1
    assert values["quality_jobs"] == 1
    assert values["cards_issued"] == 0 and values["subsidy_paid"] == 0.0
    assert values["average_wait"] is None  # no ticket served: no data, not zero


def test_the_board_shows_every_indicator_with_goal_owner_source_and_no_made_up_number(
    client_as: Any, world: World
) -> None:
    YearTarget.objects.create(year=YEAR, quality_jobs=40)
    make_posting(
        world.a,
        title="优质",
        is_quality=True,
        quality_certified_at=dt.datetime(YEAR, 3, 1, tzinfo=TZ),
    )
    response = client_as(Role.EDU_STAFF).get("/plan/", {"year": str(YEAR)})
    assert response.status_code == 200
    html = response.content.decode()
    b = response.context["board"]
    assert [m.number for m in b.measures] == list(range(1, 11))
    rows = {row.indicator.code: row for row in b.rows}
    assert (rows["quality_jobs"].value, rows["quality_jobs"].goal) == (1, 40)
    assert rows["quality_jobs"].url == "/jobs/staff/?quality=1"
    assert rows["alliance_members"].goal is None
    for code in ("cloud_fairs", "cloud_streams", "cloud_interviews", "cloud_applications"):
        assert rows[code].value == 0
    assert "本年度已结束的直播带岗场次" in html
    assert "市人社局" in html and "团市委" in html
    assert 'data-chart="burndown-data"' in html and 'data-testid="burndown-table"' in html


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.HR_STAFF, 200),
        (Role.EDU_STAFF, 200),
        (Role.LEAGUE_STAFF, 200),
        (Role.SYSADMIN, 200),
        (Role.LIAISON, 403),
        (Role.STATION_STAFF, 403),
        (Role.STUDENT, 403),
        (Role.ENTERPRISE_HR, 403),
        (Role.AMBASSADOR, 403),
    ],
)
def test_the_board_is_for_the_leaders_bureaus(
    client_as: Any, world: World, role: str, status: int
) -> None:
    assert client_as(role).get("/plan/").status_code == status


def test_snapshots_record_the_month_just_ended_once(world: World) -> None:
    native(1)
    assert snapshots_record(today=dt.date(YEAR, 4, 1)) == len(
        [i for i in INDICATORS if i.code != "average_wait"]
    )
    snap = IndicatorSnapshot.objects.get(code="natives")
    assert (snap.month, snap.value, snap.backfilled) == (dt.date(YEAR, 3, 1), 1.0, False)
    assert IndicatorSnapshot.objects.get(code="cloud_fairs").value == 0.0
    native(2)
    assert snapshots_record(today=dt.date(YEAR, 4, 1)) == 0  # idempotent per month
    assert IndicatorSnapshot.objects.get(code="natives").value == 1.0
    assert snapshots_record(today=dt.date(YEAR, 5, 1)) > 0
    assert list(IndicatorSnapshot.objects.filter(code="natives").values_list("month", "value")) == [
        (dt.date(YEAR, 3, 1), 1.0),
        (dt.date(YEAR, 4, 1), 2.0),
    ]


def test_the_trend_reads_snapshots_and_the_live_month_and_burns_down_the_goal(
    world: World,
) -> None:
    YearTarget.objects.create(year=YEAR, quality_jobs=10)
    IndicatorSnapshot.objects.create(code="quality_jobs", month=dt.date(YEAR, 4, 1), value=3)
    IndicatorSnapshot.objects.create(
        code="quality_jobs", month=dt.date(YEAR, 5, 1), value=6, backfilled=True
    )
    for i in range(7):
        make_posting(
            world.a,
            title=f"优质{i}",
            is_quality=True,
            quality_certified_at=dt.datetime(YEAR, 6, 1, tzinfo=TZ),
        )
    b = board_module.board(year=YEAR, today=TODAY)
    row = next(r for r in b.rows if r.indicator.code == "quality_jobs")
    assert [(p.month, p.value, p.live, p.backfilled) for p in row.trend] == [
        (1, None, False, False),
        (2, None, False, False),
        (3, None, False, False),
        (4, 3, False, False),
        (5, 6, False, True),
        (6, 7, True, False),
    ]
    assert (row.value, row.goal, row.remaining, row.percent) == (7, 10, 3, 70)
    assert b.has_backfilled
    chart = board_module.burndown_chart(b)
    series = next(s for s in chart["series"] if s["name"] == "优质岗位")
    assert series["data"] == [None, None, None, 7, 4, 3] + [None] * 6
    table = dict((r.indicator.code, cells) for r, cells in board_module.burndown_table(b))
    assert table["quality_jobs"][:6] == ["—", "—", "—", "7", "4", "3"]
    # a past year shows its last month-end snapshot, not today's count
    IndicatorSnapshot.objects.create(code="natives", month=dt.date(YEAR - 1, 12, 1), value=42)
    past = board_module.board(year=YEAR - 1, today=TODAY)
    assert next(r for r in past.rows if r.indicator.code == "natives").value == 42


# --- query budget ---------------------------------------------------------------------------

# Session, user, the unread badge, the session's save (3: savepoint, update, release); the
# precomputed values (one row), the year's target, the year's snapshots.
BOARD_QUERIES = 5  # after the session's first page (no session write, the badge kept)


def add_rows(world: World, start: int, count: int) -> None:
    for i in range(start, start + count):
        native(i)
        make_posting(
            world.a,
            title=f"优质{i}",
            is_quality=True,
            quality_certified_at=dt.datetime(timezone.localdate().year, 3, 1, tzinfo=TZ),
        )
        IndicatorSnapshot.objects.create(
            code=f"natives_{i}", month=dt.date(timezone.localdate().year, 1 + i % 5, 1), value=i
        )


def test_the_board_costs_the_same_queries_however_many_rows(
    world: World, personas: dict[str, Any], django_assert_num_queries: Any
) -> None:
    """The current year's board reads its precomputed values: a fixed number of queries."""
    year = timezone.localdate().year
    client = Client()
    client.force_login(personas["hr_staff"])
    client.get("/messages/preferences/")  # first page: session expiry pushed, badge drawn
    add_rows(world, 100, 1)
    figures_refresh()
    with django_assert_num_queries(BOARD_QUERIES):
        response = client.get(f"/plan/?year={year}")
    assert response.status_code == 200
    add_rows(world, 200, 6)
    figures_refresh()
    with django_assert_num_queries(BOARD_QUERIES):
        response = client.get(f"/plan/?year={year}")
    rows = {r.indicator.code: r.value for r in response.context["board"].rows}
    assert (rows["natives"], rows["quality_jobs"]) == (7, 7)


# A past year reads its month-end snapshots only: the same frame, the target and the snapshots.
PAST_BOARD_QUERIES = 8


def test_a_past_years_board_reads_only_its_snapshots(
    world: World, personas: dict[str, Any], django_assert_num_queries: Any
) -> None:
    year = timezone.localdate().year - 1
    client = Client()
    client.force_login(personas["hr_staff"])
    add_rows(world, 100, 3)
    IndicatorSnapshot.objects.create(code="natives", month=dt.date(year, 12, 1), value=5)
    with django_assert_num_queries(PAST_BOARD_QUERIES):
        response = client.get(f"/plan/?year={year}")
    rows = {r.indicator.code: r.value for r in response.context["board"].rows}
    assert rows["natives"] == 5 and rows["quality_jobs"] is None
    assert PrecomputedFigures.objects.count() == 0
    assert 'data-testid="computed-at"' not in response.content.decode()


# --- precomputed figures --------------------------------------------------------------------


def test_the_precomputed_board_equals_the_rows_and_follows_them_after_the_job(
    client_as: Any, world: World, personas: dict[str, Any]
) -> None:
    """The job stores every indicator's value; each equals a count made here from the rows;
    a change in the rows shows on the board once the job has run (not before), with the time
    of the computation on the page."""
    year = timezone.localdate().year
    a = native(1)
    native(2)
    incomer(3)
    Destination.objects.create(talent=a, kind="employed", year=year, source=Source.SURVEY)
    chapter = chapter_create(
        actor=personas["league_staff"],
        data=ChapterData(name="青鹤联盟·深圳分会", kind=Chapter.Kind.CITY, city="深圳"),
    )
    students = [make_student(f"p{i}") for i in range(2)]
    for s in students:
        Membership.objects.create(chapter=chapter, user=s, slot="place", status="active")
    certified = dt.datetime(year, 1, 2, 9, tzinfo=TZ)
    make_posting(world.a, title="优质一", is_quality=True, quality_certified_at=certified)

    assert figures_refresh() == 4
    stored = PrecomputedFigures.objects.get(key=f"board:{year}")
    independent = {
        "natives": Talent.objects.filter(merged_into=None).exclude(native_evidence="none").count(),
        "natives_with_destination": round(
            100
            * Talent.objects.filter(merged_into=None, destinations__isnull=False)
            .exclude(native_evidence="none")
            .distinct()
            .count()
            / 2,
            1,
        ),
        "alliance_members": Membership.objects.filter(status="active")
        .values("user_id")
        .distinct()
        .count(),
        "alliance_chapters": Chapter.objects.filter(state="active").count(),
        "alliance_cities": 1,
        "quality_jobs": Posting.objects.filter(
            is_quality=True, quality_certified_at__year=year
        ).count(),
    }
    assert independent == {
        "natives": 2,
        "natives_with_destination": 50.0,
        "alliance_members": 2,
        "alliance_chapters": 1,
        "alliance_cities": 1,
        "quality_jobs": 1,
    }
    assert {k: stored.data["values"][k] for k in independent} == independent
    # every indicator stored, each the registry's value computed from the rows right now
    assert stored.data["values"] == measure_all(Measured(year=year))
    assert set(stored.data["values"]) == set(BY_CODE)

    response = client_as(Role.HR_STAFF).get("/plan/", {"year": str(year)})
    shown = {r.indicator.code: r.value for r in response.context["board"].rows}
    assert {k: shown[k] for k in independent} == independent
    local = timezone.localtime(stored.computed_at)
    assert f"数据更新于 {local:%H:%M}（每 10 分钟自动更新）" in response.content.decode()

    # the rows change: the board keeps the stored figures until the job runs again
    native(4)
    make_posting(world.a, title="优质二", is_quality=True, quality_certified_at=certified)
    response = client_as(Role.HR_STAFF).get("/plan/", {"year": str(year)})
    shown = {r.indicator.code: r.value for r in response.context["board"].rows}
    assert (shown["natives"], shown["quality_jobs"]) == (2, 1)
    figures_refresh()
    response = client_as(Role.HR_STAFF).get("/plan/", {"year": str(year)})
    shown = {r.indicator.code: r.value for r in response.context["board"].rows}
    assert (shown["natives"], shown["quality_jobs"]) == (3, 2)
    assert PrecomputedFigures.objects.filter(key=f"board:{year}").count() == 1


def test_stale_figures_are_computed_in_the_request_and_stored(client_as: Any, world: World) -> None:
    """When the job has missed runs (figures older than STALE_AFTER) or never ran, the page
    computes its figures itself and keeps them for the next requests."""
    year = timezone.localdate().year
    native(1)
    response = client_as(Role.HR_STAFF).get("/plan/", {"year": str(year)})  # never ran
    assert {r.indicator.code: r.value for r in response.context["board"].rows}["natives"] == 1
    row = PrecomputedFigures.objects.get(key=f"board:{year}")
    assert row.data["values"]["natives"] == 1
    native(2)
    PrecomputedFigures.objects.filter(pk=row.pk).update(
        computed_at=timezone.now() - STALE_AFTER + dt.timedelta(minutes=1)
    )
    response = client_as(Role.HR_STAFF).get("/plan/", {"year": str(year)})  # not yet stale
    assert {r.indicator.code: r.value for r in response.context["board"].rows}["natives"] == 1
    PrecomputedFigures.objects.filter(pk=row.pk).update(
        computed_at=timezone.now() - STALE_AFTER - dt.timedelta(minutes=1)
    )
    response = client_as(Role.HR_STAFF).get("/plan/", {"year": str(year)})  # stale
    assert {r.indicator.code: r.value for r in response.context["board"].rows}["natives"] == 2
    row.refresh_from_db()
    assert row.data["values"]["natives"] == 2
    assert timezone.now() - row.computed_at < dt.timedelta(minutes=1)


def test_the_refresh_job_is_in_the_schedule_at_the_cadence_the_pages_state() -> None:
    from qinghe.scheduler.schedule import job_by_name

    job = job_by_name("refresh_plan_figures")
    assert job is not None
    assert job.cron == f"*/{CADENCE_MINUTES} * * * *"
    assert job.target == "qinghe.plan.precomputed.figures_refresh"


def test_the_set_based_alliance_counts_equal_the_alliance_figures_page(
    world: World, personas: dict[str, Any]
) -> None:
    """counts_for_plan (SQL: window over each member's educations) against alliance_figures
    (the member rows read into Python) and against counts made here: the latest education
    counts, a member without a talent record counts as a member only, a pending member or a
    member of a closed chapter not at all."""
    from qinghe.alliance.selectors import alliance_figures, counts_for_plan
    from qinghe.reference.models import University
    from qinghe.talents.models import Education

    gz = University.objects.create(source_id="t1", name="测试大学甲", city="广州市")
    sz = University.objects.create(source_id="t2", name="测试大学乙", city="深圳市")
    chapter = chapter_create(
        actor=personas["league_staff"],
        data=ChapterData(name="青鹤联盟·佛山分会", kind=Chapter.Kind.CITY, city="佛山"),
    )
    closed = chapter_create(
        actor=personas["league_staff"],
        data=ChapterData(name="青鹤联盟·珠海分会", kind=Chapter.Kind.CITY, city="珠海"),
    )
    Chapter.objects.filter(pk=closed.pk).update(state="closed")
    s1, s2, s3, s4, s5 = (make_student(f"al{i}") for i in range(5))
    t1 = make_talent(name="甲", phone=None, user=s1, university="测试大学甲", graduation_year=2020)
    Education.objects.filter(talent=t1).update(university=gz)
    # s1's later education (乙, 深圳) is the one that counts
    Education.objects.create(
        talent=t1, university=sz, university_name="测试大学乙", graduation_year=2024
    )
    make_talent(name="乙", phone=None, user=s2, university="测试大学甲", graduation_year=2023)
    for s in (s1, s2, s3):  # s3 has no talent record
        Membership.objects.create(chapter=chapter, user=s, slot="place", status="active")
    Membership.objects.create(chapter=chapter, user=s4, slot="place", status="pending")
    Membership.objects.create(chapter=closed, user=s5, slot="place", status="active")
    counts = counts_for_plan()
    page = alliance_figures()
    assert counts == {
        "members": 3,
        "chapters": 1,
        "universities": 2,  # 测试大学乙 (s1's latest), 测试大学甲 (s2)
        "cities": 2,  # 深圳市 (乙's city) and 佛山 (the chapter's); s2's education has no city
    }
    assert counts == {
        "members": page.members,
        "chapters": page.chapters,
        "universities": page.universities,
        "cities": page.cities,
    }
