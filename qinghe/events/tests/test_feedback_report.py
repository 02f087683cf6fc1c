"""After an event: a short feedback from those who came, and the report staff read."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.core.errors import ApplicationError
from qinghe.core.roles import Role
from qinghe.enterprises.tests.factories import Ref
from qinghe.events import services
from qinghe.events.models import Event, Feedback, Registration
from qinghe.events.selectors import event_report
from qinghe.notifications.models import OutboxMessage
from qinghe.recruitment.models import Application
from qinghe.testing.recruiting import X_PHONE, Y_PHONE, apply_to, claim_talent
from qinghe.testing.world import make_world

from .factories import make_event

pytestmark = pytest.mark.django_db


def test_feedback_and_the_report(personas: dict[str, User], ref: Ref) -> None:
    w = make_world(personas, ref)
    now = timezone.now()
    fair = make_event(
        personas[Role.HR_STAFF].organisation,  # type: ignore[arg-type]
        now=now - dt.timedelta(days=12),
        type=Event.Type.JOB_FAIR,
        title="秋季招聘会",
        capacity=10,
        starts_at=now - dt.timedelta(days=2),
    )
    fair.enterprises.set([w.a])
    claim_talent(w.x, name="陈小明", seq="011", phone=X_PHONE)
    claim_talent(w.y, name="黄小红", seq="022", phone=Y_PHONE)
    start = fair.starts_at
    for user, came in ((w.x, True), (w.y, False)):
        Registration.objects.create(
            event=fair,
            user=user,
            status="confirmed",
            registered_at=start - dt.timedelta(days=5),
            attended_at=start if came else None,
        )
    # x (came) applies to the participating enterprise after the fair; y (did not come) too
    apply_to(w.x, w.posting_a)
    apply_to(w.y, w.posting_a)
    # the fair ends: attendees are asked for feedback
    services.event_transition(actor=personas[Role.HR_STAFF], event=fair, action="finish")
    assert list(
        OutboxMessage.objects.filter(subject="请为活动打分：秋季招聘会").values_list(
            "user_id", flat=True
        )
    ) == [w.x.pk]
    before = (Feedback.objects.count(), OutboxMessage.objects.count())
    with pytest.raises(ApplicationError) as exc:
        services.feedback_create(user=w.y, event=fair, rating=5)
    assert str(exc.value) == "只有签到参加的学子可以评价该活动"
    with pytest.raises(ValidationError):
        services.feedback_create(user=w.x, event=fair, rating=6)
    with pytest.raises(ApplicationError) as exc:
        services.feedback_create(
            user=w.x, event=fair, rating=4, now=fair.ends_at - dt.timedelta(minutes=1)
        )
    assert str(exc.value) == "活动结束后才能评价"
    assert (Feedback.objects.count(), OutboxMessage.objects.count()) == before
    client = Client()
    client.force_login(w.x)
    assert client.get("/events/mine/").context["rows"][0]["can_rate"] is True
    client.post(f"/events/{fair.pk}/feedback/", {"rating": "4", "comment": "企业很多，岗位对口"})
    assert Feedback.objects.get().rating == 4
    r = client.post(f"/events/{fair.pk}/feedback/", {"rating": "5"}, follow=True)
    assert "你已评价过该活动" in r.content.decode()
    report = event_report(event=fair)
    assert (report.registered, report.attended, report.feedback, report.rating) == (2, 1, 1, 4.0)
    assert report.comments == ["企业很多，岗位对口"]
    assert (report.applications, report.hires) == (1, 0)
    Application.objects.filter(talent__user=w.x).update(hired_at=now)
    assert event_report(event=fair).hires == 1
    staff_page: Any = Client()
    staff_page.force_login(personas[Role.HR_STAFF])
    page = staff_page.get(f"/events/manage/{fair.pk}/")
    assert page.context["report"].applications == 1
