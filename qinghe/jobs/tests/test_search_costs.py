"""The job search page's cheaper forms (docs/SCALING.md, per-page cost): a bounded count, the
filter options rendered once per choice of filters, the cards' columns only."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from qinghe.core.roles import Role
from qinghe.enterprises.tests.factories import make_posting
from qinghe.jobs import views
from qinghe.testing.world import World

pytestmark = pytest.mark.django_db


def test_more_matches_than_the_cap_list_the_newest_and_say_so(
    client_as: Any, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = client_as(Role.STUDENT)
    for n in range(4):
        make_posting(world.a, title=f"数控车床操作工{n}")
    exact = client.get("/jobs/", {"q": "数控"})
    assert exact.context["page"].paginator.count == 4
    assert "共 4 个岗位。" in exact.content.decode()

    monkeypatch.setattr(views, "SEARCH_CAP", 3)
    capped = client.get("/jobs/", {"q": "数控"})
    paginator = capped.context["page"].paginator
    assert (paginator.count, paginator.capped) == (3, True)
    html = capped.content.decode()
    assert "超过 3 个岗位，列出最新发布的 3 个；加筛选条件可缩小范围。" in html
    assert html.count('data-testid="posting-card"') == 3
    newest = [p.title for p in capped.context["page"].object_list]
    assert newest == ["数控车床操作工3", "数控车床操作工2", "数控车床操作工1"]


def test_the_filter_options_are_rendered_once_and_keep_each_visitors_choice(
    client_as: Any, world: World
) -> None:
    client = client_as(Role.STUDENT)
    town = world.ref.gonghe
    first = client.get("/jobs/", {"town": town.code}).content.decode()
    selected = f'<option value="{town.code}" selected>{town.name}</option>'
    assert selected in first
    with CaptureQueriesContext(connection) as again:
        second = client.get("/jobs/", {"town": town.code}).content.decode()
    assert selected in second
    tables = " ".join(q["sql"] for q in again.captured_queries)
    # the options come from the cached fragment: no reference table is read for them
    assert "reference_majorcategory" not in tables
    assert '"reference_industry"."position"' not in tables
    other = client.get("/jobs/").content.decode()
    assert selected not in other and f'<option value="{town.code}">{town.name}</option>' in other


def test_the_cards_read_no_long_text_and_no_enterprise_phone(client_as: Any, world: World) -> None:
    client = client_as(Role.STUDENT)
    client.get("/jobs/")
    with CaptureQueriesContext(connection) as captured:
        html = client.get("/jobs/", {"q": "软件"}).content.decode()
    listing = [q["sql"] for q in captured.captured_queries if "ORDER BY" in q["sql"]]
    listing = [sql for sql in listing if '"jobs_posting"."title"' in sql]
    assert len(listing) == 1
    assert '"jobs_posting"."description"' not in listing[0]
    assert '"enterprises_enterprise"."contact_phone"' not in listing[0]
    assert world.posting_a.title in html and "鹤山市雅图仕印刷有限公司" in html
