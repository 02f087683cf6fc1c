"""Demo 直播带岗: one stream scheduled three days ahead (the self-hosted ingest path) and one
that ended two weeks ago with its figures: the peak of viewers, questions (answered, pinned, one
held by the word filter, one hidden by a moderator), applications from the stream to its
featured postings (through the recruitment service, by the fairs demo's students who have a
talent record); no replay address, as the demo has no recording to play.

Idempotent: streams are found by title; the ended one is filled only when it is made."""

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
from qinghe.jobs.models import Posting

from .models import Question, Stream, StreamApplication

SCHEDULED_TITLE = "鹤山智造·新春直播带岗"
ENDED_TITLE = "青鹤归巢·鹤山企业直播带岗（第一场）"
ENTERPRISES = (
    "鹤山市雅图仕印刷有限公司",
    "鹤山市中欧智能电子科技有限公司",
    "鹤山市智汇软件科技有限公司",
)
PEAK_VIEWERS = 186
QUESTIONS = (
    # text, answer, pinned, state
    ("应届生可以投递吗？需要什么专业？", "可以，计算机、电子信息类专业优先。", True, "visible"),
    ("试用期多久，工资怎么算？", "试用期三个月，工资不低于转正的八成。", False, "visible"),
    ("有员工宿舍吗？", "提供两人间宿舍，水电自理。", False, "visible"),
    ("能不能远程实习？", "", False, "visible"),
    ("加我微信聊聊兼职", "", False, "hidden"),
    ("外地学生来面试有路费补贴吗？", "", False, "visible"),
)


def _stream(title: str, staff: User, postings: list[Posting], **fields: Any) -> tuple[Stream, bool]:
    stream = Stream.objects.filter(title=title).first()
    if stream is not None:
        return stream, False
    stream = Stream.objects.create(title=title, created_by=staff, **fields)
    stream.enterprises.set({p.enterprise for p in postings})
    stream.postings.set(postings)
    return stream, True


def _apply(stream: Stream, student: User, posting: Posting, at: dt.datetime) -> int:
    from qinghe.recruitment.models import Application
    from qinghe.recruitment.services.applications import application_apply

    if Application.objects.filter(posting=posting, applicant=student).exists():
        return 0
    try:
        with transaction.atomic():
            application = application_apply(actor=student, posting=posting, consent=True, now=at)
            StreamApplication.objects.create(stream=stream, application=application, created_at=at)
    except (ApplicationError, PermissionDenied, ValidationError):
        return 0
    return 1


@transaction.atomic
def seed_live(*, stdout: Any = None, scale: int = 0, seed: int = 0) -> dict[str, int]:
    staff = User.objects.filter(username="renshe", role=Role.HR_STAFF).first()
    enterprises = list(
        Enterprise.objects.filter(name__in=ENTERPRISES, state=Enterprise.State.VERIFIED)
    )
    postings = [
        p
        for e in sorted(enterprises, key=lambda e: ENTERPRISES.index(e.name))
        for p in Posting.objects.filter(enterprise=e, state=Posting.State.PUBLISHED).order_by("id")[
            :2
        ]
    ]
    if staff is None or not postings:
        if stdout is not None:
            stdout.write("live demo skipped: the staff persona or demo postings missing")
        return {"streams": 0}
    now = timezone.now()
    soon = timezone.localtime(now).replace(hour=19, minute=30, second=0, microsecond=0)
    soon += dt.timedelta(days=3)
    _stream(
        SCHEDULED_TITLE,
        staff,
        postings,
        host="人社局 何主任",
        starts_at=soon,
        ends_at=soon + dt.timedelta(hours=1, minutes=30),
        hls_url="/hls/heshan-spring.m3u8",
    )
    began = soon - dt.timedelta(days=17)
    ended, created = _stream(
        ENDED_TITLE,
        staff,
        postings,
        host="团市委 梁老师",
        starts_at=began,
        ends_at=began + dt.timedelta(hours=1, minutes=30),
        hls_url="/hls/heshan-first.m3u8",
        # no replay address: the demo has no recording to play (staff set one with live:replay)
        replay_url="",
        state=Stream.State.ENDED,
        started_at=began,
        ended_at=began + dt.timedelta(hours=1, minutes=35),
        peak_viewers=PEAK_VIEWERS,
    )
    applications = 0
    if created:
        from qinghe.fairs.demo import demo_students

        askers = [
            u for u in User.objects.filter(username__in=("xuezi", "dashi")).order_by("username")
        ]
        students = demo_students()
        askers += students
        for i, (text, answer, pinned, state) in enumerate(QUESTIONS):
            Question.objects.create(
                stream=ended,
                author=askers[i % len(askers)],
                text=text,
                answer=answer,
                answered_by=staff if answer else None,
                pinned=pinned,
                state=state,
                created_at=began + dt.timedelta(minutes=8 + 6 * i),
            )
        for i, student in enumerate(students):
            applications += _apply(
                ended,
                student,
                postings[i % len(postings)],
                began + dt.timedelta(minutes=20 + 3 * i),
            )
    return {
        "streams": Stream.objects.filter(title__in=(SCHEDULED_TITLE, ENDED_TITLE)).count(),
        "applications": applications,
    }
