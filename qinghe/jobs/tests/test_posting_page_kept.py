"""A posting's page keeps what every viewer sees alike (jobs/views.py, core/fragments.py): a
change of the posting, its enterprise or a related story shows on the next request, and the
viewer's own part — 收藏, the application, the talent record — is read for each request."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from qinghe.alliance import stories
from qinghe.alliance.stories import StoryData
from qinghe.core.roles import Role
from qinghe.enterprises.services import ProfileData, enterprise_update_profile
from qinghe.enterprises.tests.factories import posting_data_of
from qinghe.jobs import services
from qinghe.jobs.services import posting_close, posting_update
from qinghe.recruitment.tests.test_share_choice import POSTING_PAGE_QUERIES
from qinghe.testing.recruiting import X_PHONE, apply_to, claim_talent
from qinghe.testing.world import World

pytestmark = pytest.mark.django_db

OPEN = 'data-testid="open"'
CLOSED = 'data-testid="closed"'
CSRF = re.compile(r'(?<=csrfmiddlewaretoken" value=")[^"]+|(?<=CSRFToken": ")[^"]+')


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def unmasked(html: str) -> str:
    """The page without its CSRF tokens (masked anew for each response)."""
    return CSRF.sub("…", html)


def page(client: Client, posting_id: int) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/jobs/{posting_id}/")
    assert response.status_code == 200
    return len(captured), response.content.decode()


def test_the_posting_part_is_kept_and_a_closed_posting_shows_closed_at_once(
    world: World,
) -> None:
    client = signed_in(world.x)
    first, html = page(client, world.posting_a.pk)
    kept, again = page(client, world.posting_a.pk)
    assert kept == POSTING_PAGE_QUERIES and first > kept
    assert unmasked(again) == unmasked(html) and OPEN in html and CLOSED not in html

    posting_close(actor=world.hr_a, posting=world.posting_a)

    fresh, closed = page(client, world.posting_a.pk)
    # drawn again: the posting, its majors and categories, the related stories
    assert fresh == POSTING_PAGE_QUERIES + 4
    assert CLOSED in closed and OPEN not in closed
    # another student reads the same kept part: also closed
    assert CLOSED in page(signed_in(world.y), world.posting_a.pk)[1]


def test_a_revised_posting_is_gone_at_once_and_back_with_its_new_title(
    world: World, personas: dict[str, Any]
) -> None:
    client = signed_in(world.x)
    posting = world.posting_a
    assert '<h1 class="h3 mb-0 me-auto">软件开发工程师</h1>' in page(client, posting.pk)[1]
    services.posting_transition(actor=world.hr_a, posting=posting, action="revise")
    assert client.get(f"/jobs/{posting.pk}/").status_code == 404
    posting.refresh_from_db()
    data = posting_data_of(posting, title="高级软件开发工程师")
    assert posting_update(actor=world.hr_a, posting=posting, data=data) == ["title"]
    assert client.get(f"/jobs/{posting.pk}/").status_code == 404
    services.posting_submit(actor=world.hr_a, posting=posting)
    services.posting_approve(actor=personas[Role.HR_STAFF], posting=posting)
    html = page(client, posting.pk)[1]
    assert '<h1 class="h3 mb-0 me-auto">高级软件开发工程师</h1>' in html
    assert ">软件开发工程师<" not in html


def test_an_enterprise_profile_change_shows_at_once(world: World) -> None:
    client = signed_in(world.x)
    html = page(client, world.posting_a.pk)[1]
    assert "新的企业简介：专注精密五金。" not in html
    enterprise = world.a
    enterprise_update_profile(
        actor=world.hr_a,
        enterprise=enterprise,
        profile=ProfileData(
            industry=enterprise.industry,
            town=enterprise.town,
            size=enterprise.size,
            contact_name=enterprise.contact_name,
            contact_phone=enterprise.contact_phone,
            park=enterprise.park,
            address=enterprise.address,
            description="新的企业简介：专注精密五金。",
        ),
    )
    html = page(client, world.posting_a.pk)[1]
    assert f"关于 {enterprise.name}" in html and "新的企业简介：专注精密五金。" in html


def test_a_published_story_of_the_postings_town_shows_at_once(
    world: World, personas: dict[str, Any]
) -> None:
    client = signed_in(world.x)
    assert 'data-testid="related-stories"' not in page(client, world.posting_a.pk)[1]
    league = personas[Role.LEAGUE_STAFF]
    story = stories.story_save(
        actor=league,
        data=StoryData(
            title="回到鹤山做软件",
            person_name="梁嘉豪",
            summary="毕业后回到鹤山。",
            body="……",
            consent_on=dt.date(2026, 5, 1),
            consent_note="本人签署书面同意书",
            town=world.posting_a.town,
        ),
    )
    assert 'data-testid="related-stories"' not in page(client, world.posting_a.pk)[1]
    stories.story_publish(actor=league, story=story, publish=True)
    html = page(client, world.posting_a.pk)[1]
    assert 'data-testid="related-stories"' in html and "回到鹤山做软件" in html
    stories.story_publish(actor=league, story=story, publish=False)
    assert "回到鹤山做软件" not in page(client, world.posting_a.pk)[1]


def test_the_viewers_favourite_record_and_application_show_at_once(world: World) -> None:
    client = signed_in(world.x)
    html = page(client, world.posting_a.pk)[1]
    assert ">收藏</button>" in html and "已收藏" not in html
    assert 'data-testid="claim-first"' in html and 'data-testid="open-apply"' not in html

    services.favourite_toggle(user=world.x, posting=world.posting_a)
    html = page(client, world.posting_a.pk)[1]
    assert ">已收藏</button>" in html and ">收藏</button>" not in html
    # another student's page of the same (kept) posting is not
    other = page(signed_in(world.y), world.posting_a.pk)[1]
    assert ">收藏</button>" in other and "已收藏" not in other

    claim_talent(world.x, name="李晓彤", seq="102", phone=X_PHONE)
    html = page(client, world.posting_a.pk)[1]
    assert 'data-testid="open-apply"' in html and 'data-testid="claim-first"' not in html

    application = apply_to(world.x, world.posting_a)
    html = page(client, world.posting_a.pk)[1]
    assert 'data-testid="applied"' in html and 'data-testid="open-apply"' not in html
    assert f"（当前阶段：{application.stage.name}）" in html
    assert f'href="{reverse("recruitment:my_application", args=[application.pk])}"' in html


def test_the_search_keeps_its_cards_and_each_viewers_favourites_show_at_once(
    world: World,
) -> None:
    x, y = signed_in(world.x), signed_in(world.y)
    card = f'action="/jobs/{world.posting_a.pk}/favourite/"'
    for client in (x, y):
        html = client.get("/jobs/", {"q": "软件"}).content.decode()
        form = html[html.index(card) :]
        assert form[: form.index("</form>")].endswith(">收藏</button>")

    services.favourite_toggle(user=world.x, posting=world.posting_a)

    html = x.get("/jobs/", {"q": "软件"}).content.decode()
    form = html[html.index(card) :]
    assert form[: form.index("</form>")].endswith(">已收藏</button>")
    # the other student's page, drawn from the same kept cards, is not
    html = y.get("/jobs/", {"q": "软件"}).content.decode()
    form = html[html.index(card) :]
    assert form[: form.index("</form>")].endswith(">收藏</button>")
