"""Role models: written and published by League staff with the person's consent recorded;
read by anyone; shown beside postings and events of their industry or town."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from qinghe.alliance import stories
from qinghe.alliance.models import Story
from qinghe.alliance.stories import StoryData
from qinghe.core.errors import PermissionDenied
from qinghe.core.models import AuditLog
from qinghe.core.roles import Role
from qinghe.reference.models import Industry

pytestmark = pytest.mark.django_db


def data(**kw: Any) -> StoryData:
    values: dict[str, Any] = {
        "title": "从华工到鹤山：一名工程师的返乡选择",
        "person_name": "梁嘉豪",
        "summary": "毕业后回到鹤山，在新材料企业做研发。",
        "body": "……",
        "consent_on": dt.date(2026, 5, 1),
        "consent_note": "本人签署书面同意书",
    }
    values.update(kw)
    return StoryData(**values)


def test_consent_is_required_and_staff_only(personas: dict[str, Any]) -> None:
    league = personas[Role.LEAGUE_STAFF]
    before = (Story.objects.count(), AuditLog.objects.count())
    with pytest.raises(ValidationError) as exc:
        stories.story_save(actor=league, data=data(consent_note=""))
    assert exc.value.message_dict == {
        "consent_on": ["请记录本人同意刊登的日期和方式（如书面同意书）"]
    }
    with pytest.raises(ValidationError):
        stories.story_save(actor=league, data=data(consent_on=dt.date(2999, 1, 1)))
    with pytest.raises(PermissionDenied):
        stories.story_save(actor=personas[Role.STUDENT], data=data())
    assert (Story.objects.count(), AuditLog.objects.count()) == before


def test_published_stories_reach_readers_and_related_pages(
    personas: dict[str, Any], client: Client
) -> None:
    league = personas[Role.LEAGUE_STAFF]
    industry = Industry.objects.create(code="30", name="非金属矿物制品业", level="division")
    story = stories.story_save(actor=league, data=data(industry=industry))
    assert client.get(f"/alliance/stories/{story.pk}/").status_code == 404  # a draft
    stories.story_publish(actor=league, story=story, publish=True)
    page = client.get("/alliance/stories/")
    assert [s.pk for s in page.context["page"]] == [story.pk]
    assert client.get(f"/alliance/stories/{story.pk}/").status_code == 200
    assert [
        s.pk for s in client.get("/alliance/stories/", {"industry": "31"}).context["page"]
    ] == []
    assert stories.stories_related(industry_ids=[industry.pk]) == [story]
    assert stories.stories_related() == []
    stories.story_publish(actor=league, story=story, publish=False)
    assert stories.stories_related(industry_ids=[industry.pk]) == []
    staff = Client()
    staff.force_login(league)
    r = staff.post("/alliance/stories/manage/new/", {"title": "", "person_name": "x"})
    assert r.status_code == 200 and "title" in r.context["form"].errors
    assert Story.objects.count() == 1
