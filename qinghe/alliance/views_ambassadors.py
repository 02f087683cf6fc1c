"""Ambassador pages: staff run the yearly round; students nominate and vote; an ambassador
sees their chapter's members, reports activities and reads their year's record."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qinghe.core.errorhandling import redirect_on_error
from qinghe.core.errors import ApplicationError, NotFound
from qinghe.core.http import AuthedRequest

from . import ambassadors, selectors
from .models import AmbassadorRound, Chapter, Membership, Nomination


def _int(value: str | None) -> int | None:
    try:
        return int(value or "")
    except ValueError:
        return None


def _errors_text(exc: ValidationError) -> str:
    return "；".join(str(m) for m in exc.messages)


# ---- staff ----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@redirect_on_error("alliance:ambassador_rounds")
def rounds(request: AuthedRequest) -> HttpResponse:
    if request.method == "POST":
        year = _int(request.POST.get("year"))
        try:
            created = ambassadors.round_open(
                actor=request.user, year=year or 0, mode=request.POST.get("mode", "")
            )
        except ValidationError as exc:
            messages.error(request, _errors_text(exc))
            return redirect("alliance:ambassador_rounds")
        messages.success(request, f"已发起 {created.year} 年度评选，学子现在可以提名。")
        return redirect("alliance:ambassador_round", round_id=created.pk)
    return render(
        request,
        "alliance/rounds.html",
        {
            "rounds": AmbassadorRound.objects.all(),
            "current": ambassadors.round_current(),
            "modes": AmbassadorRound.Mode.choices,
            "year": timezone.localdate().year,
        },
    )


@require_GET
def round_detail(request: AuthedRequest, round_id: int) -> HttpResponse:
    found = ambassadors.round_get(round_id=round_id)
    return render(
        request,
        "alliance/round_detail.html",
        {"round": found, "nominations": ambassadors.round_nominations(round=found)},
    )


@require_POST
@redirect_on_error("alliance:ambassador_round", "round_id")
def voting_open(request: AuthedRequest, round_id: int) -> HttpResponse:
    found = ambassadors.round_get(round_id=round_id)
    ambassadors.voting_open(actor=request.user, round=found)
    messages.success(request, "投票已开始，已通知相关分会的会员。")
    return redirect("alliance:ambassador_round", round_id=found.pk)


@require_POST
@redirect_on_error("alliance:ambassador_round", "round_id")
def close(request: AuthedRequest, round_id: int) -> HttpResponse:
    found = ambassadors.round_get(round_id=round_id)
    results = ambassadors.round_close(actor=request.user, round=found)
    messages.success(
        request,
        "评选已结束。" + (f"按投票产生 {len(results)} 位大使。" if results else ""),
    )
    return redirect("alliance:ambassador_round", round_id=found.pk)


@require_POST
@redirect_on_error("alliance:ambassador_rounds")
def shortlist(request: AuthedRequest, nomination_id: int) -> HttpResponse:
    n = ambassadors.nomination_get_for_staff(viewer=request.user, nomination_id=nomination_id)
    keep = request.POST.get("keep") == "1"
    ambassadors.shortlist(actor=request.user, nomination=n, keep=keep)
    messages.success(request, "已入围。" if keep else "已标记为未入围。")
    return redirect("alliance:ambassador_round", round_id=n.round_id)


@require_POST
@redirect_on_error("alliance:ambassador_rounds")
def appoint(request: AuthedRequest, nomination_id: int) -> HttpResponse:
    n = ambassadors.nomination_get_for_staff(viewer=request.user, nomination_id=nomination_id)
    ambassadors.appoint(actor=request.user, nomination=n)
    messages.success(request, f"已任命 {n.nominee} 为{n.chapter.name}大使。")
    return redirect("alliance:ambassador_round", round_id=n.round_id)


# ---- students -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@redirect_on_error("alliance:ambassador_nominate")
def nominate(request: AuthedRequest) -> HttpResponse:
    user = request.user
    current = ambassadors.round_current()
    memberships = list(
        Membership.objects.filter(
            user=user, status=Membership.Status.ACTIVE, chapter__state=Chapter.State.ACTIVE
        ).select_related("chapter")
    )
    if request.method == "POST":
        chapter = next(
            (m.chapter for m in memberships if m.chapter_id == _int(request.POST.get("chapter"))),
            None,
        )
        if chapter is None:
            raise ApplicationError("请选择你所在的分会")
        nominee = None
        nominee_id = _int(request.POST.get("nominee"))
        if nominee_id and nominee_id != user.pk:
            member = Membership.objects.filter(
                chapter=chapter, user_id=nominee_id, status=Membership.Status.ACTIVE
            ).first()
            if member is None:
                raise NotFound("未找到该会员")
            nominee = member.user
        try:
            ambassadors.nominate(
                actor=user,
                chapter=chapter,
                nominee=nominee,
                statement=request.POST.get("statement", ""),
            )
        except ValidationError as exc:
            raise ApplicationError(_errors_text(exc)) from exc
        messages.success(request, "提名已提交，工作人员审核后公布入围名单。")
        return redirect("alliance:ambassador_nominate")
    led = [m for m in memberships if m.role == Membership.Role.LEADER]
    return render(
        request,
        "alliance/nominate.html",
        {
            "round": current,
            "memberships": memberships,
            "led": [
                {"chapter": m.chapter, "members": selectors.chapter_members(chapter=m.chapter)}
                for m in led
            ],
            "mine": Nomination.objects.filter(nominee=user)
            .select_related("round", "chapter")
            .order_by("-created_at"),
        },
    )


@require_http_methods(["GET", "POST"])
@redirect_on_error("alliance:ambassador_vote")
def vote(request: AuthedRequest) -> HttpResponse:
    if request.method == "POST":
        nomination = Nomination.objects.filter(pk=_int(request.POST.get("nomination")) or 0).first()
        if nomination is None:
            raise NotFound("未找到该候选人")
        ambassadors.vote_cast(voter=request.user, nomination=nomination)
        messages.success(request, "投票成功，感谢参与。")
        return redirect("alliance:ambassador_vote")
    return render(
        request, "alliance/vote.html", {"ballots": ambassadors.ballot_for(user=request.user)}
    )


# ---- the ambassador -------------------------------------------------------------------------


@require_GET
def home(request: AuthedRequest) -> HttpResponse:
    user = request.user
    year = timezone.localdate().year
    return render(
        request,
        "alliance/ambassador.html",
        {
            "terms": list(ambassadors.current_terms(user=user)),
            "record": ambassadors.ambassador_record(user=user, year=year),
            "reports": user.activity_reports.select_related("chapter")[:20],
            "today": timezone.localdate().isoformat(),
        },
    )


@require_GET
def members(request: AuthedRequest, chapter_id: int) -> HttpResponse:
    chapter, rows = ambassadors.members_for_ambassador(viewer=request.user, chapter_id=chapter_id)
    return render(request, "alliance/ambassador_members.html", {"chapter": chapter, "rows": rows})


@require_POST
@redirect_on_error("alliance:ambassador_home")
def report(request: AuthedRequest, chapter_id: int) -> HttpResponse:
    term = ambassadors.current_terms(user=request.user).filter(chapter_id=chapter_id).first()
    if term is None:
        raise NotFound("未找到该分会")
    try:
        held_on = dt.date.fromisoformat(request.POST.get("held_on", ""))
    except ValueError as exc:
        raise ApplicationError("请填写活动日期") from exc
    attendance = _int(request.POST.get("attendance"))
    if attendance is None:
        raise ApplicationError("请填写参加人数")
    try:
        ambassadors.report_create(
            actor=request.user,
            chapter=term.chapter,
            held_on=held_on,
            title=request.POST.get("title", ""),
            attendance=attendance,
            description=request.POST.get("description", ""),
        )
    except ValidationError as exc:
        raise ApplicationError(_errors_text(exc)) from exc
    messages.success(request, "活动已记录。")
    return redirect("alliance:ambassador_home")
