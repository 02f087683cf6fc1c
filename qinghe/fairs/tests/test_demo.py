"""The fairs demo: a running cloud fair (approved booths of the demo enterprises, one booth
waiting for review where there is another verified enterprise, queues of different lengths) and
a finished one whose figures are all populated, offers included; running it twice adds nothing."""

from __future__ import annotations

import pytest

from qinghe.events.models import Event
from qinghe.fairs import selectors
from qinghe.fairs.demo import PAST_TITLE, TITLE, seed_fairs
from qinghe.fairs.models import Booth, HallVisit, QueueEntry
from qinghe.recruitment.models import Application
from qinghe.testing.recruiting import demo_survey_talents
from qinghe.testing.world import World

pytestmark = pytest.mark.django_db


def _state() -> tuple[object, ...]:
    return (
        sorted(Booth.objects.values_list("fair__title", "enterprise__name", "state")),
        sorted(QueueEntry.objects.values_list("booth_id", "student__username", "state")),
        sorted(Booth.objects.values_list("postings__title", flat=True)),
        Application.objects.count(),
        HallVisit.objects.count(),
    )


def test_the_demo_fairs_and_running_it_twice_adds_nothing(world: World) -> None:
    demo_survey_talents(4, seq=300)  # the demo students take these
    assert seed_fairs()["fairs"] == 2
    first = _state()
    running = Event.objects.get(title=TITLE)
    past = Event.objects.get(title=PAST_TITLE)
    assert (running.state, past.state) == ("published", "finished")
    # The world's verified enterprises are 雅图仕 (A) and 华翔 (B): both exhibit.
    assert sorted(
        Booth.objects.filter(fair=running).values_list("enterprise__name", "state")
    ) == sorted([(world.a.name, "approved"), (world.b.name, "approved")])
    a = Booth.objects.get(fair=running, enterprise=world.a)
    b = Booth.objects.get(fair=running, enterprise=world.b)
    # A: the ambassador and three demo students wait (two were seen this morning, 15 and 9
    # minutes: average 12); B: one waits.
    assert selectors.hall_state(fair_id=running.pk) == {
        "type": "hall",
        "booths": [
            {"id": a.pk, "length": 4, "wait_minutes": 5 * 12},
            {"id": b.pk, "length": 1, "wait_minutes": 2 * 10},
        ],
    }
    assert QueueEntry.objects.get(booth=a, student__username="dashi").state == "waiting"

    figures = selectors.fair_figures(past)
    per_booth = figures.pop("per_booth")
    fair_apps = selectors.fair_applications(past)
    entries = QueueEntry.objects.filter(booth__fair=past)
    assert figures == {
        "booths": 2,
        "visitors": 12,
        "queue_max": figures["queue_max"],
        "queue_avg": figures["queue_avg"],
        "joined": entries.count(),
        "taken": entries.filter(called_at__isnull=False).count(),
        "done": entries.filter(state="done").count(),
        "applications": fair_apps.count(),
        "offers": fair_apps.filter(hired_at__isnull=False).count(),
    }
    # A queues all 12 demo students, B the last 10; every sixth leaves, every sixth does not
    # show (seed_fairs._past_day): A 2 left, 2 no-show, 8 done; B 2 left, 1 no-show, 7 done.
    assert (figures["joined"], figures["taken"], figures["done"]) == (22, 18, 15)
    # Only the four students with a talent record can apply: at A students 1-4 (offers to the
    # 1st and 3rd), at B students 3-4 (an offer to the 4th).
    assert (figures["applications"], figures["offers"]) == (6, 3)
    assert figures["queue_max"] > figures["queue_avg"] > 0
    assert [r.booth.enterprise.name for r in per_booth] == sorted([world.a.name, world.b.name])

    seed_fairs()
    assert _state() == first
