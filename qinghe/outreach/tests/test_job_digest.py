"""The weekly personalised job digest."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from qinghe.core.roles import Role
from qinghe.enterprises.tests.factories import make_posting
from qinghe.jobs.models import Posting
from qinghe.matching.models import Recommendation
from qinghe.notifications.models import OutboxMessage
from qinghe.outreach.digest import digest_key, job_digest_queue
from qinghe.talents.models import Consent
from qinghe.talents.services import consent_record
from qinghe.talents.tests.factories import make_id, make_talent
from qinghe.testing.world import World

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 23)  # a Monday


@pytest.fixture
def student(world: World, personas: Any) -> Any:
    talent = make_talent(
        name="李晓彤", id_number=make_id("440784", "20040101", "777"), user=personas[Role.STUDENT]
    )
    # job pushes need the liaison consent (notifications rule) and the digest the matching one
    for purpose in (Consent.Purpose.MATCHING, Consent.Purpose.LIAISON):
        consent_record(talent=talent, purpose=purpose, granted=True, actor=personas[Role.STUDENT])
    now = timezone.now()
    for score, posting in ((88.0, world.posting_a), (75.0, world.posting_b)):
        Recommendation.objects.create(
            talent=talent,
            posting=posting,
            score=score,
            reasons=[{"criterion": "major", "points": 30, "text": "专业对口：软件工程"}],
            computed_at=now,
        )
    closed = make_posting(world.a, title="已关闭的岗位", state=Posting.State.CLOSED)
    Recommendation.objects.create(
        talent=talent, posting=closed, score=99.0, reasons=[], computed_at=now
    )
    return talent


def test_the_digest_lists_open_recommendations_best_first_once_a_week(
    world: World, student: Any
) -> None:
    assert job_digest_queue(today=TODAY) == 1
    inbox = OutboxMessage.objects.get(user=student.user, channel="inbox")
    assert inbox.category == "jobs"
    assert inbox.idempotency_key.startswith(digest_key(TODAY))
    lines = inbox.body.splitlines()
    assert lines[1] == f"1. {world.posting_a.title}（{world.a.name}）：专业对口：软件工程"
    assert lines[2] == f"2. {world.posting_b.title}（{world.b.name}）：专业对口：软件工程"
    assert "已关闭的岗位" not in inbox.body
    count = OutboxMessage.objects.count()
    assert job_digest_queue(today=TODAY + dt.timedelta(days=3)) == 1  # same ISO week
    assert OutboxMessage.objects.count() == count
    job_digest_queue(today=TODAY + dt.timedelta(days=7))
    assert OutboxMessage.objects.filter(user=student.user, channel="inbox").count() == 2


def test_no_digest_without_matching_consent(world: World, student: Any, personas: Any) -> None:
    consent_record(
        talent=student,
        purpose=Consent.Purpose.MATCHING,
        granted=False,
        actor=personas[Role.STUDENT],
    )
    assert job_digest_queue(today=TODAY) == 0
    assert not OutboxMessage.objects.filter(user=student.user).exists()


def test_no_digest_once_liaison_consent_is_withdrawn(
    world: World, student: Any, personas: Any
) -> None:
    consent_record(
        talent=student, purpose=Consent.Purpose.LIAISON, granted=False, actor=personas[Role.STUDENT]
    )
    assert job_digest_queue(today=TODAY) == 0
    assert not OutboxMessage.objects.filter(user=student.user).exists()
