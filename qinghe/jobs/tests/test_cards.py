"""The list cards written out in Python (qinghe/jobs/cards.py): escaped as the templates
were, the per-request parts (CSRF token, favourite state, the way back) this request's."""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client

from qinghe.core.roles import Role
from qinghe.enterprises.tests.factories import make_posting
from qinghe.jobs import cards
from qinghe.jobs.models import Posting
from qinghe.testing.world import World

pytestmark = pytest.mark.django_db


def _posting(world: World, **fields: Any) -> Posting:
    made = make_posting(world.a, **fields)
    return Posting.objects.select_related("enterprise", "town").get(pk=made.pk)


def test_a_card_escapes_what_the_enterprise_typed(world: World) -> None:
    p = _posting(
        world,
        title='<script>alert("x")</script>',
        closing_date=dt.date(2031, 3, 4),
        is_quality=True,
        natives_first=True,
    )
    html = cards.posting_cards(
        [p], can_favourite=True, favourites={p.pk}, csrf_token="TOKEN", next_path='/jobs/?q="><b>'
    )
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert f'href="/jobs/{p.pk}/"' in html
    assert "截止 03-04" in html
    assert (
        '<span class="badge text-bg-warning" title="人社局认定的优质岗位">优质岗位</span>' in html
    )
    assert '<span class="badge text-bg-success">鹤山籍优先</span>' in html
    assert '<input type="hidden" name="csrfmiddlewaretoken" value="TOKEN">' in html
    assert '<input type="hidden" name="next" value="/jobs/?q=&quot;&gt;&lt;b&gt;">' in html
    assert 'btn-warning" type="submit">已收藏</button>' in html
    plain = cards.posting_cards(
        [p], can_favourite=False, favourites=set(), csrf_token="", next_path="/jobs/"
    )
    assert "<form" not in plain and "csrfmiddlewaretoken" not in plain


def test_the_search_cards_carry_this_requests_token_and_favourites(
    personas: dict[str, Any], world: World
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas[Role.STUDENT])
    saved = world.posting_a
    html = client.get("/jobs/", {"q": "软件"}).content.decode()
    tokens = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert tokens, "the student's cards have their 收藏 forms"
    assert '<input type="hidden" name="next" value="/jobs/?q=%E8%BD%AF%E4%BB%B6">' in html
    # the card's token passes the CSRF check of this session (a foreign one would not)
    refused = client.post(
        f"/jobs/{saved.pk}/favourite/", {"next": "/jobs/", "csrfmiddlewaretoken": "x" * 64}
    )
    assert refused.status_code == 403
    done = client.post(
        f"/jobs/{saved.pk}/favourite/", {"next": "/jobs/", "csrfmiddlewaretoken": tokens[0]}
    )
    assert (done.status_code, done["Location"]) == (302, "/jobs/")
    html = client.get("/jobs/", {"q": "软件"}).content.decode()
    card = html.split(f'href="/jobs/{saved.pk}/"', 1)[1].split("</form>", 1)[0]
    assert 'btn-warning" type="submit">已收藏</button>' in card


def test_reasons_and_recommendation_cards(world: World) -> None:
    p = _posting(world, title="数控&车床")
    rec = SimpleNamespace(
        posting=p,
        score=71.25,
        reasons=[
            {"criterion": "native", "text": "鹤山籍<学子>", "points": 5},
            {"criterion": "major", "text": "专业对口", "points": 0},
        ],
    )
    html = cards.recommendation_cards([rec], empty="没有")
    assert 'data-testid="recommendation"' in html and "数控&amp;车床" in html
    assert '<span class="badge text-bg-success" title="匹配分">71.3 分</span>' in html
    assert (
        '<li><span class="badge text-bg-info me-1">公开规则</span>鹤山籍&lt;学子&gt; '
        '<span class="text-muted">+5.0</span></li>'
    ) in html
    assert "<li>专业对口</li>" in html
    assert cards.recommendation_cards([], empty="没有<合适>") == (
        '<p class="text-muted">没有&lt;合适&gt;</p>'
    )


def test_the_state_and_stage_badges_are_the_templates_they_replace() -> None:
    from django.template.loader import render_to_string

    today = dt.date(2026, 6, 1)
    for state in Posting.State.values:
        for closing in (None, dt.date(2026, 5, 31), today):
            p = Posting(state=state, closing_date=closing)
            for day in (today, None):
                drawn = render_to_string("jobs/_state.html", {"p": p, "today": day})
                assert str(cards.state_badge(p, day)) == drawn.rstrip("\n")
    assert str(
        cards.state_badge(Posting(state="published", closing_date=dt.date(2026, 5, 31)), today)
    ) == ('<span class="badge text-bg-secondary">已截止（待下线）</span>')
    for kind in ("applied", "interview", "offer", "onboarded", "rejected", "withdrawn", "other"):
        stage = SimpleNamespace(kind=kind, name="面试<复试>")
        drawn = render_to_string("recruitment/_stage.html", {"stage": stage})
        assert str(cards.stage_badge(stage)) == drawn.rstrip("\n")
    assert str(cards.stage_badge(SimpleNamespace(kind="offer", name="A&B"))) == (
        '<span class="badge text-bg-success" data-testid="stage">A&amp;B</span>'
    )
