"""Online job fair pages: the fair list and hall (everyone signed in), a booth's page with the
student's live place in the queue, the enterprise's booth application and live queue, and the
staff page (booth review and the fair's figures). Thin: parse, select, call one service."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qinghe.accounts.models import User
from qinghe.core.errorhandling import redirect_on_error, redirect_on_error_to
from qinghe.core.errors import ApplicationError
from qinghe.core.http import AuthedRequest
from qinghe.events.selectors import is_event_staff

from . import selectors, services
from .models import Booth, QueueEntry


@require_GET
def fair_list(request: AuthedRequest) -> HttpResponse:
    show = "running" if request.GET.get("show") == "running" else ""
    fairs = list(selectors.fair_list(viewer=request.user, show=show)[:50])
    booths = selectors.own_booths(viewer=request.user, fair_ids=[f.pk for f in fairs])
    rows = [{"fair": f, "own_booth": booths.get(f.pk)} for f in fairs]
    review = set(selectors.booths_to_review(viewer=request.user).values_list("fair_id", flat=True))
    return render(
        request,
        "fairs/list.html",
        {"rows": rows, "show": show, "review": review, "is_staff": is_event_staff(request.user)},
    )


@require_GET
def hall(request: AuthedRequest, fair_id: int) -> HttpResponse:
    fair = selectors.fair_get_for_viewer(viewer=request.user, fair_id=fair_id)
    services.hall_visit_record(user=request.user, fair=fair)
    return render(
        request,
        "fairs/hall.html",
        {
            "fair": fair,
            "booths": selectors.hall_booths(fair=fair),
            "registered": selectors.is_registered(user=request.user, fair=fair),
            "own_booth": selectors.booth_of_enterprise(viewer=request.user, fair=fair),
            "is_staff": is_event_staff(request.user),
        },
    )


@require_GET
def booth(request: AuthedRequest, booth_id: int) -> HttpResponse:
    b = selectors.booth_get_for_viewer(viewer=request.user, booth_id=booth_id)
    registered = selectors.is_registered(user=request.user, fair=b.fair)
    return render(
        request,
        "fairs/booth.html",
        {
            "booth": b,
            "postings": list(b.postings.all()),
            "registered": registered,
            "state": selectors.student_queue_state(user=request.user, booth=b),
            "refusal": selectors.queue_open_refusal(booth=b, now=timezone.now()),
        },
    )


@require_POST
@redirect_on_error("fairs:booth", "booth_id")
def join(request: AuthedRequest, booth_id: int) -> HttpResponse:
    b = selectors.booth_get_for_viewer(viewer=request.user, booth_id=booth_id)
    services.queue_join(user=request.user, booth=b)
    messages.success(request, "已加入队列，轮到你时页面会提醒。")
    return redirect("fairs:booth", booth_id=b.pk)


@require_POST
@redirect_on_error("fairs:booth", "booth_id")
def leave(request: AuthedRequest, booth_id: int) -> HttpResponse:
    b = selectors.booth_get_for_viewer(viewer=request.user, booth_id=booth_id)
    services.queue_leave(user=request.user, booth=b)
    messages.info(request, "已离开队列。")
    return redirect("fairs:booth", booth_id=b.pk)


@require_http_methods(["GET", "POST"])
@redirect_on_error("fairs:apply", "fair_id")
def apply(request: AuthedRequest, fair_id: int) -> HttpResponse:
    fair = selectors.fair_get_for_viewer(viewer=request.user, fair_id=fair_id)
    enterprise = selectors.own_enterprise(request.user)
    postings = (
        list(selectors.open_postings(enterprise=enterprise)) if enterprise is not None else []
    )
    if request.method == "POST":
        try:
            ids = [int(v) for v in request.POST.getlist("postings")]
        except ValueError as exc:
            raise ApplicationError("请选择参会岗位") from exc
        services.booth_apply(actor=request.user, fair=fair, posting_ids=ids)
        messages.success(request, "展位申请已提交，请等待审核。")
        return redirect("fairs:hall", fair_id=fair.pk)
    return render(
        request,
        "fairs/apply.html",
        {
            "fair": fair,
            "postings": postings,
            "booth": selectors.booth_of_enterprise(viewer=request.user, fair=fair),
        },
    )


@require_GET
def queue(request: AuthedRequest, booth_id: int) -> HttpResponse:
    b = selectors.booth_get_for_enterprise(viewer=request.user, booth_id=booth_id)
    return render(
        request,
        "fairs/queue.html",
        {
            "booth": b,
            "state": selectors.enterprise_queue_state(booth=b),
            "candidates": selectors.invite_candidates(booth=b),
            "refusal": selectors.queue_open_refusal(booth=b, now=timezone.now()),
        },
    )


@require_POST
@redirect_on_error("fairs:queue", "booth_id")
def take_next(request: AuthedRequest, booth_id: int) -> HttpResponse:
    b = selectors.booth_get_for_enterprise(viewer=request.user, booth_id=booth_id)
    entry = services.queue_take_next(actor=request.user, booth=b)
    messages.success(
        request, f"已叫号：{selectors.student_name(entry.student)}，已为你们开设视频面试间"
    )
    return redirect("fairs:queue", booth_id=b.pk)


@require_POST
@redirect_on_error("fairs:queue", "booth_id")
def invite(request: AuthedRequest, booth_id: int) -> HttpResponse:
    b = selectors.booth_get_for_enterprise(viewer=request.user, booth_id=booth_id)
    try:
        student_id = int(request.POST.get("student", ""))
    except ValueError as exc:
        raise ApplicationError("请选择要邀请的学子") from exc
    student = User.objects.filter(pk=student_id).first()
    if student is None:
        raise ApplicationError("请选择要邀请的学子")
    services.queue_invite(actor=request.user, booth=b, student=student)
    messages.success(request, "已邀请，该学子排在队列最前。")
    return redirect("fairs:queue", booth_id=b.pk)


@require_POST
def finish(request: AuthedRequest, entry_id: int) -> HttpResponse:
    entry = selectors.entry_get_for_enterprise(viewer=request.user, entry_id=entry_id)
    redirect_on_error_to(request, reverse("fairs:queue", args=[entry.booth_id]))
    entry = services.queue_finish(
        actor=request.user, entry=entry, outcome=request.POST.get("outcome", "")
    )
    messages.success(
        request, "已标记为已面谈" if entry.state == QueueEntry.State.DONE else "已标记为未到场"
    )
    return redirect("fairs:queue", booth_id=entry.booth_id)


@require_GET
def manage(request: AuthedRequest, fair_id: int) -> HttpResponse:
    fair = selectors.fair_get_for_staff(viewer=request.user, fair_id=fair_id)
    return render(
        request,
        "fairs/manage.html",
        {
            "fair": fair,
            "booths": selectors.booths_for_staff(fair=fair),
            "figures": selectors.fair_figures(fair),
        },
    )


@require_POST
def decide(request: AuthedRequest, booth_id: int) -> HttpResponse:
    b = selectors.booth_get_for_viewer(viewer=request.user, booth_id=booth_id)
    redirect_on_error_to(request, reverse("fairs:manage", args=[b.fair_id]))
    decision = request.POST.get("decision", "")
    if decision not in ("approve", "reject"):
        raise ApplicationError("请选择通过或不通过")
    b = services.booth_decide(
        actor=request.user,
        booth=b,
        approve=decision == "approve",
        note=request.POST.get("note", ""),
    )
    messages.success(request, "展位已通过" if b.state == Booth.State.APPROVED else "已标记为不通过")
    return redirect("fairs:manage", fair_id=b.fair_id)
