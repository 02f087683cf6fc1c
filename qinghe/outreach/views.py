"""Liaison, consultation and campaign pages. Thin: parse, select, call one service, render."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qinghe.accounts.models import User
from qinghe.core.errorhandling import redirect_on_error
from qinghe.core.errors import ApplicationError, NotFound, validation_message
from qinghe.core.http import AuthedRequest
from qinghe.core.roles import Role
from qinghe.notifications.models import Channel
from qinghe.notifications.selectors import delivery_figures
from qinghe.talents.selectors import segment_get_for_viewer, segment_list, talent_for_student

from . import selectors, services
from .models import AssignmentRule, Campaign, Consultation, ContactLog, LiaisonAssignment


def _refused(request: AuthedRequest, exc: ValidationError | ApplicationError) -> None:
    """For the pages that show a refusal on the re-rendered form, not by redirecting."""
    if isinstance(exc, NotFound):
        raise exc
    messages.error(
        request, exc.message if isinstance(exc, ApplicationError) else validation_message(exc)
    )


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@require_GET
def workspace(request: AuthedRequest) -> HttpResponse:
    ws = selectors.workspace(liaison=request.user)
    show = request.GET.get("show", "")
    show = show if show in selectors.WORKSPACE_SHOW_LABELS else ""
    return render(
        request,
        "outreach/workspace.html",
        {
            "ws": ws,
            "today": timezone.localdate(),
            "show": show,
            "shown": selectors.workspace_rows(ws, show),
            "filter_note": selectors.WORKSPACE_SHOW_LABELS.get(show, ""),
        },
    )


@require_http_methods(["GET", "POST"])
def contact_log(request: AuthedRequest, talent_id: int) -> HttpResponse:
    talent = selectors.liaison_talent_get(liaison=request.user, talent_id=talent_id)
    if request.method == "POST":
        p = request.POST
        # A refused record re-renders this page (form handling), rather than redirecting.
        try:
            services.contact_log_record(
                liaison=request.user,
                talent_id=talent.pk,
                channel=p.get("channel", ""),
                outcome=p.get("outcome", ""),
                notes=p.get("notes", ""),
                next_follow_up=_date(p.get("next_follow_up", "")),
                updates={"wechat": p.get("wechat", ""), "email": p.get("email", "")},
            )
        except (ValidationError, ApplicationError) as exc:
            _refused(request, exc)
        else:
            messages.success(request, "联络记录已保存")
            return redirect("outreach:workspace")
    return render(
        request,
        "outreach/contact_log.html",
        {
            "talent": talent,
            "logs": ContactLog.objects.filter(talent=talent).select_related("liaison")[:20],
            "channels": ContactLog.Channel.choices,
            "outcomes": ContactLog.Outcome.choices,
        },
    )


@require_http_methods(["GET", "POST"])
@redirect_on_error("outreach:assignments")
def assignments(request: AuthedRequest) -> HttpResponse:
    if request.method == "POST":
        p = request.POST
        action = p.get("action")
        if action == "rule":
            ids = [int(i) for i in p.getlist("liaisons") if i.isdigit()]
            services.assignment_rule_add(
                kind=p.get("kind", ""),
                value=p.get("value", ""),
                liaison_ids=ids,
                actor=request.user,
            )
            messages.success(request, "规则已添加")
        elif action == "apply":
            services.assignments_apply_rules(actor=request.user)
            messages.success(request, "已按规则分配")
        elif action == "reassign":
            src, dst = p.get("from", ""), p.get("to", "")
            services.assignments_bulk_reassign(
                from_id=int(src) if src.isdigit() else 0,
                to_id=int(dst) if dst.isdigit() else 0,
                actor=request.user,
                reason=p.get("reason", ""),
            )
            messages.success(request, "已批量调整")
        return redirect("outreach:assignments")
    from django.db.models import Count, Q

    liaisons = (
        User.objects.filter(role=Role.LIAISON)
        .annotate(load=Count("liaison_assignments", filter=Q(liaison_assignments__active=True)))
        .order_by("username")
    )
    return render(
        request,
        "outreach/assignments.html",
        {
            "liaisons": liaisons,
            "rules": AssignmentRule.objects.prefetch_related("liaisons"),
            "kinds": AssignmentRule.Kind.choices,
            "history": LiaisonAssignment.objects.select_related("talent", "liaison").order_by(
                "-assigned_at", "-id"
            )[:30],
        },
    )


@require_GET
def figures(request: AuthedRequest) -> HttpResponse:
    today = timezone.localdate()
    end = _date(request.GET.get("end", "")) or today
    start = _date(request.GET.get("start", "")) or end - dt.timedelta(days=90)
    return render(
        request,
        "outreach/figures.html",
        {"fig": selectors.contact_rate(start=start, end=end), "start": start, "end": end},
    )


@require_http_methods(["GET", "POST"])
def my_consultations(request: AuthedRequest) -> HttpResponse:
    if request.method == "POST":
        p = request.POST
        try:
            services.consultation_order(
                student=request.user, topic=p.get("topic", ""), question=p.get("question", "")
            )
        except (ValidationError, ApplicationError) as exc:
            _refused(request, exc)
        else:
            messages.success(request, "咨询已提交")
            return redirect("outreach:my_consultations")
    return render(
        request,
        "outreach/my_consultations.html",
        {
            "items": Consultation.objects.filter(student=request.user),
            "topics": Consultation.Topic.choices,
            "has_record": talent_for_student(user=request.user) is not None,
        },
    )


@require_POST
@redirect_on_error("outreach:my_consultations")
def consultation_rate(request: AuthedRequest, consultation_id: int) -> HttpResponse:
    p = request.POST
    rating = p.get("rating", "")
    services.consultation_rate(
        student=request.user,
        consultation_id=consultation_id,
        rating=int(rating) if rating.isdigit() else 0,
        comment=p.get("comment", ""),
    )
    messages.success(request, "感谢你的评价")
    return redirect("outreach:my_consultations")


@require_GET
def consultations(request: AuthedRequest) -> HttpResponse:
    show = request.GET.get("show", "")
    show = show if show in selectors.CONSULTATION_SHOW_LABELS else ""
    return render(
        request,
        "outreach/consultations.html",
        {
            "items": selectors.consultations_for_staff(viewer=request.user, show=show)[:200],
            "filter_note": selectors.CONSULTATION_SHOW_LABELS.get(show, ""),
        },
    )


@require_POST
@redirect_on_error("outreach:consultations")
def consultation_answer(request: AuthedRequest, consultation_id: int) -> HttpResponse:
    services.consultation_answer(
        viewer=request.user,
        consultation_id=consultation_id,
        answer=request.POST.get("answer", ""),
    )
    messages.success(request, "答复已发送")
    return redirect("outreach:consultations")


@require_http_methods(["GET", "POST"])
@redirect_on_error("outreach:campaigns")
def campaigns(request: AuthedRequest) -> HttpResponse:
    if request.method == "POST":
        p = request.POST
        segment_id = p.get("segment", "")
        try:
            segment = segment_get_for_viewer(
                viewer=request.user, segment_id=int(segment_id) if segment_id.isdigit() else 0
            )
        except NotFound:
            raise ApplicationError("请选择自己的人群分组") from None
        campaign = services.campaign_create(
            actor=request.user,
            segment=segment,
            kind=p.get("kind", ""),
            title=p.get("title", ""),
            body=p.get("body", ""),
            channels=p.getlist("channels"),
        )
        messages.success(request, "推送已创建，请预览后发送")
        return redirect("outreach:campaign_detail", campaign_id=campaign.pk)
    items = list(selectors.campaign_list(viewer=request.user)[:100])
    figs = delivery_figures(campaign_ids=[c.pk for c in items])
    return render(
        request,
        "outreach/campaigns.html",
        {
            "items": [
                (c, figs[c.pk], selectors.campaign_progress(campaign=c, figures=figs[c.pk]))
                for c in items
            ],
            "segments": segment_list(viewer=request.user),
            "kinds": Campaign.Kind.choices,
            "channels": Channel.choices,
        },
    )


def _campaign(request: AuthedRequest, campaign_id: int) -> Campaign:
    return selectors.campaign_get_for_viewer(viewer=request.user, campaign_id=campaign_id)


@require_GET
def campaign_detail(request: AuthedRequest, campaign_id: int) -> HttpResponse:
    c = _campaign(request, campaign_id)
    fig = delivery_figures(campaign_ids=[c.pk])[c.pk]
    return render(
        request,
        "outreach/campaign_detail.html",
        {
            "c": c,
            "progress": selectors.campaign_progress(campaign=c, figures=fig),
            "preview": services.campaign_preview(campaign=c)
            if c.state == Campaign.State.DRAFT
            else None,
            "fig": fig,
            "unsubscribed": c.messages.filter(user__unsubscriptions__isnull=False)
            .values("user")
            .distinct()
            .count(),
        },
    )


@require_POST
@redirect_on_error("outreach:campaign_detail", "campaign_id")
def campaign_send(request: AuthedRequest, campaign_id: int) -> HttpResponse:
    c = _campaign(request, campaign_id)
    when = None
    raw = request.POST.get("when", "")
    if raw:
        try:
            when = timezone.make_aware(dt.datetime.fromisoformat(raw))
        except ValueError:
            messages.error(request, "发送时间格式有误")
            return redirect("outreach:campaign_detail", campaign_id=c.pk)
    services.campaign_send(actor=request.user, campaign=c, when=when)
    messages.success(request, "已排期" if when else "已开始发送")
    return redirect("outreach:campaign_detail", campaign_id=c.pk)
