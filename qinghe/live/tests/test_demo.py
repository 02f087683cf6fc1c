"""The live demo: a scheduled stream and an ended one with its figures populated (peak viewers,
questions, applications per featured posting; no replay, as there is no recording); running it twice adds nothing."""

from __future__ import annotations

from typing import Any

import pytest

from qinghe.live import selectors
from qinghe.live.demo import ENDED_TITLE, PEAK_VIEWERS, SCHEDULED_TITLE, seed_live
from qinghe.live.models import Question, Stream, StreamApplication
from qinghe.recruitment.models import Application
from qinghe.testing.recruiting import demo_survey_talents
from qinghe.testing.world import World

pytestmark = pytest.mark.django_db


def _state() -> tuple[object, ...]:
    return (
        sorted(Stream.objects.values_list("title", "state", "replay_url", "peak_viewers")),
        Question.objects.count(),
        sorted(StreamApplication.objects.values_list("application__posting__title", flat=True)),
        Application.objects.count(),
    )


def test_the_demo_streams_and_running_it_twice_adds_nothing(world: World, client_as: Any) -> None:
    demo_survey_talents(3, seq=400)  # the demo students take these
    assert seed_live() == {"streams": 2, "applications": 3}
    first = _state()
    scheduled = Stream.objects.get(title=SCHEDULED_TITLE)
    ended = Stream.objects.get(title=ENDED_TITLE)
    assert (scheduled.state, ended.state) == ("scheduled", "ended")
    figures = selectors.stream_figures(ended)
    # The world's only demo enterprise here is 雅图仕 (A), with one published posting.
    assert [r["posting"] for r in figures["postings"]] == [world.posting_a]
    assert (figures["peak_viewers"], figures["questions"], figures["answered"]) == (
        PEAK_VIEWERS,
        6,
        3,
    )
    assert (figures["hidden"], figures["applications"]) == (1, 3)
    assert figures["postings"][0]["applications"] == 3
    page = client_as("student").get(f"/live/{ended.pk}/").content.decode()
    # the demo has no recording: no replay link that would not play
    assert 'data-testid="replay-pending">回放整理中</span>' in page
    assert "replay-link" not in page
    assert f'data-testid="fig-peak">{PEAK_VIEWERS}</div>' in page
    seed_live()
    assert _state() == first
