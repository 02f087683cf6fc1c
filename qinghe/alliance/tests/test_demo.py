from __future__ import annotations

import pytest

from qinghe.accounts.models import Organisation, User
from qinghe.alliance.demo import DEMO_CHAPTERS, seed_alliance
from qinghe.alliance.models import Chapter, Membership
from qinghe.talents.models import Talent

pytestmark = pytest.mark.django_db


def test_seed_alliance_is_idempotent_and_counts_are_real(personas: dict[str, User]) -> None:
    gz = Organisation.objects.create(kind="chapter", name="青鹤联盟·广州分会")
    for i in range(3):
        Talent.objects.create(name=f"陈{i}", chapter=gz)
    first = seed_alliance()
    assert first == {"chapters": len(DEMO_CHAPTERS), "members": 3}
    assert Chapter.objects.filter(kind="high_school").get().name == "青鹤联盟·鹤山一中分会"
    assert Chapter.objects.get(name="青鹤联盟·粤港联分部").city == "香港"
    from qinghe.alliance.models import Nomination

    term = Nomination.objects.get(nominee__username="dashi")
    assert term.term_ends_on is not None
    assert (term.state, term.chapter.name, term.term_ends_on.month) == (
        "appointed",
        "青鹤联盟·华南理工大学分会",
        12,
    )
    leader = Membership.objects.get(user__username="dashi")
    assert (leader.chapter.name, leader.role) == ("青鹤联盟·华南理工大学分会", "leader")
    assert sorted(
        Membership.objects.filter(user__username="xuezi").values_list("chapter__name", "status")
    ) == [("青鹤联盟·华南理工大学分会", "pending"), ("青鹤联盟·广州分会", "active")]
    counts = (Membership.objects.count(), User.objects.count(), Chapter.objects.count())
    assert seed_alliance() == {"chapters": len(DEMO_CHAPTERS), "members": 0}
    assert (Membership.objects.count(), User.objects.count(), Chapter.objects.count()) == counts
    assert (
        Membership.objects.filter(chapter__name="青鹤联盟·广州分会", status="active").count() == 4
    )
