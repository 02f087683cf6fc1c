"""为你推荐's lists and the job search's results kept under versions (core/fragments.py): a
change shows at once, a kept part is read again until then, and one student's kept lists are
never another's."""

from __future__ import annotations

import re

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from qinghe.enterprises.tests.factories import make_posting
from qinghe.jobs.services import posting_close
from qinghe.matching.services.recompute import (
    recommendations_recompute_all,
    recommendations_refresh_talent,
)

from .conftest import Matching
from .test_query_budgets import FOR_ME_QUERIES, FOR_ME_QUERIES_KEPT

pytestmark = pytest.mark.django_db

POSTING_LINK = re.compile(r'href="/jobs/(\d+)/"')


def signed_in(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def visit(client: Client, path: str, **query: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, query)
    assert response.status_code == 200
    return len(captured), response.content.decode()


def links(html: str) -> set[int]:
    return {int(n) for n in POSTING_LINK.findall(html)}


def test_a_closed_posting_leaves_for_me_and_the_search_at_once(matching: Matching) -> None:
    w = matching.world
    recommendations_recompute_all()
    client = signed_in(w.x)
    visit(client, "/matching/for-me/")
    kept, for_me = visit(client, "/matching/for-me/")
    assert kept == FOR_ME_QUERIES_KEPT  # read from the kept part
    first, search = visit(client, "/jobs/", q="软件")
    again, search_again = visit(client, "/jobs/", q="软件")
    # The first also reads the filter form's options (kept 10 minutes), counts and lists the
    # matches; the second reads no posting: the page's cards are kept (only the session, the
    # user, the viewer's 收藏 and major; the unread badge of 我的消息 kept since the first
    # visit in both).
    assert (first, again) == (9, 4)
    assert w.posting_a.pk in links(for_me) and w.posting_a.pk in links(search)
    assert links(search_again) == links(search)

    posting_close(actor=w.hr_a, posting=w.posting_a)

    fresh, for_me = visit(client, "/matching/for-me/")
    assert fresh == FOR_ME_QUERIES
    assert w.posting_a.pk not in links(for_me)
    assert w.posting_a.pk not in links(visit(client, "/jobs/", q="软件")[1])
    # Another viewer's search is the same shared page, also without it.
    assert w.posting_a.pk not in links(visit(signed_in(w.y), "/jobs/", q="软件")[1])


def test_a_published_posting_enters_the_kept_search_at_once(matching: Matching) -> None:
    w = matching.world
    client = signed_in(w.x)
    before = links(visit(client, "/jobs/", q="工程师")[1])
    posting = make_posting(w.a, title="数据工程师（新）")
    after = links(visit(client, "/jobs/", q="工程师")[1])
    assert after == before | {posting.pk}


def test_one_students_new_list_shows_at_once_and_leaves_the_others_kept(
    matching: Matching,
) -> None:
    w = matching.world
    recommendations_recompute_all()
    newer = make_posting(w.a, title="软件开发工程师（新）", majors=[w.ref.software_eng])
    x, y = signed_in(w.x), signed_in(w.y)
    for client in (x, y):
        visit(client, "/matching/for-me/")
    assert newer.pk not in links(visit(x, "/matching/for-me/")[1])  # not in x's stored list

    recommendations_refresh_talent(talent_id=matching.x.pk)  # x's list written again

    queries, page = visit(x, "/matching/for-me/")
    assert queries == FOR_ME_QUERIES and newer.pk in links(page)
    assert visit(y, "/matching/for-me/")[0] == FOR_ME_QUERIES_KEPT  # y's kept part stands


def test_a_student_never_sees_another_students_kept_lists(matching: Matching) -> None:
    w = matching.world
    recommendations_recompute_all()
    make_posting(w.b, title="化工工艺工程师", majors=[w.ref.chem_eng])
    recommendations_recompute_all()
    x, y = signed_in(w.x), signed_in(w.y)
    drawn = {}
    for name, client in (("x", x), ("y", y)):
        caches["fragments"].clear()
        drawn[name] = links(visit(client, "/matching/for-me/")[1])
    assert drawn["x"] and drawn["y"] and drawn["x"] != drawn["y"]
    # Both kept now (x's drawn first, then y's, then each read from its kept part).
    visit(x, "/matching/for-me/")
    for name, client in (("y", y), ("x", x)):
        queries, page = visit(client, "/matching/for-me/")
        assert queries == FOR_ME_QUERIES_KEPT
        assert links(page) == drawn[name]
