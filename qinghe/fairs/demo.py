"""Demo fair: 青鹤归巢·空中双选会, a cloud fair running for two weeks from the day the demo was
first loaded; 雅图仕's booth approved with its published postings, another verified enterprise's
booth waiting for review; the demo student and ambassador registered, the ambassador waiting
in 雅图仕's queue. Idempotent: the fair is found by title, booths by enterprise, and the queue
entry is only made when the ambassador has none."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.core.roles import Role
from qinghe.enterprises.models import Enterprise
from qinghe.events.models import HOLDING_STATUSES, Event, EventChange, Registration
from qinghe.jobs.models import Posting

from .models import ACTIVE_STATES, Booth, QueueEntry

TITLE = "青鹤归巢·2026 空中双选会"


def _booth(fair: Event, enterprise: Enterprise, state: str, now: dt.datetime) -> Booth:
    booth = Booth.objects.filter(fair=fair, enterprise=enterprise).first()
    if booth is None:
        booth = Booth.objects.create(fair=fair, enterprise=enterprise, state=state, applied_at=now)
        booth.postings.set(
            Posting.objects.filter(enterprise=enterprise, state=Posting.State.PUBLISHED)[:3]
        )
    return booth


@transaction.atomic
def seed_fairs(*, stdout: Any = None, scale: int = 0, seed: int = 0) -> dict[str, int]:
    users = {u.role: u for u in User.objects.filter(username__in=("renshe", "xuezi", "dashi"))}
    staff = users.get(Role.HR_STAFF)
    student, ambassador = users.get(Role.STUDENT), users.get(Role.AMBASSADOR)
    enterprise = Enterprise.objects.filter(
        organisation__name="鹤山市雅图仕印刷有限公司", state=Enterprise.State.VERIFIED
    ).first()
    if not (staff and staff.organisation and student and ambassador and enterprise):
        if stdout is not None:
            stdout.write("fairs demo skipped: personas or the demo enterprise missing")
        return {"fairs": 0}
    now = timezone.now()
    fair = Event.objects.filter(title=TITLE).first()
    if fair is None:
        starts = timezone.localtime(now).replace(hour=8, minute=0, second=0, microsecond=0)
        starts -= dt.timedelta(days=1)
        fair = Event.objects.create(
            title=TITLE,
            type=Event.Type.CLOUD_FAIR,
            organiser=staff.organisation,
            created_by=staff,
            description="鹤山重点企业线上展位，学子在线排队与企业面谈，无需往返。",
            capacity=None,
            state=Event.State.PUBLISHED,
            published_at=now,
            starts_at=starts,
            ends_at=starts + dt.timedelta(days=14),
            registration_opens_at=starts - dt.timedelta(days=14),
            registration_closes_at=starts + dt.timedelta(days=13),
            cancel_deadline=starts + dt.timedelta(days=13),
        )
        EventChange.objects.create(
            event=fair, action="create", to_state=fair.state, actor=staff, note="演示数据"
        )
    booth = _booth(fair, enterprise, Booth.State.APPROVED, now)
    other = (
        Enterprise.objects.filter(state=Enterprise.State.VERIFIED)
        .exclude(pk=enterprise.pk)
        .order_by("id")
        .first()
    )
    if other is not None:
        _booth(fair, other, Booth.State.APPLIED, now)
    for user in (student, ambassador):
        if not Registration.objects.filter(
            event=fair, user=user, status__in=HOLDING_STATUSES
        ).exists():
            Registration.objects.create(
                event=fair,
                user=user,
                status=Registration.Status.CONFIRMED,
                registered_at=now,
                confirmed_at=now,
            )
    if not QueueEntry.objects.filter(booth=booth, student=ambassador).exists():
        QueueEntry.objects.create(
            booth=booth,
            student=ambassador,
            state=QueueEntry.State.WAITING,
            rank=1,
            joined_at=now,
        )
    return {
        "fairs": 1,
        "booths": Booth.objects.filter(fair=fair).count(),
        "waiting": QueueEntry.objects.filter(booth__fair=fair, state__in=ACTIVE_STATES).count(),
    }
