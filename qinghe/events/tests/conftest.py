"""The events world: the HR bureau (人社局, staff 梁志强 "renshe"), the Youth League (区嘉欣
"tuanwei"), enterprise A (雅图仕, HR 陈嘉豪 "qiye", verified) and enterprise B (华翔, HR
"qiye_b"), and a published campus talk of A with two places."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from qinghe.accounts.models import User
from qinghe.core.roles import Role
from qinghe.enterprises.models import Enterprise
from qinghe.enterprises.tests.factories import Ref, make_enterprise, make_reference
from qinghe.events.models import Event

from .factories import make_event


@dataclass
class World:
    ref: Ref
    staff: User
    league: User
    hr_a: User
    hr_b: User
    a: Enterprise
    b: Enterprise
    talk: Event


@pytest.fixture
def world(personas: dict[str, User]) -> World:
    ref = make_reference()
    hr_a = personas[Role.ENTERPRISE_HR]
    assert hr_a.organisation is not None
    a = make_enterprise(ref, name=hr_a.organisation.name, n=1, organisation=hr_a.organisation)
    b = make_enterprise(ref, name="鹤山市华翔卫浴实业有限公司", n=2, hr_username="qiye_b")
    return World(
        ref=ref,
        staff=personas[Role.HR_STAFF],
        league=personas[Role.LEAGUE_STAFF],
        hr_a=hr_a,
        hr_b=User.objects.get(username="qiye_b"),
        a=a,
        b=b,
        talk=make_event(a.organisation),
    )
