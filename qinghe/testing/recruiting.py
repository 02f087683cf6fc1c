"""Builders for the pipeline tests: students with a claimed Heshan talent record, applications
made through the service, interviews at a given time."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.jobs.models import Posting
from qinghe.recruitment.models import Application, Interview, InterviewSlot, Mode
from qinghe.recruitment.services import applications, interviews
from qinghe.talents.models import Talent
from qinghe.talents.tests.factories import make_id, make_talent

YEAR = timezone.localdate().year
X_PHONE = "13512340001"
Y_PHONE = "13512340002"


def claim_talent(
    user: User, *, name: str, seq: str, phone: str, level: str = "bachelor", **fields: Any
) -> Talent:
    """A Heshan-native talent (ID prefix 440784) claimed by ``user``."""
    fields.setdefault("email", f"{user.username}@example.cn")
    return make_talent(
        name=name,
        id_number=make_id("440784", "20030512", seq),
        phone=phone,
        level=level,
        graduation_year=YEAR,
        user=user,
        **fields,
    )


def apply_to(user: User, posting: Posting, *, cover_letter: str = "") -> Application:
    return applications.application_apply(
        actor=user, posting=posting, consent=True, cover_letter=cover_letter
    )


def at(hours: float) -> dt.datetime:
    """A time ``hours`` from now, to the minute."""
    return (timezone.now() + dt.timedelta(hours=hours)).replace(second=0, microsecond=0)


def make_slot(
    posting: Posting, *, hours: float = 48, capacity: int = 2, mode: str = Mode.ONSITE
) -> InterviewSlot:
    return InterviewSlot.objects.create(
        posting=posting,
        starts_at=at(hours),
        ends_at=at(hours + 0.5),
        mode=mode,
        location="鹤山市沙坪街道雅图仕大厦 3 楼" if mode == Mode.ONSITE else "",
        meeting_url="https://meeting.tencent.com/dm/abc123" if mode == Mode.ONLINE else "",
        capacity=capacity,
    )


def invite(hr: User, application: Application, *, hours: float = 48) -> Interview:
    return interviews.interview_invite(
        actor=hr,
        application=application,
        when=interviews.When(
            starts_at=at(hours),
            ends_at=at(hours + 0.5),
            mode=Mode.ONLINE,
            meeting_url="https://meeting.tencent.com/dm/abc123",
        ),
    )


def interview_in_the_past(application: Application, *, hours: float = 2) -> Interview:
    """An interview that began ``hours`` ago (its result may be recorded)."""
    return Interview.objects.create(
        application=application,
        starts_at=at(-hours),
        ends_at=at(-hours + 0.5),
        mode=Mode.ONSITE,
        location="鹤山市沙坪街道",
        state=Interview.State.CONFIRMED,
    )


def outbox_rows(*, after: int = 0) -> list[tuple[str, str, str, str]]:
    """The outbox rows queued after row id ``after``, in order: (recipient's username,
    channel, kind, link)."""
    from qinghe.notifications.models import OutboxMessage

    return [
        (m.user.username, m.channel, m.template, m.data.get("url", ""))
        for m in OutboxMessage.objects.filter(pk__gt=after).select_related("user").order_by("pk")
    ]


def last_outbox_id() -> int:
    from qinghe.notifications.models import OutboxMessage

    return OutboxMessage.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def demo_survey_talents(count: int, *, seq: int = 300) -> list[Talent]:
    """Talents without an account that came from the demo survey (the fairs and live demos'
    students take them), as seed_talents would leave them."""
    from qinghe.talents.demo import DEMO_SOURCE
    from qinghe.talents.models import ImportBatch, ImportRow

    batch = ImportBatch.objects.create(
        source_name=DEMO_SOURCE,
        file_name="demo.xlsx",
        file_sha256="0" * 64,
        state=ImportBatch.State.DONE,
    )
    talents = []
    for i in range(count):
        talent = make_talent(
            name=f"演示学子{i}",
            id_number=make_id("440784", "20030512", f"{seq + i:03d}"),
            phone=f"1380013{seq + i:04d}",
            graduation_year=YEAR,
        )
        ImportRow.objects.create(
            batch=batch, row_number=i + 2, outcome=ImportRow.Outcome.CREATED, talent=talent
        )
        talents.append(talent)
    return talents
