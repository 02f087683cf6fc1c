"""The matching world: the recruitment world of the enterprise tests (enterprise A with the HR
persona 陈嘉豪, enterprise B, students X = the persona 李晓彤 and Y, postings of A and B),
the occupation catalog loaded once per module, majors' occupations derived for the two
categories of the reference stub, and talents for the students."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.matching.services.majors import major_occupations_build
from qinghe.matching.services.tags import postings_classify
from qinghe.reference.models import Occupation
from qinghe.reference.services import DATA_DIR, load_occupations
from qinghe.talents.models import Consent, Education, Talent
from qinghe.talents.services import consent_record
from qinghe.talents.tests.factories import make_id, make_talent
from qinghe.testing.world import World


@pytest.fixture(scope="module")
def occupations(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    """The 2022 catalog, loaded once per module (about a second) and removed afterwards."""
    with django_db_blocker.unblock():
        load_occupations(data_dir=DATA_DIR)
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            Occupation.objects.all().delete()


def add_talent(
    *,
    name: str,
    major: Any = None,
    category: Any = None,
    native: bool = True,
    graduation_year: int | None = None,
    level: str = "bachelor",
    user: User | None = None,
    consent: bool = True,
    seq: str = "123",
    dfc: bool = False,
) -> Talent:
    year = graduation_year or timezone.localdate().year
    talent = make_talent(
        name=name,
        id_number=make_id("440784" if native else "440106", "20030512", seq),
        phone=None,
        major=major.name if major is not None else "",
        level=level,
        graduation_year=year,
        user=user,
    )
    Education.objects.filter(talent=talent).update(
        major=major,
        major_category=category or (major.category if major is not None else None),
        is_double_first_class=dfc,
    )
    if consent:
        consent_record(talent=talent, purpose=Consent.Purpose.MATCHING, granted=True, actor=user)
    return talent


@dataclass
class Matching:
    world: World
    x: Talent  # the persona 李晓彤: software engineering, native, consents
    y: Talent  # another student: chemical engineering, not native, consents
    z: Talent  # a student who never consented to matching


@pytest.fixture
def matching(world: World, occupations: None) -> Matching:  # noqa: F811
    stub = world.ref
    x = add_talent(name="李晓彤", major=stub.software_eng, user=world.x, seq="101")
    y = add_talent(name="王子健", major=stub.chem_eng, native=False, user=world.y, seq="102")
    z = add_talent(name="陈思远", major=stub.software_eng, consent=False, seq="103")
    major_occupations_build(category_ids=[stub.computing.pk, stub.chemistry.pk])
    postings_classify()
    return Matching(world=world, x=x, y=y, z=z)


def days(n: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=n)
