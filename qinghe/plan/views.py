"""The plan's targets page (every staff role reads it) and their editing (HR bureau)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qinghe.cards.selectors import card_counts
from qinghe.core import fragments
from qinghe.core.errorhandling import redirect_on_error, redirect_on_error_to
from qinghe.core.http import AuthedRequest
from qinghe.enterprises.forms import add_service_errors
from qinghe.policies.selectors import subsidy_figures
from qinghe.stations.selectors import service_counts

from . import board as board_module
from . import funnel as funnel_module
from . import precomputed, public, scoped, selectors, services
from .forms import YearTargetForm

# The plan's page (/jobs/targets/) counts at most this old (docs/SCALING.md, "Page caches").
PLAN_FIGURES_SECONDS = 60


def _year(request: AuthedRequest) -> int:
    raw = (request.GET.get("year") or request.POST.get("year") or "").strip()
    if not raw:
        return timezone.localdate().year
    if not raw.isdigit() or not 2000 <= int(raw) <= 2100:
        raise Http404("年度不正确")
    return int(raw)


def _year_figures(year: int) -> dict[str, Any]:
    target = selectors.year_target(year=year)
    return {
        "lines": selectors.year_progress(year=year, target=target),
        "target": target,
        "figures": selectors.gathering_figures(year=year),
        # measure 9: the 鹤才青年卡 and the talent stations
        "cards": card_counts(year=year),
        "services": service_counts(year=year),
        # measure 10: subsidy applications, approvals and payments
        "subsidies": subsidy_figures(year=year),
    }


@require_GET
def targets(request: AuthedRequest) -> HttpResponse:
    year = _year(request)
    today = timezone.localdate()
    # Counted from many tables whose writers do not announce themselves: kept per year at most
    # PLAN_FIGURES_SECONDS; a change of the year's targets (year_target_set) shows at once.
    figures = fragments.kept(
        "plan-targets",
        (fragments.PLAN_TARGETS,),
        (year, today),
        lambda: _year_figures(year),
        seconds=PLAN_FIGURES_SECONDS,
    )
    this_year = today.year
    return render(
        request,
        "plan/targets.html",
        {
            **figures,
            "year": year,
            "chart": selectors.year_progress_chart(figures["lines"]),
            "years": list(range(this_year + 1, this_year - 6, -1)),
            "can_edit": getattr(request.user, "role", None) in ("hr_staff", "sysadmin"),
            "can_see_board": getattr(request.user, "role", None) in services.REPORT_READERS,
        },
    )


@require_http_methods(["GET", "POST"])
def targets_edit(request: AuthedRequest) -> HttpResponse:
    year = _year(request)
    redirect_on_error_to(request, f"{reverse('plan:targets_edit')}?year={year}")
    target = selectors.year_target(year=year)
    initial: dict[str, Any] = {name: getattr(target, name) for name in services.TARGET_FIELDS}
    form = YearTargetForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.year_target_set(actor=request.user, year=year, values=form.values())
        except ValidationError as exc:  # on the form's fields
            add_service_errors(form, exc)
        else:
            messages.success(request, f"已保存 {year} 年度目标。")
            return redirect(f"{_targets_url()}?year={year}")
    return render(request, "plan/targets_edit.html", {"form": form, "year": year})


def _targets_url() -> str:
    return reverse("plan:targets")


@require_GET
def board(request: AuthedRequest) -> HttpResponse:
    """十个一 at a glance: every indicator against its goal, owner, source, trend, burn-down."""
    year = _year(request)
    this_year = timezone.localdate().year
    if year == this_year:
        # The live values precomputed by the schedule's refresh_plan_figures (one row).
        stored = precomputed.board_values(year)
        b = board_module.board(year=year, values=stored.data["values"], computed_at=stored.shown)
    else:
        b = board_module.board(year=year)
    return render(
        request,
        "plan/board.html",
        {
            "year": year,
            "board": b,
            "years": list(range(this_year + 1, this_year - 6, -1)),
            "burndown": board_module.burndown_chart(b),
            "burndown_table": board_module.burndown_table(b),
            "months": board_module.MONTHS,
            "cadence": precomputed.CADENCE_MINUTES,
        },
    )


@require_GET
def public_figures(request: HttpRequest) -> HttpResponse:
    """Open to everyone: aggregates only, small cells suppressed (qinghe.plan.public)."""
    return render(
        request,
        "plan/public.html",
        {
            "figures": public.public_figures(),
            "threshold": public.THRESHOLD,
            "cadence": precomputed.CADENCE_MINUTES,
        },
    )


def _chapter_param(request: AuthedRequest) -> int | None:
    raw = (request.GET.get("chapter") or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 9:
        raise Http404("分会不正确")
    return int(raw)


@require_GET
def mine(request: AuthedRequest) -> HttpResponse:
    """The scoped board: an ambassador's chapter, an enterprise's own figures
    (qinghe.plan.scoped); every figure links to its own rows."""
    year = _year(request)
    scope = scoped.scope_for_viewer(viewer=request.user, chapter_id=_chapter_param(request))
    this_year = timezone.localdate().year
    return render(
        request,
        "plan/mine.html",
        {
            "year": year,
            "scope": scope,
            "title": scoped.TITLES[scope.kind],
            "rows": scoped.scoped_figures(scope=scope, year=year),
            "years": list(range(this_year + 1, this_year - 6, -1)),
        },
    )


MINE_PAGE = 50


@require_GET
def mine_list(request: AuthedRequest, code: str) -> HttpResponse:
    """The rows behind one figure of the scoped board, in the viewer's scope only."""
    year = _year(request)
    scope = scoped.scope_for_viewer(viewer=request.user, chapter_id=_chapter_param(request))
    figure, rows = scoped.scoped_rows(scope=scope, code=code, year=year)
    page = scoped.page_of(figure, rows, request.GET.get("page"), MINE_PAGE)
    columns = scoped.columns_for(figure)
    return render(
        request,
        "plan/mine_list.html",
        {
            "year": year,
            "scope": scope,
            "title": scoped.TITLES[scope.kind],
            "figure": figure,
            "page": page,
            "columns": [c.label for c in columns],
            "cells": [[(c.label, c.value(row)) for c in columns] for row in page.object_list],
        },
    )


FUNNEL_TOP = funnel_module.TOP  # rows of a breakdown before the rest is summed as 其他


@require_GET
def funnel(request: AuthedRequest) -> HttpResponse:
    """The return funnel of Heshan natives and where the employed ones work."""
    # The latest cohort past its graduation summer by default: this year's are still 应届.
    year = _year(request) if request.GET.get("year") else timezone.localdate().year - 1
    by = request.GET.get("by") or "university"
    if by not in funnel_module.DIMENSIONS:
        raise Http404("分组方式不正确")
    # Precomputed by the schedule for last year's and this year's cohorts; another year's
    # figures are computed on its first request and kept (qinghe.plan.precomputed).
    stored = precomputed.funnel_figures(year)
    figures = funnel_module.funnel_page(stored.data, year=year)
    yoy, where = figures.yoy, figures.where
    this_year = timezone.localdate().year
    return render(
        request,
        "plan/funnel.html",
        {
            "year": year,
            "by": by,
            "by_label": funnel_module.DIMENSIONS[by],
            "dimensions": funnel_module.DIMENSIONS,
            "years": list(range(this_year + 1, this_year - 8, -1)),
            "yoy": yoy,
            "rows": figures.breakdowns[by],
            "computed_at": stored.shown,
            "cadence": precomputed.CADENCE_MINUTES,
            "where": where,
            "funnel_chart": funnel_module.funnel_chart(yoy.this),
            "cities_chart": funnel_module.bar_chart(where.cities, "人数"),
            "industries_chart": funnel_module.bar_chart(where.industries, "人数"),
            "talents_url": reverse("talents:list"),
        },
    )


@require_GET
def reports(request: AuthedRequest) -> HttpResponse:
    today = timezone.localdate()
    months = [today.replace(day=1)]
    for _ in range(11):
        months.append((months[-1] - dt.timedelta(days=1)).replace(day=1))
    return render(
        request,
        "plan/reports.html",
        {"reports": selectors.report_list(viewer=request.user), "months": months},
    )


@require_POST
@redirect_on_error("board:reports")
def report_generate(request: AuthedRequest) -> HttpResponse:
    raw = (request.POST.get("month") or "").strip()
    try:
        month = dt.datetime.strptime(raw, "%Y-%m").date()
    except ValueError:
        raise ValidationError({"month": "请选择报告月份"}) from None
    report = services.monthly_report_generate(month=month, actor=request.user)
    messages.success(request, f"已生成 {report.month:%Y 年 %m 月}月度报告（{report.pages} 页）。")
    return redirect("board:reports")


REPORT_TYPES = {
    "pdf": ("application/pdf", "pdf"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
}


@require_GET
def report_download(request: AuthedRequest, report_id: int, kind: str) -> HttpResponse:
    if kind not in REPORT_TYPES:
        raise Http404("文件类型不正确")
    report = selectors.report_get_for_viewer(viewer=request.user, report_id=report_id)
    data = services.monthly_report_download(actor=request.user, report=report, kind=kind)
    content_type, ext = REPORT_TYPES[kind]
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"青鹤归巢月度报告-{report.month:%Y-%m}.{ext}"
    )
    response["Cache-Control"] = "no-store, private, max-age=0"
    response["X-Content-Type-Options"] = "nosniff"
    return response
