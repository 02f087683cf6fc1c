"""Editing a published posting: the enterprise takes it down to a draft ("撤下修改"), edits it,
and submits it for review again; applications already made are kept throughout."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from qinghe.accounts.models import User
from qinghe.core.errors import PermissionDenied
from qinghe.core.roles import Role
from qinghe.enterprises.tests.factories import posting_data_of
from qinghe.jobs import services
from qinghe.jobs.models import Posting, PostingEvent
from qinghe.jobs.selectors import open_postings
from qinghe.recruitment.models import Application
from qinghe.testing.recruiting import X_PHONE, apply_to, claim_talent
from qinghe.testing.world import World

pytestmark = pytest.mark.django_db

S = Posting.State


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_published_posting_is_revised_edited_and_republished_keeping_applications(
    world: World, personas: Any
) -> None:
    claim_talent(world.x, name="李晓彤", seq="102", phone=X_PHONE)
    posting = world.posting_a
    application = apply_to(world.x, posting)
    hr = client_for(world.hr_a)

    page = hr.get(f"/jobs/mine/{posting.pk}/").content.decode()
    assert "撤下修改" in page
    response = hr.post(f"/jobs/mine/{posting.pk}/revise/")
    assert response.status_code == 302
    posting.refresh_from_db()
    assert posting.state == S.DRAFT
    assert posting.pk not in set(open_postings().values_list("pk", flat=True))
    # The application is untouched, and the student can still open it.
    assert Application.objects.filter(pk=application.pk, withdrawn_at__isnull=True).exists()
    assert client_for(world.x).get(f"/jobs/applications/{application.pk}/").status_code == 200
    # The applicants stay reachable from the draft's page.
    assert "应聘者（1）" in hr.get(f"/jobs/mine/{posting.pk}/").content.decode()

    data = posting_data_of(posting, title="高级软件开发工程师")
    assert services.posting_update(actor=world.hr_a, posting=posting, data=data) == ["title"]
    services.posting_submit(actor=world.hr_a, posting=posting)
    services.posting_approve(actor=personas[Role.HR_STAFF], posting=posting)
    posting.refresh_from_db()
    assert (posting.state, posting.title) == (S.PUBLISHED, "高级软件开发工程师")
    assert Application.objects.get(pk=application.pk).posting_id == posting.pk
    assert list(
        PostingEvent.objects.filter(posting=posting)
        .exclude(action="create")
        .order_by("id")
        .values_list("action", "from_state", "to_state")
    )[-4:] == [
        ("revise", "published", "draft"),
        ("edit", "draft", "draft"),
        ("submit", "draft", "review"),
        ("approve", "review", "published"),
    ]


def test_only_the_owner_enterprise_may_revise_and_nothing_changes_otherwise(
    world: World, personas: Any
) -> None:
    posting = world.posting_a
    before = (posting.state, PostingEvent.objects.filter(posting=posting).count())
    with pytest.raises(PermissionDenied):
        services.posting_transition(actor=personas[Role.HR_STAFF], posting=posting, action="revise")
    assert client_for(world.hr_b).post(f"/jobs/mine/{posting.pk}/revise/").status_code == 404
    posting.refresh_from_db()
    assert (posting.state, PostingEvent.objects.filter(posting=posting).count()) == before
