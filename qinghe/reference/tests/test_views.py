"""The staff pages and the search API."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _data(reference_data: Any) -> None:
    pass


@pytest.fixture
def alice_client(client: Client, alice: Any) -> Client:
    client.force_login(alice)
    return client


def test_staff_see_every_dataset_with_its_count(alice_client: Client) -> None:
    response = alice_client.get(reverse("reference:index"))
    assert response.status_code == 200
    datasets = {dataset.slug: count for dataset, count in response.context["datasets"]}
    assert datasets == {
        "majors": 845,
        "categories": 112,
        "universities": 3172,
        "regions": 6823,
        "towns": 12,
        "occupations": 2048,
        "industries": 117,
    }
    assert "本科专业" in response.content.decode()


def test_staff_search_a_dataset_by_pinyin_initials(alice_client: Client) -> None:
    response = alice_client.get(reverse("reference:list", args=["categories"]), {"q": "jsj"})
    assert response.status_code == 200
    assert [c.name for c in response.context["page"]] == ["计算机类"]
    html = response.content.decode()
    assert "计算机类" in html
    assert 'style="' not in html and "<script>" not in html


def test_a_list_page_is_paged_by_fifty(alice_client: Client) -> None:
    response = alice_client.get(reverse("reference:list", args=["majors"]), {"page": "2"})
    page = response.context["page"]
    assert (page.number, page.paginator.num_pages, len(page.object_list)) == (2, 17, 50)
    assert page.object_list[0].code == "030303T"


@pytest.mark.parametrize(
    "dataset",
    ["majors", "categories", "universities", "regions", "towns", "occupations", "industries"],
)
def test_every_list_page_renders_in_a_fixed_number_of_queries(
    alice_client: Client, dataset: str, django_assert_num_queries: Any
) -> None:
    # session, user, count, one page of rows (related rows joined), and the staff session's
    # idle expiry saved in a savepoint (SAVEPOINT, UPDATE, RELEASE), and the unread count of
    # 我的消息 in the top bar
    with django_assert_num_queries(8):
        response = alice_client.get(reverse("reference:list", args=[dataset]), {"q": "a"})
    assert response.status_code == 200


def test_an_unknown_dataset_is_not_found(alice_client: Client) -> None:
    assert alice_client.get("/reference/salaries/").status_code == 404


def test_a_student_is_refused_the_pages_and_the_api(client: Client, bob: Any) -> None:
    client.force_login(bob)
    assert client.get(reverse("reference:index")).status_code == 403
    assert client.get(reverse("reference:list", args=["majors"])).status_code == 403
    response = client.get(reverse("api:reference_search"), {"dataset": "majors", "q": "jsj"})
    assert response.status_code == 403


def test_an_anonymous_visitor_is_sent_to_sign_in(client: Client) -> None:
    response = client.get(reverse("reference:list", args=["majors"]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_api_search_returns_code_name_and_extra(alice_client: Client) -> None:
    response = alice_client.get(
        reverse("api:reference_search"), {"dataset": "majors", "q": "jsj", "limit": "2"}
    )
    assert response.status_code == 200
    assert response.json() == [
        {"code": "080901", "name": "计算机科学与技术", "extra": "计算机类"},
        {"code": "120110T", "name": "计算金融", "extra": "管理科学与工程类 · 特设"},
    ]


def test_api_search_of_universities_by_former_name(alice_client: Client) -> None:
    response = alice_client.get(
        reverse("api:reference_search"), {"dataset": "universities", "q": "第四军医大学"}
    )
    assert response.json() == [
        {"code": "1522", "name": "空军军医大学", "extra": "陕西 · 西安市 · 双一流 211"}
    ]


def test_api_search_refuses_unknown_datasets_and_limits_out_of_range(alice_client: Client) -> None:
    url = reverse("api:reference_search")
    assert alice_client.get(url, {"dataset": "salaries", "q": "x"}).status_code == 422
    assert alice_client.get(url, {"dataset": "majors", "limit": "0"}).status_code == 422
    assert alice_client.get(url, {"dataset": "majors", "limit": "101"}).status_code == 422
    assert len(alice_client.get(url, {"dataset": "towns"}).json()) == 12
