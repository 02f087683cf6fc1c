"""The return funnel: stages, conversions, year-over-year, breakdowns and where graduates work,
each against rows counted by hand; the drill-down lists the same people; a fixed query count."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from qinghe.core.roles import Role
from qinghe.plan import funnel
from qinghe.plan.precomputed import compute_funnel, funnel_key, store
from qinghe.reference.models import Industry, Town
from qinghe.talents.models import Destination, Education, Source, Talent
from qinghe.talents.tests.factories import make_id, make_talent
from qinghe.testing.world import World

pytestmark = pytest.mark.django_db

S = Talent.Status
YEAR = 2025


def person(
    n: int,
    *,
    year: int,
    status: str,
    university: str = "中山大学",
    dfc: bool = False,
    native: bool = True,
    town: Town | None = None,
) -> Talent:
    t = make_talent(
        name=f"学子{n}",
        id_number=make_id("440784" if native else "440106", "20020101", f"{n:03d}"),
        phone=None,
        university=university,
        graduation_year=year,
    )
    Talent.objects.filter(pk=t.pk).update(status=status, town=town)
    Education.objects.filter(talent=t).update(is_double_first_class=dfc)
    return t


def employ(t: Talent, region: str, area: str, industry: Industry | None = None) -> None:
    Destination.objects.create(
        talent=t,
        kind="employed",
        region_text=region,
        area=area,
        industry=industry,
        year=YEAR,
        source=Source.SURVEY,
    )


@pytest.fixture
def cohort(world: World) -> dict[str, Any]:
    town = Town.objects.order_by("code").first()
    industry = Industry.objects.order_by("code").first()
    people = {
        "a": person(1, year=YEAR, status=S.EMPLOYED_HESHAN, dfc=True, town=town),
        "b": person(2, year=YEAR, status=S.EMPLOYED_HESHAN, town=town),
        "c": person(3, year=YEAR, status=S.EMPLOYED_ELSEWHERE, university="华南理工大学"),
        "d": person(4, year=YEAR, status=S.SEEKING, university="华南理工大学"),
        "e": person(5, year=YEAR, status=S.STUDYING),
        "f": person(6, year=YEAR - 1, status=S.EMPLOYED_HESHAN),
        "g": person(7, year=YEAR - 1, status=S.EMPLOYED_JIANGMEN),
        "x": person(8, year=YEAR, status=S.EMPLOYED_HESHAN, native=False),  # not a native
    }
    employ(people["a"], "广东省江门市鹤山市沙坪街道", "heshan", industry)
    employ(people["b"], "广东省江门市鹤山市址山镇", "heshan")
    employ(people["c"], "广东省深圳市南山区", "elsewhere", industry)
    # c's older job elsewhere is not counted: the newest record says where they work now
    Destination.objects.create(
        talent=people["c"], kind="employed", region_text="广东省广州市天河区", area="elsewhere",
        year=YEAR - 1, source=Source.SURVEY,
    )  # fmt: skip
    employ(people["x"], "广东省江门市鹤山市沙坪街道", "heshan")
    return {"town": town, "industry": industry, **people}


def test_stages_conversions_and_the_year_before(cohort: dict[str, Any]) -> None:
    yoy = funnel.year_on_year(year=YEAR)
    assert yoy.this.counts == {"at_school": 5, "graduated": 4, "employed": 3, "returned": 2}
    assert [yoy.this.rate(c) for c, _ in funnel.STAGES] == [None, 80.0, 75.0, 66.7]
    assert yoy.before.counts == {"at_school": 2, "graduated": 2, "employed": 2, "returned": 1}
    assert yoy.this.overall == 40.0 and yoy.before.overall == 50.0
    assert yoy.change("returned") == round(66.7 - 50.0, 1)


def test_breakdowns_by_university_double_first_class_town_and_year(
    cohort: dict[str, Any],
) -> None:
    by_uni = {f.label: f.counts for f in funnel.breakdown(by="university", year=YEAR)}
    assert by_uni == {
        "中山大学": {"at_school": 3, "graduated": 2, "employed": 2, "returned": 2},
        "华南理工大学": {"at_school": 2, "graduated": 2, "employed": 1, "returned": 0},
    }
    top = funnel.breakdown(by="university", year=YEAR, top=1)
    assert [(f.label, f.counts["at_school"], f.link_query != "") for f in top] == [
        ("中山大学", 3, True),
        ("其他（1 项）", 2, False),
    ]
    by_dfc = {
        f.label: f.counts["at_school"] for f in funnel.breakdown(by="double_first_class", year=YEAR)
    }
    assert by_dfc == {"双一流高校": 1, "非双一流高校": 4}
    by_town = {f.label: f.counts["returned"] for f in funnel.breakdown(by="town", year=YEAR)}
    assert by_town == {cohort["town"].name: 2, "未填写": 0}
    by_year = [(f.label, f.counts["at_school"]) for f in funnel.breakdown(by="year", year=None)]
    assert by_year == [(f"{YEAR} 届", 5), (f"{YEAR - 1} 届", 2)]
    assert funnel.breakdown(by="major_category", year=YEAR)[0].label == "未填写"


def test_where_graduates_go_counts_each_persons_newest_job(cohort: dict[str, Any]) -> None:
    where = funnel.destinations(year=YEAR)
    assert where.cities == [("鹤山市", 2), ("深圳市", 1)]
    assert where.industries == [(cohort["industry"].name, 2), ("未填写行业", 1)]
    assert where.total == 3
    assert funnel.city_of("北京市海淀区", "elsewhere") == "北京市"
    assert funnel.city_of("", "") == "未填写地区"


def test_the_drill_down_lists_the_people_counted(client_as: Any, cohort: dict[str, Any]) -> None:
    client = client_as(Role.HR_STAFF)
    (uni,) = [f for f in funnel.breakdown(by="university", year=YEAR) if f.label == "华南理工大学"]
    response = client.get(f"/talents/?{uni.link_query}")
    assert response.status_code == 200
    listed = {t.pk for t in response.context["page"].object_list}
    assert listed == {cohort["c"].pk, cohort["d"].pk}


def test_the_funnel_page_for_leaders_with_charts_and_tables(
    client_as: Any, cohort: dict[str, Any]
) -> None:
    response = client_as(Role.LEAGUE_STAFF).get("/plan/funnel/", {"year": YEAR, "by": "town"})
    assert response.status_code == 200
    html = response.content.decode()
    for chart in ("funnel-chart-data", "cities-chart-data", "industries-chart-data"):
        assert f'data-chart="{chart}"' in html
    assert 'data-testid="where-cities"' in html and "深圳市" in html
    assert client_as(Role.LEAGUE_STAFF).get("/plan/funnel/", {"by": "x"}).status_code == 404
    assert client_as(Role.LIAISON).get("/plan/funnel/").status_code == 403


# Session, user, the unread badge, the session's save (savepoint, update, release); the
# precomputed funnel (one row: year-on-year, every breakdown, cities and industries).
FUNNEL_QUERIES = 3  # after the session's first page (no session write, the badge kept)


def test_the_funnel_page_costs_the_same_queries_however_many_people(
    world: World, personas: dict[str, Any], django_assert_num_queries: Any
) -> None:
    client = Client()
    client.force_login(personas["hr_staff"])
    client.get("/messages/preferences/")  # first page: session expiry pushed, badge drawn
    person(1, year=YEAR, status=S.EMPLOYED_HESHAN)
    store(funnel_key(YEAR), compute_funnel(YEAR))
    with django_assert_num_queries(FUNNEL_QUERIES):
        assert client.get(f"/plan/funnel/?year={YEAR}").status_code == 200
    for n in range(2, 12):
        t = person(n, year=YEAR, status=S.EMPLOYED_ELSEWHERE, university=f"大学{n}")
        employ(t, f"广东省城{n}市", "elsewhere")
    store(funnel_key(YEAR), compute_funnel(YEAR))
    with django_assert_num_queries(FUNNEL_QUERIES):
        response = client.get(f"/plan/funnel/?year={YEAR}")
    assert response.context["yoy"].this.counts["at_school"] == 11
    assert response.context["where"].cities == sorted((f"城{n}市", 1) for n in range(2, 12))


def test_the_precomputed_funnel_equals_the_live_one_and_follows_the_rows_after_the_job(
    client_as: Any, cohort: dict[str, Any]
) -> None:
    """The job stores last year's cohort (the page's default); the page shows exactly what
    the funnel's own queries count from the rows, for every breakdown; a new person shows
    once the job has run again."""
    from django.utils import timezone

    from qinghe.plan.models import PrecomputedFigures
    from qinghe.plan.precomputed import figures_refresh

    assert YEAR == timezone.localdate().year - 1  # the default cohort, stored by the job
    figures_refresh()
    client = client_as(Role.HR_STAFF)
    for by in funnel.DIMENSIONS:
        response = client.get("/plan/funnel/", {"by": by})
        assert response.context["year"] == YEAR
        live = funnel.breakdown(by=by, year=None if by == "year" else YEAR, top=funnel.TOP)
        assert response.context["rows"] == live, by
    assert response.context["yoy"] == funnel.year_on_year(year=YEAR)
    assert response.context["yoy"].this.counts == {
        "at_school": 5, "graduated": 4, "employed": 3, "returned": 2,
    }  # fmt: skip
    assert response.context["where"] == funnel.destinations(year=YEAR)
    stored = PrecomputedFigures.objects.get(key=f"funnel:{YEAR}")
    assert f"数据更新于 {timezone.localtime(stored.computed_at):%H:%M}" in response.content.decode()

    person(20, year=YEAR, status=S.EMPLOYED_HESHAN)
    response = client.get("/plan/funnel/")
    assert response.context["yoy"].this.counts["returned"] == 2  # until the job runs
    figures_refresh()
    response = client.get("/plan/funnel/")
    assert response.context["yoy"].this.counts["returned"] == 3
    assert response.context["yoy"].this.counts["at_school"] == 6
