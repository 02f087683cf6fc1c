"""Query budget of the liaison workspace: pinned exactly, and the same for 2 students as for 20."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from qinghe.core.roles import Role
from qinghe.outreach.models import LiaisonAssignment
from qinghe.outreach.services import assignment_set, contact_log_record
from qinghe.talents.models import Consent
from qinghe.talents.services import consent_record
from qinghe.talents.tests.factories import make_id, make_talent

pytestmark = pytest.mark.django_db

# after the first visit (no session write within the minute, the unread badge kept): incl.
# the consenting students' numbers (one query) and the audit row of the numbers shown
WORKSPACE_QUERIES = 5


def assign_students(personas: Any, first: int, count: int) -> None:
    liaison = personas[Role.LIAISON]
    for n in range(first, first + count):
        talent = make_talent(
            name=f"李晓{n}",
            id_number=make_id("440784", "20030512", f"{n:03d}"),
            phone=f"13512340{n:03d}",
        )
        assignment_set(talent=talent, liaison=liaison, actor=personas[Role.HR_STAFF])
        # Every other student consented to liaison contact: their numbers are shown.
        consent_record(
            talent=talent, purpose=Consent.Purpose.LIAISON, granted=bool(n % 2), actor=None
        )
        if n % 2:
            contact_log_record(
                liaison=liaison, talent_id=talent.pk, channel="phone", outcome="reached"
            )


def test_the_liaison_workspace_costs_the_same_for_2_and_for_20_students(
    personas: Any, client_as: Any
) -> None:
    client = client_as(Role.LIAISON)
    assign_students(personas, 1, 2)
    client.get("/outreach/")
    with CaptureQueriesContext(connection) as few:
        assert client.get("/outreach/").status_code == 200
    assign_students(personas, 3, 18)
    assert LiaisonAssignment.objects.filter(liaison=personas[Role.LIAISON]).count() == 20
    with CaptureQueriesContext(connection) as many:
        response = client.get("/outreach/")
    assert response.status_code == 200
    assert "我的学子（20 人）" in response.content.decode()
    shown = re.findall(r'<a href="tel:(\d+)">', response.content.decode())
    assert sorted(set(shown)) == [f"13512340{n:03d}" for n in range(1, 21, 2)]
    assert (len(few), len(many)) == (WORKSPACE_QUERIES, WORKSPACE_QUERIES)


# Session, user (after the first visit: no session write within the minute, the unread badge
# kept); the assigned and reached students per liaison (one query: it was two), the overdue
# follow-ups per liaison, the liaisons' names.
FIGURES_QUERIES = 5


def test_the_contact_rate_page_costs_the_same_for_2_and_for_20_students(
    personas: Any, client_as: Any
) -> None:
    client = client_as(Role.HR_STAFF)
    assign_students(personas, 1, 2)
    client.get("/outreach/figures/")
    with CaptureQueriesContext(connection) as few:
        response = client.get("/outreach/figures/")
    assert response.status_code == 200
    assert (response.context["fig"]["assigned"], response.context["fig"]["reached"]) == (2, 1)
    assign_students(personas, 3, 18)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/outreach/figures/")
    assert response.status_code == 200
    fig = response.context["fig"]
    # 20 assigned, the odd-numbered 10 reached today (assign_students)
    assert (fig["assigned"], fig["reached"], fig["rate"]) == (20, 10, 50.0)
    assert [(r["assigned"], r["reached"]) for r in fig["rows"]] == [(20, 10)]
    assert (len(few), len(many)) == (FIGURES_QUERIES, FIGURES_QUERIES)
