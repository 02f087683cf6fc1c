"""Query budgets: the enterprise's applicants page costs a fixed number of queries however
many applicants it lists."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from qinghe.enterprises.tests.factories import make_posting, make_user
from qinghe.testing.recruiting import apply_to, claim_talent, invite
from qinghe.testing.world import World

pytestmark = pytest.mark.django_db

# Session, user, the viewer's enterprise, the paginator's count, the postings and the stages
# of the filter, and the page of applications (posting, stage, talent and the open-interview
# flag joined or annotated): never one query per applicant.
APPLICANTS_PAGE_QUERIES = 8  # incl. the unread badge of 我的消息


def add_applicants(world: World, start: int, count: int) -> None:
    posting = make_posting(world.a, title=f"岗位{start}")
    for i in range(start, start + count):
        user = make_user(f"xuezi_q{i}")
        claim_talent(user, name=f"学生{i}", seq=f"{i:03d}", phone=f"135{i:08d}")
        application = apply_to(user, posting)
        if i % 2:
            invite(world.hr_a, application, hours=48 + i)


def test_the_applicants_page_costs_the_same_queries_for_2_or_12_applicants(
    world: World, django_assert_num_queries: Any
) -> None:
    client = Client()
    client.force_login(world.hr_a)
    add_applicants(world, 100, 2)
    with django_assert_num_queries(APPLICANTS_PAGE_QUERIES):
        response = client.get("/jobs/mine/applicants/")
    assert response.status_code == 200 and len(response.context["page"].object_list) == 2
    add_applicants(world, 200, 10)
    with django_assert_num_queries(APPLICANTS_PAGE_QUERIES):
        response = client.get("/jobs/mine/applicants/")
    assert response.status_code == 200 and len(response.context["page"].object_list) == 12
