"""Demo events: a finished spring job fair the demo student and ambassador attended (checked
in, so it counts as a liaison contact), an upcoming campus talk of the demo enterprise with
one place (the student holds it, the ambassador waits first in line), an upcoming cloud fair,
a League study tour, and an enterprise proposal waiting for review. Idempotent: events are
found by title, and check-in and registration skip what is already there."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from qinghe.accounts.models import Organisation, User
from qinghe.core.roles import Role
from qinghe.enterprises.models import Enterprise
from qinghe.jobs.models import Posting

from .checkin import make_code
from .models import Event, EventChange, ItineraryStop, Registration
from .selectors import registration_active
from .services import registration_check_in, registration_create


def _event(title: str, organiser: Organisation, actor: User | None, **fields: Any) -> Event:
    event = Event.objects.filter(title=title).first()
    if event is None:
        event = Event.objects.create(title=title, organiser=organiser, created_by=actor, **fields)
        EventChange.objects.create(
            event=event, action="create", to_state=event.state, actor=actor, note="演示数据"
        )
    return event


def _window(starts: dt.datetime, hours: int, **fields: Any) -> dict[str, Any]:
    return {
        "starts_at": starts,
        "ends_at": starts + dt.timedelta(hours=hours),
        "registration_opens_at": starts - dt.timedelta(days=30),
        "registration_closes_at": starts - dt.timedelta(hours=12),
        "cancel_deadline": starts - dt.timedelta(days=1),
        **fields,
    }


@transaction.atomic
def seed_events(*, stdout: Any = None, scale: int = 0, seed: int = 0) -> dict[str, int]:
    users = {
        u.role: u for u in User.objects.filter(username__in=("renshe", "tuanwei", "xuezi", "dashi"))
    }
    staff, league = users.get(Role.HR_STAFF), users.get(Role.LEAGUE_STAFF)
    student, ambassador = users.get(Role.STUDENT), users.get(Role.AMBASSADOR)
    if not (
        staff and league and student and ambassador and staff.organisation and league.organisation
    ):
        if stdout is not None:
            stdout.write("events demo skipped: personas missing")
        return {"events": 0}
    now = timezone.now()
    local_today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    enterprise = Enterprise.objects.filter(
        organisation__name="鹤山市雅图仕印刷有限公司", state=Enterprise.State.VERIFIED
    ).first()

    # A finished fair two months ago, attended by both demo participants.
    fair_start = local_today - dt.timedelta(days=60) + dt.timedelta(hours=9)
    fair = _event(
        "2026 鹤山春季校园招聘会",
        staff.organisation,
        staff,
        type=Event.Type.JOB_FAIR,
        description="鹤山市重点企业现场招聘，提供全职、实习与见习岗位。",
        place="鹤山市人力资源市场（沙坪街道）",
        capacity=300,
        state=Event.State.FINISHED,
        published_at=fair_start - dt.timedelta(days=30),
        **_window(fair_start, 6),
    )
    if enterprise is not None:
        fair.enterprises.add(enterprise)
        fair.postings.add(
            *Posting.objects.filter(enterprise=enterprise, state=Posting.State.PUBLISHED)[:3]
        )
    for user in (student, ambassador):
        reg = Registration.objects.filter(event=fair, user=user).first()
        if reg is None:
            reg = Registration.objects.create(
                event=fair,
                user=user,
                status=Registration.Status.CONFIRMED,
                registered_at=fair_start - dt.timedelta(days=10),
                confirmed_at=fair_start - dt.timedelta(days=10),
            )
        registration_check_in(
            actor=staff,
            event=fair,
            code=make_code(registration_id=reg.pk, event_id=fair.pk),
            now=fair_start + dt.timedelta(minutes=20),
        )

    # Upcoming: a campus talk with a single place, so the waiting list shows.
    talk_start = local_today + dt.timedelta(days=12, hours=14)
    organiser = enterprise.organisation if enterprise is not None else staff.organisation
    talk = _event(
        "雅图仕 2026 秋季校园宣讲会（华南理工大学）",
        organiser,
        staff,
        type=Event.Type.CAMPUS_TALK,
        description="企业介绍、岗位解读与现场答疑，优秀者可直通面试。",
        place="华南理工大学五山校区 31 号楼报告厅",
        capacity=1,
        state=Event.State.PUBLISHED,
        published_at=now,
        **_window(talk_start, 2),
    )
    if enterprise is not None:
        talk.enterprises.add(enterprise)
    for user in (student, ambassador):
        if registration_active(user=user, event=talk) is None:
            registration_create(user=user, event=talk)

    cloud_start = local_today + dt.timedelta(days=20, hours=19)
    _event(
        "青鹤归巢·云招聘月 直播带岗专场",
        staff.organisation,
        staff,
        type=Event.Type.LIVE_STREAM,
        description="鹤山重点企业人事在线讲解岗位，直播间可提问。",
        online_url="https://live.qinghe.example.cn/room/2026",
        capacity=None,
        state=Event.State.PUBLISHED,
        published_at=now,
        **_window(cloud_start, 2),
    )
    tour_start = local_today + dt.timedelta(days=35, hours=8)
    tour = _event(
        "暑期家乡研学：走进鹤山工业城",
        league.organisation,
        league,
        type=Event.Type.STUDY_TOUR,
        description="参观鹤山工业城重点企业与产业园区，与返乡青年人才座谈。",
        place="鹤山工业城（集合点：鹤山市青少年宫）",
        capacity=40,
        state=Event.State.PUBLISHED,
        published_at=now,
        tour_groups=["high_school", "vocational", "university"],
        **_window(tour_start, 9),
    )
    if not tour.tour_groups:  # a demo database made before study-tour groups existed
        tour.tour_groups = ["high_school", "vocational", "university"]
        tour.save(update_fields=["tour_groups"])
    if not tour.itinerary.exists():
        for hours, kind, place, note in (
            (0.5, ItineraryStop.Kind.PARK, "鹤山工业城", "产业园区概况与招商展厅"),
            (2, ItineraryStop.Kind.ENTERPRISE, "鹤山市雅图仕印刷有限公司", "印刷生产线参观"),
            (5, ItineraryStop.Kind.HERITAGE, "古劳水乡", "咏春拳发源地与水乡风貌"),
            (7, ItineraryStop.Kind.OTHER, "鹤山市青少年宫", "返乡青年人才座谈"),
        ):
            ItineraryStop.objects.create(
                event=tour,
                at=tour.starts_at + dt.timedelta(hours=hours),
                kind=kind,
                place=place,
                note=note,
            )
    if enterprise is not None:
        proposal_start = local_today + dt.timedelta(days=40, hours=14)
        _event(
            "雅图仕开放日：印刷工艺体验",
            enterprise.organisation,
            User.objects.filter(role=Role.ENTERPRISE_HR, organisation=enterprise.organisation)
            .order_by("id")
            .first(),
            type=Event.Type.SHARING,
            description="参观生产线，与鹤山籍青年工程师交流。",
            place="鹤山市雅图仕印刷有限公司",
            capacity=30,
            state=Event.State.REVIEW,
            **_window(proposal_start, 3),
        )
    count = Event.objects.count()
    if stdout is not None:
        stdout.write(f"events demo: {count} events; 李晓彤 attended the spring fair")
    return {"events": count}
