"""Query budget of 为你推荐: pinned exactly, and the same for 2 recommendations as for 12;
one fewer when the student's lists are kept (core/fragments.py: no read of the lists)."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from qinghe.enterprises.tests.factories import make_posting
from qinghe.matching.models import Recommendation
from qinghe.matching.tasks import refresh_talent

from .conftest import Matching

pytestmark = pytest.mark.django_db

# After the first visit (the unread badge of 我的消息 kept): the session, the user, the
# student's record with its matching consent and the lists' time (one query, was three),
# the pending invitations, the lists.
FOR_ME_QUERIES = 5
FOR_ME_QUERIES_KEPT = 4  # the lists kept: not read


def for_me_queries(client: Client) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/matching/for-me/")
    assert response.status_code == 200
    return len(captured), response.content.decode()


def test_for_me_costs_the_same_for_few_and_many_recommendations(matching: Matching) -> None:
    w = matching.world
    client = Client()
    client.force_login(w.x)
    client.get("/matching/for-me/")  # the first visit computes the list
    caches["fragments"].clear()
    few, _ = for_me_queries(client)
    kept, _ = for_me_queries(client)
    shown_before = Recommendation.objects.filter(talent=matching.x).count()
    for n in range(10):
        make_posting(
            w.a,
            title=f"软件开发工程师（{n}）",
            majors=[w.ref.software_eng],
        )
    refresh_talent.enqueue(matching.x.pk)
    many, page = for_me_queries(client)
    assert Recommendation.objects.filter(talent=matching.x).count() == shown_before + 10
    assert "软件开发工程师（9）" in page
    kept_again, again = for_me_queries(client)
    assert "软件开发工程师（9）" in again
    assert (few, many) == (FOR_ME_QUERIES, FOR_ME_QUERIES)
    assert (kept, kept_again) == (FOR_ME_QUERIES_KEPT, FOR_ME_QUERIES_KEPT)
