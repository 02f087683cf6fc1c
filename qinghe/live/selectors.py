"""Reads of 直播带岗, each scoped by the viewer."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.core.errors import NotFound
from qinghe.core.roles import STAFF_ROLES, Role

from .models import Question, Stream, StreamApplication
from .rules import is_team

QUESTION_PAGE = 50


def enterprise_org_ids(stream: Stream) -> set[int]:
    return set(stream.enterprises.values_list("organisation_id", flat=True))


def _visible_streams(viewer: User) -> QuerySet[Stream]:
    qs = Stream.objects.all()
    role = getattr(viewer, "role", None)
    if role in STAFF_ROLES or role in (Role.STUDENT, Role.AMBASSADOR):
        return qs
    if role == Role.ENTERPRISE_HR and viewer.organisation_id:
        return qs.filter(enterprises__organisation_id=viewer.organisation_id).distinct()
    return qs.none()


def streams_for_viewer(*, viewer: User, show: str = "") -> QuerySet[Stream]:
    """The streams the viewer may watch; ``show="upcoming"``: not yet ended."""
    qs = _visible_streams(viewer)
    if show == "upcoming":
        qs = qs.filter(state__in=(Stream.State.SCHEDULED, Stream.State.LIVE))
    return qs.order_by("-starts_at", "-pk")


def stream_get_for_viewer(*, viewer: User, stream_id: int) -> Stream:
    stream = _visible_streams(viewer).filter(pk=stream_id).first()
    if stream is None:
        raise NotFound("没有这场直播")
    return stream


def viewer_is_team(*, viewer: User, stream: Stream) -> bool:
    return is_team(viewer, enterprise_org_ids(stream))


def featured_postings(*, stream: Stream) -> list[Any]:
    return list(
        stream.postings.select_related("enterprise", "town").order_by("enterprise__name", "pk")
    )


def question_payload(q: Question) -> dict[str, Any]:
    return {
        "id": q.pk,
        "text": q.text,
        "state": q.state,
        "pinned": q.pinned,
        "answer": q.answer,
        "at": timezone.localtime(q.created_at).strftime("%H:%M"),
    }


def questions_for(*, stream: Stream, team: bool) -> list[dict[str, Any]]:
    """The latest questions the viewer may see: visible ones (and held ones for the team),
    pinned first is the page's job."""
    states = [Question.State.VISIBLE, Question.State.HELD] if team else [Question.State.VISIBLE]
    rows = list(
        Question.objects.filter(stream=stream, state__in=states).order_by("-created_at", "-pk")[
            :QUESTION_PAGE
        ]
    )
    pinned = list(
        Question.objects.filter(stream=stream, state=Question.State.VISIBLE, pinned=True).exclude(
            pk__in=[r.pk for r in rows]
        )
    )
    return [question_payload(q) for q in reversed(rows)] + [question_payload(q) for q in pinned]


def stream_figures(stream: Stream) -> dict[str, Any]:
    """After (or during) a stream: peak viewers, questions and applications per featured
    posting."""
    q = Question.objects.filter(stream=stream).aggregate(
        total=Count("pk"),
        answered=Count("pk", filter=~Q(answer="")),
        hidden=Count("pk", filter=Q(state=Question.State.HIDDEN)),
        held=Count("pk", filter=Q(state=Question.State.HELD)),
    )
    per_posting = Counter(
        StreamApplication.objects.filter(stream=stream).values_list(
            "application__posting_id", flat=True
        )
    )
    postings = [
        {"posting": p, "applications": per_posting.get(p.pk, 0)}
        for p in featured_postings(stream=stream)
    ]
    return {
        "peak_viewers": stream.peak_viewers,
        "questions": q["total"],
        "answered": q["answered"],
        "hidden": q["hidden"],
        "held": q["held"],
        "applications": sum(per_posting.values()),
        "postings": postings,
    }


def live_counts_for_plan(year: int) -> dict[str, int]:
    """For the 十个一 board: streams held (ended, started in ``year``), their peak viewers added
    up, and the applications made from them."""
    tz = timezone.get_current_timezone()
    start = dt.datetime(year, 1, 1, tzinfo=tz)
    end = dt.datetime(year + 1, 1, 1, tzinfo=tz)
    held = Stream.objects.filter(
        state=Stream.State.ENDED, started_at__gte=start, started_at__lt=end
    )
    peak = held.aggregate(total=Sum("peak_viewers"))["total"] or 0
    applications = StreamApplication.objects.filter(stream__in=held).count()
    return {"streams": held.count(), "peak_viewers": int(peak), "applications": applications}
