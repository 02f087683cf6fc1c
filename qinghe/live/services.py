"""Writes of 直播带岗: scheduling, starting and ending a stream; asking, answering, pinning,
hiding and releasing questions; applying from a stream. Pushes go out after commit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.core.audit import audit_record
from qinghe.core.errors import ApplicationError, NotFound, PermissionDenied
from qinghe.enterprises.models import Enterprise
from qinghe.jobs.models import Posting
from qinghe.realtime.publish import publish_on_commit
from qinghe.recruitment.models import Application
from qinghe.recruitment.services.applications import application_apply

from . import rules
from .models import Question, Stream, StreamApplication
from .selectors import enterprise_org_ids, question_payload


def stream_group(stream_id: int) -> str:
    return f"live.{stream_id}"


def team_group(stream_id: int) -> str:
    return f"live.{stream_id}.team"


def _require_organiser(actor: User) -> None:
    if not rules.is_organiser(actor):
        raise PermissionDenied("只有人社局、团市委工作人员可以安排直播")


@transaction.atomic
def stream_create(
    *,
    actor: User,
    title: str,
    host: str,
    enterprises: Iterable[Enterprise],
    postings: Iterable[Posting],
    starts_at: dt.datetime | None,
    ends_at: dt.datetime | None,
    hls_url: str,
) -> Stream:
    _require_organiser(actor)
    errors: dict[str, str] = {}
    title, host, hls_url = (title or "").strip(), (host or "").strip(), (hls_url or "").strip()
    enterprise_list = list(enterprises)
    posting_list = list(postings)
    if not title:
        errors["title"] = "请填写直播标题"
    elif len(title) > 120:
        errors["title"] = "直播标题不能超过 120 个字"
    if not host:
        errors["host"] = "请填写主持人"
    elif len(host) > 60:
        errors["host"] = "主持人不能超过 60 个字"
    if not enterprise_list:
        errors["enterprises"] = "请至少选择一家参与企业"
    elif any(e.state != Enterprise.State.VERIFIED for e in enterprise_list):
        errors["enterprises"] = "只能选择已认证的企业"
    ids = {e.pk for e in enterprise_list}
    if any(p.enterprise_id not in ids for p in posting_list):
        errors["postings"] = "推介岗位须属于参与企业"
    elif any(p.state != Posting.State.PUBLISHED for p in posting_list):
        errors["postings"] = "只能推介已发布的岗位"
    if starts_at is None:
        errors["starts_at"] = "请填写计划开始时间"
    if ends_at is None:
        errors["ends_at"] = "请填写计划结束时间"
    if starts_at and ends_at and ends_at <= starts_at:
        errors["ends_at"] = "结束时间须晚于开始时间"
    problem = rules.hls_url_problem(hls_url)
    if problem:
        errors["hls_url"] = problem
    if errors:
        raise ValidationError(errors)
    assert starts_at is not None and ends_at is not None
    stream = Stream.objects.create(
        title=title,
        host=host,
        starts_at=starts_at,
        ends_at=ends_at,
        hls_url=hls_url,
        created_by=actor,
    )
    stream.enterprises.set(enterprise_list)
    stream.postings.set(posting_list)
    audit_record(action="create", actor=actor, target=stream, summary=f"安排直播带岗：{title}")
    return stream


def _locked(stream: Stream) -> Stream:
    return Stream.objects.select_for_update().get(pk=stream.pk)


@transaction.atomic
def stream_start(*, actor: User, stream: Stream, now: dt.datetime | None = None) -> Stream:
    _require_organiser(actor)
    stream = _locked(stream)
    if stream.state != Stream.State.SCHEDULED:
        raise ApplicationError("只有未开始的直播可以开始")
    stream.state = Stream.State.LIVE
    stream.started_at = now or timezone.now()
    stream.save(update_fields=["state", "started_at", "updated_at"])
    audit_record(action="update", actor=actor, target=stream, summary=f"开始直播：{stream.title}")
    publish_on_commit([stream_group(stream.pk)], {"type": "live.state", "state": stream.state})
    return stream


@transaction.atomic
def stream_end(
    *, actor: User, stream: Stream, replay_url: str = "", now: dt.datetime | None = None
) -> Stream:
    _require_organiser(actor)
    stream = _locked(stream)
    if stream.state != Stream.State.LIVE:
        raise ApplicationError("只有直播中的直播可以结束")
    replay_url = (replay_url or "").strip()
    if replay_url:
        problem = rules.hls_url_problem(replay_url)
        if problem:
            raise ValidationError({"replay_url": problem.replace("直播地址", "回放地址")})
    stream.state = Stream.State.ENDED
    stream.ended_at = now or timezone.now()
    stream.replay_url = replay_url
    stream.save(update_fields=["state", "ended_at", "replay_url", "updated_at"])
    audit_record(action="update", actor=actor, target=stream, summary=f"结束直播：{stream.title}")
    publish_on_commit([stream_group(stream.pk)], {"type": "live.state", "state": stream.state})
    return stream


@transaction.atomic
def stream_set_replay(*, actor: User, stream: Stream, replay_url: str) -> Stream:
    """Sets (or corrects, or clears) the replay of an ended stream: the recording is often
    ready only after the stream ends. The same address rule as the live source."""
    _require_organiser(actor)
    stream = _locked(stream)
    if stream.state != Stream.State.ENDED:
        raise ApplicationError("直播结束后才能设置回放地址")
    replay_url = (replay_url or "").strip()
    if replay_url:
        problem = rules.hls_url_problem(replay_url)
        if problem:
            raise ValidationError({"replay_url": problem.replace("直播地址", "回放地址")})
    old = stream.replay_url
    stream.replay_url = replay_url
    stream.save(update_fields=["replay_url", "updated_at"])
    audit_record(
        action="update",
        actor=actor,
        target=stream,
        summary=f"设置直播回放：{stream.title}",
        data={"from": old, "to": replay_url},
    )
    return stream


# --- the question box ----------------------------------------------------------------------------


@transaction.atomic
def question_ask(
    *, actor: User, stream: Stream, text: str, now: dt.datetime | None = None
) -> Question:
    """A viewer asks. Refused (nothing written) when the stream has ended, the text is empty
    or too long, or the user asks too often; held for moderation when the word filter matches."""
    now = now or timezone.now()
    if stream.state == Stream.State.ENDED:
        raise ApplicationError("直播已结束，不能再提问")
    text = " ".join((text or "").split())
    if not text:
        raise ValidationError({"text": "请填写问题"})
    if len(text) > rules.QUESTION_MAX:
        raise ValidationError({"text": f"问题不能超过 {rules.QUESTION_MAX} 个字"})
    recent = list(
        Question.objects.filter(
            stream=stream, author=actor, created_at__gt=now - dt.timedelta(minutes=1)
        ).values_list("created_at", flat=True)
    )
    if len(recent) >= rules.RATE_MAX_PER_MINUTE or any(
        at > now - dt.timedelta(seconds=rules.RATE_GAP_SECONDS) for at in recent
    ):
        raise ApplicationError("提问太频繁，请稍后再试")
    held = rules.needs_review(text)
    question = Question.objects.create(
        stream=stream,
        author=actor,
        text=text,
        state=Question.State.HELD if held else Question.State.VISIBLE,
        created_at=now,
    )
    _push(question)
    return question


def _push(question: Question) -> None:
    payload = {"type": "live.question", "question": question_payload(question)}
    if question.state == Question.State.VISIBLE:
        publish_on_commit([stream_group(question.stream_id)], payload)
    else:
        # Held or hidden: the team sees the change; everyone else drops it if shown.
        publish_on_commit([team_group(question.stream_id)], payload)
        if question.state == Question.State.HIDDEN:
            publish_on_commit(
                [stream_group(question.stream_id)], {"type": "live.removed", "id": question.pk}
            )


def _question_for(actor: User, stream: Stream, question_id: Any) -> Question:
    try:
        pk = int(question_id)
    except (TypeError, ValueError):
        raise NotFound("没有这条提问") from None
    question = Question.objects.select_for_update().filter(pk=pk, stream=stream).first()
    if question is None:
        raise NotFound("没有这条提问")
    return question


def _require_team(actor: User, stream: Stream) -> None:
    if not rules.is_team(actor, enterprise_org_ids(stream)):
        raise PermissionDenied("只有主办方和参与企业可以回答或置顶")


@transaction.atomic
def question_answer(*, actor: User, stream: Stream, question_id: Any, text: str) -> Question:
    _require_team(actor, stream)
    question = _question_for(actor, stream, question_id)
    text = (text or "").strip()
    if not text:
        raise ValidationError({"answer": "请填写回答"})
    if len(text) > rules.ANSWER_MAX:
        raise ValidationError({"answer": f"回答不能超过 {rules.ANSWER_MAX} 个字"})
    if question.state == Question.State.HIDDEN:
        raise ApplicationError("该提问已隐藏")
    question.answer = text
    question.answered_by = actor
    question.save(update_fields=["answer", "answered_by"])
    _push(question)
    return question


@transaction.atomic
def question_pin(*, actor: User, stream: Stream, question_id: Any, pinned: bool = True) -> Question:
    _require_team(actor, stream)
    question = _question_for(actor, stream, question_id)
    if question.state != Question.State.VISIBLE:
        raise ApplicationError("只能置顶已公开的提问")
    question.pinned = pinned
    question.save(update_fields=["pinned"])
    _push(question)
    return question


@transaction.atomic
def question_hide(*, actor: User, stream: Stream, question_id: Any) -> Question:
    if not rules.is_organiser(actor):
        raise PermissionDenied("只有管理员可以隐藏提问")
    question = _question_for(actor, stream, question_id)
    question.state = Question.State.HIDDEN
    question.pinned = False
    question.save(update_fields=["state", "pinned"])
    audit_record(
        action="update",
        actor=actor,
        target=question,
        summary=f"隐藏直播提问（{stream.title}）",
    )
    _push(question)
    return question


@transaction.atomic
def question_release(*, actor: User, stream: Stream, question_id: Any) -> Question:
    """A moderator lets a held question through."""
    if not rules.is_organiser(actor):
        raise PermissionDenied("只有管理员可以审核提问")
    question = _question_for(actor, stream, question_id)
    if question.state != Question.State.HELD:
        raise ApplicationError("该提问不在待审核中")
    question.state = Question.State.VISIBLE
    question.save(update_fields=["state"])
    _push(question)
    return question


# --- applying from the stream --------------------------------------------------------------------


@transaction.atomic
def apply_from_stream(
    *, actor: User, stream: Stream, posting_id: int, consent: bool
) -> Application:
    """One-click application to a featured posting, through the recruitment apply service
    (which records the share consent and refuses without it)."""
    posting = stream.postings.filter(pk=posting_id).first()
    if posting is None:
        raise NotFound("该岗位不在本场直播的推介岗位中")
    application = application_apply(actor=actor, posting=posting, consent=consent)
    StreamApplication.objects.create(
        stream=stream, application=application, created_at=application.applied_at
    )
    publish_on_commit(
        [team_group(stream.pk)],
        {"type": "live.applied", "posting": posting.pk},
    )
    return application
