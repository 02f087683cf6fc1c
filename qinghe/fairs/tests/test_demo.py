"""The fairs demo: a running cloud fair with an approved and an applied booth and one student
waiting; running it twice adds nothing."""

from __future__ import annotations

import pytest

from qinghe.fairs.demo import TITLE, seed_fairs
from qinghe.fairs.models import Booth, QueueEntry
from qinghe.testing.world import World

pytestmark = pytest.mark.django_db


def _state() -> tuple[object, ...]:
    return (
        sorted(Booth.objects.values_list("fair__title", "enterprise__name", "state")),
        sorted(QueueEntry.objects.values_list("student__username", "state")),
        sorted(Booth.objects.values_list("postings__title", flat=True)),
    )


def test_the_demo_fair_and_running_it_twice_adds_nothing(world: World) -> None:
    assert seed_fairs()["fairs"] == 1
    first = _state()
    booths, entries, _ = first
    assert {(t, s) for t, _, s in booths} == {(TITLE, "applied"), (TITLE, "approved")}  # type: ignore[attr-defined]
    assert Booth.objects.get(state="approved").enterprise.name == "鹤山市雅图仕印刷有限公司"
    assert entries == [("dashi", "waiting")]
    seed_fairs()
    assert _state() == first
