from __future__ import annotations

from io import StringIO
from typing import Any

import pytest

from qinghe.accounts.models import User
from qinghe.enterprises.models import Enterprise, InternshipBase
from qinghe.enterprises.uscc import validate_uscc
from qinghe.jobs.demo import seed_recruitment
from qinghe.jobs.models import Posting
from qinghe.plan.models import YearTarget
from qinghe.reference.services import reference_load

pytestmark = pytest.mark.django_db


def test_the_demo_data_is_realistic_and_seeding_twice_creates_nothing_new(personas: Any) -> None:
    reference_load()
    out = StringIO()
    first = seed_recruitment(stdout=out)
    assert first == {"enterprises": 18, "postings": 96, "bases": 3}
    assert seed_recruitment(stdout=out) == {"enterprises": 0, "postings": 0, "bases": 0}
    assert Enterprise.objects.count() == 18 and Posting.objects.count() == 96
    assert all(validate_uscc(u) == u for u in Enterprise.objects.values_list("uscc", flat=True))
    yatushi = Enterprise.objects.get(name="鹤山市雅图仕印刷有限公司")
    assert (yatushi.state, yatushi.is_key) == ("verified", True)
    assert User.objects.get(username="qiye").organisation_id == yatushi.organisation_id
    assert Posting.objects.filter(state="published").count() > 40
    assert (
        Posting.objects.filter(is_quality=True).exists()
        and Posting.objects.filter(natives_first=True).exists()
    )
    assert set(Posting.objects.values_list("kind", flat=True)) == {
        "job",
        "internship",
        "traineeship",
    }
    assert InternshipBase.objects.filter(state="certified").count() == 2
    assert YearTarget.objects.count() == 1


def test_without_reference_data_the_seed_says_so_and_does_nothing(personas: Any) -> None:
    out = StringIO()
    assert seed_recruitment(stdout=out) == {"enterprises": 0, "postings": 0, "bases": 0}
    assert "load reference data first" in out.getvalue()
