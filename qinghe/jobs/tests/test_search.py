"""The students' job search: Chinese keywords cut by jieba, filters, and what is never shown."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from qinghe.core.roles import Role
from qinghe.enterprises.models import Enterprise
from qinghe.enterprises.tests.factories import make_enterprise, make_posting
from qinghe.jobs import search
from qinghe.jobs.models import Posting
from qinghe.jobs.selectors import PostingFilter, posting_search
from qinghe.testing.world import World

pytestmark = pytest.mark.django_db


def titles(world: World, **filters: Any) -> list[str]:
    qs = posting_search(viewer=world.x, filters=PostingFilter.from_query(filters))
    return sorted(qs.values_list("title", flat=True))


# --- tokens, without the database ----------------------------------------------------------------


def test_document_tokens_hold_search_mode_words_between_spaces() -> None:
    tokens = search.document_tokens("软件开发工程师", "", "鹤山市雅图仕印刷有限公司")
    assert tokens.startswith(" ") and tokens.endswith(" ")
    assert {"软件", "开发", "软件开发", "工程师", "鹤山", "雅图", "印刷"} <= set(tokens.split())


def test_query_words_are_cut_in_precise_mode_and_normalised() -> None:
    assert [w.word for w in search.query_words("软件 开发")] == ["软件", "开发"]
    assert [w.word for w in search.query_words("ＰＹＴＨＯＮ，开发")] == ["python", "开发"]
    assert [(w.word, w.parts) for w in search.query_words("软件开发")] == [
        ("软件开发", ("软件", "开发"))
    ]
    assert search.query_words("，。！") == []


def test_a_longer_query_word_matches_by_its_parts() -> None:
    tokens = search.document_tokens("嵌入式软件工程师", "负责产品开发")
    assert search.matches(tokens, search.query_words("软件开发"))
    assert not search.matches(tokens, search.query_words("软件 测试"))


# --- keywords against the database --------------------------------------------------------------


def test_software_development_finds_the_software_development_engineer(world: World) -> None:
    assert titles(world, q="软件 开发") == ["软件开发工程师"]
    assert titles(world, q="软件开发") == ["软件开发工程师"]
    assert titles(world, q="工程师") == ["机械设计工程师（五金卫浴）", "软件开发工程师"]
    assert titles(world, q="Python") == ["软件开发工程师"]
    assert titles(world, q="会计") == []


def test_the_enterprise_name_is_searched_too(world: World) -> None:
    assert titles(world, q="雅图仕") == ["软件开发工程师"]
    assert titles(world, q="卫浴") == ["机械设计工程师（五金卫浴）"]


def test_a_whole_token_is_needed_not_a_substring(world: World) -> None:
    # 发工 is inside 开发工程师 but is not a word: it must not match.
    assert titles(world, q="发工") == []


# --- filters ---------------------------------------------------------------------------------------


@pytest.fixture
def many(world: World) -> World:
    ref = world.ref
    chem = make_enterprise(
        ref, name="鹤山市鹤化新材料科技有限公司", n=4, industry=ref.chemicals, town=ref.hecheng
    )
    make_posting(
        chem,
        title="化工工艺工程师",
        description="反应釜工艺控制",
        categories=[ref.chemistry],
        salary_min=6500,
    )
    make_posting(
        chem,
        title="化工研发实习生",
        kind="internship",
        description="配方实验",
        majors=[ref.chem_eng],
        salary_min=2800,
        salary_max=3500,
        min_level="junior",
    )
    make_posting(
        world.b,
        title="嵌入式软件实习生",
        kind="internship",
        description="嵌入式开发",
        majors=[ref.software_eng],
        salary_min=3000,
        salary_max=4000,
    )
    make_posting(
        world.b,
        title="博士后研究员",
        description="储能研发",
        min_level="doctor",
        salary_min=15000,
        salary_max=20000,
    )
    return world


def test_kind_filter(many: World) -> None:
    assert titles(many, kind="internship") == ["化工研发实习生", "嵌入式软件实习生"]


def test_industry_filter_by_division_and_by_section(many: World) -> None:
    assert titles(many, industry="26") == ["化工工艺工程师", "化工研发实习生"]
    assert len(titles(many, industry="C")) == 6
    assert titles(many, industry="65") == []


def test_town_filter(many: World) -> None:
    assert titles(many, town="440784105") == ["化工工艺工程师", "化工研发实习生"]


def test_major_filter_matches_the_major_its_category_or_no_requirement(many: World) -> None:
    ref = many.ref
    make_posting(many.a, title="Java 后端开发", categories=[ref.computing])
    # 软件工程 080902: the posting requiring it, the one requiring its category 0809, and the
    # postings open to any major; not those requiring chemistry.
    assert titles(many, major="080902") == [
        "Java 后端开发",
        "博士后研究员",
        "嵌入式软件实习生",
        "机械设计工程师（五金卫浴）",
        "软件开发工程师",
    ]
    # by category code: its own majors count too
    assert titles(many, major="0813") == [
        "化工工艺工程师",
        "化工研发实习生",
        "博士后研究员",
        "机械设计工程师（五金卫浴）",
        "软件开发工程师",
    ]


def test_level_filter_shows_postings_a_graduate_of_that_level_may_apply_to(many: World) -> None:
    assert titles(many, level="junior") == ["化工研发实习生"]
    assert "博士后研究员" not in titles(many, level="master")
    assert "博士后研究员" in titles(many, level="doctor")


def test_salary_filter_is_on_the_minimum(many: World) -> None:
    assert titles(many, salary="6500") == ["化工工艺工程师", "博士后研究员"]


def test_a_keyword_with_two_filters(many: World) -> None:
    assert titles(many, q="实习", kind="internship", town="440784106") == ["嵌入式软件实习生"]


# --- what students never see --------------------------------------------------------------------


def test_only_published_unexpired_postings_of_verified_enterprises_are_searched(
    world: World,
) -> None:
    today = timezone.localdate()
    make_posting(world.a, title="软件测试工程师", state=Posting.State.CLOSED)
    make_posting(world.a, title="软件实施顾问", state=Posting.State.EXPIRED)
    make_posting(world.a, title="软件运维工程师", closing_date=today - dt.timedelta(days=1))
    make_posting(world.c, title="软件产品经理")  # enterprise C is pending
    rejected = make_enterprise(
        world.ref, name="鹤山市宅梧农产品供应链有限公司", n=5, state=Enterprise.State.REJECTED
    )
    make_posting(rejected, title="软件工程师（冷链）")
    assert titles(world, q="软件") == ["软件开发工程师"]
    # a posting closing today is still open today
    make_posting(world.a, title="软件架构师", closing_date=today)
    assert titles(world, q="软件") == ["软件开发工程师", "软件架构师"]


def test_the_detail_page_of_a_draft_or_another_enterprises_draft_is_a_404(
    client_as: Any, world: World
) -> None:
    client = client_as(Role.STUDENT)
    assert client.get(f"/jobs/{world.posting_a.pk}/").status_code == 200
    assert client.get(f"/jobs/{world.draft_a.pk}/").status_code == 404
    assert client.get(f"/jobs/{world.review_a.pk}/").status_code == 404


def test_an_expired_posting_shows_that_it_takes_no_applications(
    client_as: Any, world: World
) -> None:
    past = make_posting(
        world.a, title="会计", closing_date=timezone.localdate() - dt.timedelta(days=3)
    )
    html = client_as(Role.STUDENT).get(f"/jobs/{past.pk}/").content.decode()
    assert 'data-testid="closed"' in html and 'data-testid="open"' not in html


# --- the page ----------------------------------------------------------------------------------------


def test_the_search_page_runs_a_fixed_number_of_queries(client_as: Any, many: World) -> None:
    client = client_as(Role.STUDENT)
    client.get("/jobs/")  # warm up the session
    with CaptureQueriesContext(connection) as few:
        client.get("/jobs/", {"q": "实习"})
    for n in range(10):
        make_posting(many.a, title=f"印刷实习生{n}", kind="internship")
    with CaptureQueriesContext(connection) as more:
        response = client.get("/jobs/", {"q": "实习"})
    assert response.context["page"].paginator.count == 12
    assert len(more) == len(few)


def test_the_page_shows_salary_enterprise_and_badges(client_as: Any, world: World) -> None:
    Posting.objects.filter(pk=world.posting_a.pk).update(natives_first=True, is_quality=True)
    html = client_as(Role.STUDENT).get("/jobs/", {"q": "软件"}).content.decode()
    assert "6000–9000 元/月" in html and "鹤山市雅图仕印刷有限公司" in html
    assert "优质岗位" in html and "鹤山籍优先" in html


def test_favourites_are_per_student(client_as: Any, world: World) -> None:
    x = client_as(Role.STUDENT)
    x.post(f"/jobs/{world.posting_a.pk}/favourite/")
    assert [p.pk for p in x.get("/jobs/favourites/").context["page"].object_list] == [
        world.posting_a.pk
    ]
    from django.test import Client

    y = Client()
    y.force_login(world.y)
    assert list(y.get("/jobs/favourites/").context["page"].object_list) == []
    x.post(f"/jobs/{world.posting_a.pk}/favourite/")  # toggles off
    assert list(x.get("/jobs/favourites/").context["page"].object_list) == []
