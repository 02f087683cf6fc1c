"""The fair world: a cloud fair of the HR bureau running now, enterprise A's approved booth
with its published posting, and ten students registered for the fair (``fair_students``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.core.roles import Role
from qinghe.events.models import Event, Registration
from qinghe.events.tests.factories import make_event, make_student
from qinghe.fairs.models import Booth
from qinghe.testing.world import World


@dataclass
class Fair:
    world: World
    staff: User
    fair: Event
    booth: Booth
    students: list[User]


def register(user: User, event: Event) -> None:
    now = timezone.now()
    Registration.objects.create(
        event=event,
        user=user,
        status=Registration.Status.CONFIRMED,
        registered_at=now,
        confirmed_at=now,
    )


@pytest.fixture
def fair(world: World, personas: dict[str, User]) -> Fair:
    staff = personas[Role.HR_STAFF]
    assert staff.organisation is not None
    now = timezone.now()
    event = make_event(
        staff.organisation,
        now=now,
        type=Event.Type.CLOUD_FAIR,
        title="2026 鹤山市空中双选会",
        capacity=None,
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=5),
        registration_opens_at=now - dt.timedelta(days=3),
        registration_closes_at=now + dt.timedelta(hours=4),
        cancel_deadline=now - dt.timedelta(hours=2),
        place="",
    )
    booth = Booth.objects.create(
        fair=event, enterprise=world.a, state=Booth.State.APPROVED, applied_at=now
    )
    booth.postings.set([world.posting_a])
    students = [make_student(f"fair_s{i:02d}") for i in range(1, 11)]
    for s in students:
        register(s, event)
    return Fair(world=world, staff=staff, fair=event, booth=booth, students=students)
