"""Demo fairs, so a newcomer sees every measure of a cloud fair populated:

- 青鹤归巢·2026 空中双选会, running for two weeks from the day the demo was first loaded:
  approved booths for the demo enterprises in ``BOOTH_ENTERPRISES`` (up to three published
  postings each), one more verified enterprise's booth waiting for review; the demo student,
  the ambassador and a dozen demo students registered; queues of different lengths (the
  ambassador waits at 雅图仕), and a few students already seen this morning, so the waits are
  not the default.
- 青鹤归巢·春季空中双选会, a one-day fair three weeks ago, finished: the same booths, hall
  visitors, a day of queues (seen, left, not shown), applications to the booths' postings during
  the fair through the recruitment service, some moved to 录用 by the enterprise: the figures
  page has booths, visitors, queue lengths, interviews, applications and offers.

Demo students: accounts ``demo_fair_<n>`` (no usable password) attached to demo talents without
an account when the talents demo ran (so they can apply), plain accounts otherwise.

Idempotent: fairs are found by title; the running fair's booths by enterprise, its entries only
made when the booth has none from demo students; the finished fair is filled once, when made."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.core.errors import ApplicationError, PermissionDenied
from qinghe.core.roles import Role
from qinghe.enterprises.models import Enterprise
from qinghe.events.models import HOLDING_STATUSES, Event, EventChange, Registration
from qinghe.jobs.models import Posting
from qinghe.talents.demo import DEMO_SOURCE
from qinghe.talents.models import Talent

from .models import ACTIVE_STATES, Booth, HallVisit, QueueEntry

TITLE = "青鹤归巢·2026 空中双选会"
PAST_TITLE = "青鹤归巢·春季空中双选会"
BOOTH_ENTERPRISES = (
    "鹤山市雅图仕印刷有限公司",
    "鹤山市华翔卫浴实业有限公司",
    "鹤山市中欧智能电子科技有限公司",
    "鹤山市智汇软件科技有限公司",
)
DEMO_STUDENTS = 12
# Students waiting now at each booth of the running fair, in BOOTH_ENTERPRISES order.
WAITING_NOW = (3, 1, 0, 2)


def _booth(fair: Event, enterprise: Enterprise, state: str, now: dt.datetime) -> Booth:
    """The enterprise's booth, made with up to three postings published by ``now`` (any
    published ones when none were)."""
    booth = Booth.objects.filter(fair=fair, enterprise=enterprise).first()
    if booth is None:
        booth = Booth.objects.create(
            fair=fair,
            enterprise=enterprise,
            state=state,
            applied_at=now,
            decided_at=now if state != Booth.State.APPLIED else None,
        )
        published = Posting.objects.filter(
            enterprise=enterprise, state=Posting.State.PUBLISHED
        ).order_by("id")
        earlier = published.exclude(published_at__gt=now)
        booth.postings.set((earlier if earlier.exists() else published)[:3])
    return booth


def _fair(title: str, staff: User, now: dt.datetime, **fields: Any) -> tuple[Event, bool]:
    fair = Event.objects.filter(title=title).first()
    if fair is not None:
        return fair, False
    assert staff.organisation is not None  # seed_fairs checked
    fair = Event.objects.create(
        title=title,
        type=Event.Type.CLOUD_FAIR,
        organiser=staff.organisation,
        created_by=staff,
        capacity=None,
        published_at=now,
        **fields,
    )
    EventChange.objects.create(
        event=fair, action="create", to_state=fair.state, actor=staff, note="演示数据"
    )
    return fair, True


def _register(fair: Event, user: User, at: dt.datetime) -> None:
    if not Registration.objects.filter(event=fair, user=user, status__in=HOLDING_STATUSES).exists():
        Registration.objects.create(
            event=fair,
            user=user,
            status=Registration.Status.CONFIRMED,
            registered_at=at,
            confirmed_at=at,
        )


def demo_students(count: int = DEMO_STUDENTS) -> list[User]:
    """``demo_fair_1`` ... : found again on a second run; each new one takes a talent of the
    demo survey (seed_talents) without an account when there is one (so the student can
    apply); never a talent of any other source."""
    users = []
    for n in range(1, count + 1):
        username = f"demo_fair_{n}"
        user = User.objects.filter(username=username).first()
        if user is None:
            talent = (
                Talent.objects.filter(
                    user__isnull=True,
                    merged_into__isnull=True,
                    import_rows__batch__source_name=DEMO_SOURCE,
                )
                .order_by("pk")
                .first()
            )
            user = User(
                username=username,
                role=Role.STUDENT,
                display_name=talent.name if talent else f"演示学子{n}",
            )
            user.set_unusable_password()
            user.save()
            if talent is not None:
                Talent.objects.filter(pk=talent.pk, user__isnull=True).update(user=user)
        users.append(user)
    return users


def _apply(student: User, posting: Posting, at: dt.datetime, hr: User | None, offer: bool) -> int:
    """An application during the fair through the recruitment service (and 录用 when
    ``offer``); a student the posting does not take (level, no talent) is skipped."""
    from qinghe.recruitment.models import Application, PipelineStage
    from qinghe.recruitment.services.applications import (
        application_apply,
        application_transition,
    )

    if Application.objects.filter(posting=posting, applicant=student).exists():
        return 0
    try:
        with transaction.atomic():
            application = application_apply(actor=student, posting=posting, consent=True, now=at)
            if offer and hr is not None:
                stage = PipelineStage.objects.get(enterprise__isnull=True, code="offer")
                application_transition(
                    actor=hr,
                    application=application,
                    stage=stage,
                    note="云招聘会面谈后录用",
                    now=at + dt.timedelta(hours=2),
                )
    except (ApplicationError, PermissionDenied, ValidationError):
        return 0
    return 1


def _hr_of(enterprise: Enterprise) -> User | None:
    return (
        User.objects.filter(
            organisation_id=enterprise.organisation_id, role=Role.ENTERPRISE_HR, is_active=True
        )
        .order_by("id")
        .first()
    )


def _past_day(fair: Event, booths: list[Booth], students: list[User]) -> int:
    """One day of the finished fair: hall visits, queues (seen 12 minutes each, some leave,
    one does not show), and applications with offers. Returns the applications made."""
    start = fair.starts_at
    for i, student in enumerate(students):
        _register(fair, student, start - dt.timedelta(days=5))
        HallVisit.objects.create(
            fair=fair, user=student, first_at=start + dt.timedelta(minutes=3 * i)
        )
    applications = 0
    for b_index, booth in enumerate(booths):
        rank = 0
        called = start + dt.timedelta(minutes=30)
        hr = _hr_of(booth.enterprise)
        postings = list(booth.postings.order_by("id"))
        # Booth k gets the students from k onward (the first booth the longest queue).
        for s_index, student in enumerate(students[b_index * 2 :]):
            rank += 1
            joined = start + dt.timedelta(minutes=5 + 2 * s_index)
            fate = (s_index + b_index) % 6
            entry = QueueEntry(
                booth=booth, student=student, rank=rank, joined_at=joined, state="done"
            )
            if fate == 4:  # left before being called
                entry.state = QueueEntry.State.LEFT
                entry.finished_at = joined + dt.timedelta(minutes=25)
            else:
                entry.called_at = max(called, joined + dt.timedelta(minutes=1))
                called = entry.called_at + dt.timedelta(minutes=12)
                entry.finished_at = called
                entry.state = QueueEntry.State.NO_SHOW if fate == 5 else QueueEntry.State.DONE
            entry.save()
            if entry.state == QueueEntry.State.DONE and postings:
                applications += _apply(
                    student,
                    postings[s_index % len(postings)],
                    entry.finished_at or joined,
                    hr,
                    offer=fate in (0, 2),
                )
    return applications


@transaction.atomic
def seed_fairs(*, stdout: Any = None, scale: int = 0, seed: int = 0) -> dict[str, int]:
    users = {u.role: u for u in User.objects.filter(username__in=("renshe", "xuezi", "dashi"))}
    staff = users.get(Role.HR_STAFF)
    student, ambassador = users.get(Role.STUDENT), users.get(Role.AMBASSADOR)
    verified = {
        e.name: e
        for e in Enterprise.objects.filter(state=Enterprise.State.VERIFIED).select_related(
            "organisation"
        )
    }
    exhibitors = [verified[name] for name in BOOTH_ENTERPRISES if name in verified]
    if not (staff and staff.organisation and student and ambassador and exhibitors):
        if stdout is not None:
            stdout.write("fairs demo skipped: personas or the demo enterprise missing")
        return {"fairs": 0}
    if exhibitors[0].name != BOOTH_ENTERPRISES[0]:
        if stdout is not None:
            stdout.write("fairs demo skipped: the demo enterprise missing")
        return {"fairs": 0}
    now = timezone.now()
    students = demo_students()

    starts = timezone.localtime(now).replace(hour=8, minute=0, second=0, microsecond=0)
    starts -= dt.timedelta(days=1)
    fair, _ = _fair(
        TITLE,
        staff,
        now,
        description="鹤山重点企业线上展位，学子在线排队与企业面谈，无需往返。",
        state=Event.State.PUBLISHED,
        starts_at=starts,
        ends_at=starts + dt.timedelta(days=14),
        registration_opens_at=starts - dt.timedelta(days=14),
        registration_closes_at=starts + dt.timedelta(days=13),
        cancel_deadline=starts + dt.timedelta(days=13),
    )
    booths = [_booth(fair, e, Booth.State.APPROVED, now) for e in exhibitors]
    other = (
        Enterprise.objects.filter(state=Enterprise.State.VERIFIED)
        .exclude(pk__in=[e.pk for e in exhibitors])
        .order_by("id")
        .first()
    )
    if other is not None:
        _booth(fair, other, Booth.State.APPLIED, now)
    for user in (student, ambassador, *students):
        _register(fair, user, now)
    if not QueueEntry.objects.filter(booth=booths[0], student=ambassador).exists():
        QueueEntry.objects.create(
            booth=booths[0],
            student=ambassador,
            state=QueueEntry.State.WAITING,
            rank=1,
            joined_at=now,
        )
    pool = iter(students)
    for booth, waiting in zip(booths, WAITING_NOW, strict=False):
        if QueueEntry.objects.filter(booth=booth, student__in=students).exists():
            continue
        rank = 1
        if booth is booths[0]:  # two seen this morning: the booth's average is measured
            for minutes in (15, 9):
                seen = next(pool, None)
                if seen is None:
                    break
                called = now - dt.timedelta(minutes=60 - minutes)
                QueueEntry.objects.create(
                    booth=booth,
                    student=seen,
                    state=QueueEntry.State.DONE,
                    rank=-rank,
                    joined_at=called - dt.timedelta(minutes=20),
                    called_at=called,
                    finished_at=called + dt.timedelta(minutes=minutes),
                )
                rank += 1
            rank = 2  # after the ambassador
        for _ in range(waiting):
            waiter = next(pool, None)
            if waiter is None:
                break
            QueueEntry.objects.create(
                booth=booth,
                student=waiter,
                state=QueueEntry.State.WAITING,
                rank=rank,
                joined_at=now - dt.timedelta(minutes=5 * rank),
            )
            rank += 1

    past_starts = starts - dt.timedelta(days=21) + dt.timedelta(hours=1)
    past, created = _fair(
        PAST_TITLE,
        staff,
        now,
        description="春季线上双选会：一天之内，学子在展厅排队，与鹤山企业视频面谈。",
        state=Event.State.FINISHED,
        starts_at=past_starts,
        ends_at=past_starts + dt.timedelta(hours=8),
        registration_opens_at=past_starts - dt.timedelta(days=14),
        registration_closes_at=past_starts,
        cancel_deadline=past_starts - dt.timedelta(days=1),
    )
    applications = 0
    if created:
        past_booths = [_booth(past, e, Booth.State.APPROVED, past_starts) for e in exhibitors]
        applications = _past_day(past, past_booths, students)
    return {
        "fairs": 2,
        "booths": Booth.objects.filter(fair__in=[fair, past]).count(),
        "waiting": QueueEntry.objects.filter(booth__fair=fair, state__in=ACTIVE_STATES).count(),
        "applications": applications,
    }
