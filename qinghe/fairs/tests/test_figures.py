"""The fair's figures afterwards (issue 15: booths, visitors, queue lengths, interviews,
applications, offers): every figure is made from known rows through the real services, and
each is checked twice, against the number the story gives and against a count taken straight
from the rows the test made."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db.models import Q
from django.utils import timezone

from qinghe.enterprises.tests.factories import make_posting
from qinghe.fairs import selectors, services
from qinghe.fairs.models import Booth, HallVisit, QueueEntry
from qinghe.recruitment.models import Application, PipelineStage
from qinghe.recruitment.services.applications import application_apply, application_transition
from qinghe.testing.recruiting import claim_talent

from .conftest import Fair

pytestmark = pytest.mark.django_db


def _stage(code: str) -> PipelineStage:
    return PipelineStage.objects.get(enterprise__isnull=True, code=code)


def _apply(student: Any, posting: Any, seq: int, *, now: dt.datetime | None = None) -> Application:
    claim_talent(student, name=f"学子{seq}", seq=f"{seq:03d}", phone=f"13800000{seq:03d}")
    return application_apply(actor=student, posting=posting, consent=True, now=now)


def _move(hr: Any, application: Application, *codes: str) -> None:
    for code in codes:
        application_transition(actor=hr, application=application, stage=_stage(code))


def test_every_figure_equals_a_count_of_the_rows(fair: Fair, client_as: Any) -> None:
    w = fair.world
    s = fair.students
    booth_a = fair.booth  # enterprise A: posting_a
    booth_b = Booth.objects.create(
        fair=fair.fair, enterprise=w.b, state=Booth.State.APPROVED, applied_at=timezone.now()
    )
    booth_b.postings.set([w.posting_b])
    # A's second published posting is not at the fair: its applications are not the fair's.
    elsewhere = make_posting(w.a, title="印刷设备维修技师")
    start = fair.fair.starts_at

    # Queues. A: s5, s6, s7 wait (3 at once), s5 is taken, s6 leaves, s8 joins (2 again).
    # B: s9 waits alone and is taken, then marked done.
    def t(minutes: int) -> dt.datetime:
        return start + dt.timedelta(minutes=minutes)

    for i, student in enumerate(s[5:8]):
        services.queue_join(user=student, booth=booth_a, now=t(5 + i))
    services.queue_take_next(actor=w.hr_a, booth=booth_a, now=t(10))
    services.queue_leave(user=s[6], booth=booth_a, now=t(11))
    services.queue_join(user=s[8], booth=booth_a, now=t(12))
    services.queue_join(user=s[9], booth=booth_b, now=t(13))
    taken_b = services.queue_take_next(actor=w.hr_b, booth=booth_b, now=t(14))
    services.queue_finish(actor=w.hr_b, entry=taken_b, outcome="done", now=t(30))
    # Hall visitors: s0 (not queued) and s5 (queued: counted once).
    services.hall_visit_record(user=s[0], fair=fair.fair)
    services.hall_visit_record(user=s[5], fair=fair.fair)

    # Applications. Offers: s0 at A (录用), s2 at B (录用 then 入职: still one offer).
    # Not offers: s1 at A (面试 only), s3 at A (录用 then 未通过: the hire is undone).
    # Not the fair's: s4 at A before the fair began, s0 to the posting not at the fair.
    _move(w.hr_a, _apply(s[0], w.posting_a, 1), "offer")
    _move(w.hr_a, _apply(s[1], w.posting_a, 2), "interview")
    _move(w.hr_b, _apply(s[2], w.posting_b, 3), "offer", "onboarded")
    _move(w.hr_a, _apply(s[3], w.posting_a, 4), "offer", "rejected")
    _move(w.hr_a, _apply(s[4], w.posting_a, 5, now=start - dt.timedelta(hours=1)), "offer")
    _move(w.hr_a, application_apply(actor=s[0], posting=elsewhere, consent=True), "offer")

    figures = selectors.fair_figures(fair.fair)
    per_booth = figures.pop("per_booth")
    assert figures == {
        "booths": 2,
        "visitors": 6,  # s0, s5, s6, s7, s8, s9
        "queue_max": 3,
        "queue_avg": 2.0,  # peaks 3 (A) and 1 (B)
        "joined": 5,
        "taken": 2,
        "done": 1,
        "applications": 4,
        "offers": 2,
    }
    rows = [(r.booth, r.queue_peak, r.joined, r.taken, r.applications, r.offers) for r in per_booth]
    assert sorted(rows, key=lambda r: r[0].pk) == [
        (booth_a, 3, 4, 1, 3, 1),
        (booth_b, 1, 1, 1, 1, 1),
    ]

    # The same figures, counted straight from the rows.
    fair_postings = [w.posting_a, w.posting_b]
    window = Q(applied_at__gte=fair.fair.starts_at, applied_at__lte=fair.fair.ends_at)
    fair_apps = Application.objects.filter(window, posting__in=fair_postings)
    assert figures["applications"] == fair_apps.count()
    assert figures["offers"] == fair_apps.filter(hired_at__isnull=False).count()
    assert figures["booths"] == Booth.objects.filter(fair=fair.fair, state="approved").count()
    entries = QueueEntry.objects.filter(booth__fair=fair.fair)
    assert figures["joined"] == entries.count()
    assert figures["taken"] == entries.filter(called_at__isnull=False).count()
    assert figures["done"] == entries.filter(state=QueueEntry.State.DONE).count()
    queued = set(entries.values_list("student_id", flat=True))
    visited = set(HallVisit.objects.filter(fair=fair.fair).values_list("user_id", flat=True))
    assert figures["visitors"] == len(queued | visited)

    page = client_as("hr_staff").get(f"/fairs/{fair.fair.pk}/manage/").content.decode()
    assert '<dd class="col-6 col-md-3" data-testid="fig-offers">2</dd>' in page
    assert '<dd class="col-6 col-md-3" data-testid="fig-applications">4</dd>' in page
    assert (
        f'<tr><td class="text-break">{w.b.name}</td><td class="text-end">1</td>'
        '<td class="text-end">1</td><td class="text-end">1</td><td class="text-end">1</td>'
        '<td class="text-end">1</td></tr>'
    ) in page


def test_a_fair_with_no_booths_has_zero_figures(fair: Fair) -> None:
    Booth.objects.filter(pk=fair.booth.pk).update(state=Booth.State.REJECTED)
    assert selectors.fair_figures(fair.fair) == {
        "booths": 0,
        "visitors": 0,
        "queue_max": 0,
        "queue_avg": 0,
        "joined": 0,
        "taken": 0,
        "done": 0,
        "applications": 0,
        "offers": 0,
        "per_booth": [],
    }
