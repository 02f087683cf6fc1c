"""Builders for the events tests: an event with its dates around a given moment, students
with (or without) a talent record."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from qinghe.accounts.models import Organisation, User
from qinghe.accounts.services import user_create
from qinghe.core.roles import Role
from qinghe.events.models import Event
from qinghe.talents.models import Education, Source, Talent

NOW = dt.datetime(2026, 5, 10, 9, 0, tzinfo=dt.UTC)


def make_event(
    organiser: Organisation,
    *,
    now: dt.datetime = NOW,
    state: str = Event.State.PUBLISHED,
    capacity: int | None = 2,
    type: str = Event.Type.CAMPUS_TALK,
    title: str = "雅图仕 2026 校园宣讲会",
    **fields: Any,
) -> Event:
    """An event in ten days; registration open since yesterday until the day before; cancel
    until two days before."""
    starts = fields.pop("starts_at", now + dt.timedelta(days=10))
    values: dict[str, Any] = {
        "type": type,
        "title": title,
        "description": "介绍企业与岗位，现场答疑。",
        "place": "华南理工大学 31 号楼报告厅",
        "starts_at": starts,
        "ends_at": starts + dt.timedelta(hours=2),
        "registration_opens_at": now - dt.timedelta(days=1),
        "registration_closes_at": starts - dt.timedelta(days=1),
        "cancel_deadline": starts - dt.timedelta(days=2),
        "capacity": capacity,
        "state": state,
        "published_at": now if state == Event.State.PUBLISHED else None,
    }
    values.update(fields)
    return Event.objects.create(organiser=organiser, **values)


def make_student(
    username: str,
    *,
    talent: bool = False,
    level: str = "",
    graduation_year: int | None = None,
    role: str = Role.STUDENT,
) -> User:
    user = user_create(
        username=username,
        password="Qinghe-test-2026",
        role=role,
        display_name=f"学子{username}",
        validate=False,
    )
    if talent or level or graduation_year:
        t = Talent.objects.create(
            name=f"学子{username}", user=user, graduation_year=graduation_year
        )
        if level:
            Education.objects.create(
                talent=t,
                university_name="华南理工大学",
                level=level,
                graduation_year=graduation_year,
                source=Source.STUDENT,
            )
    return user


def at(now: dt.datetime = NOW, **delta: float) -> dt.datetime:
    return now + dt.timedelta(**delta)


def local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
