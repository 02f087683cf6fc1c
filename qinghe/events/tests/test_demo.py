"""The events demo data: past and upcoming events, registrations, attendance; twice = once."""

from __future__ import annotations

import pytest

from qinghe.accounts.models import User
from qinghe.events.demo import seed_events
from qinghe.events.models import Event, EventChange, Registration
from qinghe.outreach.demo import seed_outreach
from qinghe.outreach.models import ContactLog

pytestmark = pytest.mark.django_db


def _state() -> tuple[object, ...]:
    return (
        sorted(Event.objects.values_list("title", "state")),
        sorted(
            Registration.objects.values_list(
                "event__title", "user__username", "status", "attended_at"
            )
        ),
        EventChange.objects.count(),
        ContactLog.objects.filter(channel="event").count(),
    )


def test_the_demo_has_past_and_upcoming_events_and_running_it_twice_adds_nothing(
    personas: dict[str, User],
) -> None:
    seed_outreach()  # the demo student's talent record
    seed_events()
    first = _state()
    titles, regs, _, contacts = first
    assert ("2026 鹤山春季校园招聘会", "finished") in titles  # type: ignore[operator]
    assert ("暑期家乡研学：走进鹤山工业城", "published") in titles  # type: ignore[operator]
    statuses = {(t, u): s for t, u, s, _ in regs}  # type: ignore[attr-defined]
    assert statuses[("雅图仕 2026 秋季校园宣讲会（华南理工大学）", "xuezi")] == "confirmed"
    assert statuses[("雅图仕 2026 秋季校园宣讲会（华南理工大学）", "dashi")] == "waitlisted"
    attended = {u for t, u, _, a in regs if a is not None}  # type: ignore[attr-defined]
    assert attended == {"xuezi", "dashi"}
    assert contacts == 1  # only 李晓彤 has a talent record
    seed_events()
    assert _state() == first
