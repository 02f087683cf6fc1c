"""Enterprise pages: public registration, the enterprise's own pages, and the HR bureau's
review of enterprises and internship bases. Thin: parse, select, call one service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qinghe.core.errorhandling import redirect_on_error
from qinghe.core.http import AuthedRequest

from . import selectors, services
from .forms import (
    BaseApplyForm,
    CertifyBaseForm,
    ColleagueForm,
    ProfileForm,
    ReasonForm,
    RegistrationForm,
    add_service_errors,
)
from .models import Enterprise, InternshipBase

BACKEND = "qinghe.accounts.backends.UsernameOrPhoneBackend"


def _enterprise(request: AuthedRequest, enterprise_id: int) -> Enterprise:
    return selectors.enterprise_get_for_viewer(viewer=request.user, enterprise_id=enterprise_id)


def _base(request: AuthedRequest, base_id: int) -> InternshipBase:
    return selectors.internship_base_get_for_viewer(viewer=request.user, base_id=base_id)


def _own_or_redirect(request: AuthedRequest) -> Enterprise | None:
    enterprise = selectors.enterprise_for_user(user=request.user)
    if enterprise is None:
        messages.warning(request, "您的账号尚未关联已登记的企业信息，请联系鹤山市人社局。")
    return enterprise


# --- registration (public) ---------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("core:dashboard")
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            enterprise = services.enterprise_register(
                uscc=data["uscc"],
                name=data["name"],
                profile=form.profile(),
                username=data["username"],
                display_name=data["display_name"],
                password=data["password"],
                phone=data.get("phone") or "",
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            user = selectors.enterprise_colleagues(enterprise=enterprise).first()
            login(request, user, backend=BACKEND)
            messages.success(request, "注册成功。人社局审核通过后，贵企业即可发布岗位。")
            return redirect("enterprises:mine")
    return render(request, "enterprises/register.html", {"form": form})


# --- the enterprise's own pages ----------------------------------------------------------------


@require_GET
def mine(request: AuthedRequest) -> HttpResponse:
    enterprise = selectors.enterprise_for_user(user=request.user)
    context: dict[str, Any] = {"enterprise": enterprise}
    if enterprise is not None:
        context.update(
            colleagues=selectors.enterprise_colleagues(enterprise=enterprise),
            events=selectors.enterprise_events(enterprise=enterprise)[:20],
            bases=selectors.internship_base_list(viewer=request.user),
        )
    return render(request, "enterprises/mine.html", context)


def _profile_initial(enterprise: Enterprise) -> dict[str, Any]:
    return {
        "industry": enterprise.industry.code,
        "town": enterprise.town_id,
        "park": enterprise.park,
        "size": enterprise.size,
        "address": enterprise.address,
        "description": enterprise.description,
        "contact_name": enterprise.contact_name,
        "contact_phone": enterprise.contact_phone,
    }


@require_http_methods(["GET", "POST"])
@redirect_on_error("enterprises:mine")
def edit(request: AuthedRequest) -> HttpResponse:
    enterprise = _own_or_redirect(request)
    if enterprise is None:
        return redirect("enterprises:mine")
    form = ProfileForm(request.POST or None, initial=_profile_initial(enterprise))
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.enterprise_update_profile(
                actor=request.user, enterprise=enterprise, profile=form.profile()
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "已保存。" if changed else "没有修改。")
            return redirect("enterprises:mine")
    return render(
        request, "enterprises/profile_edit.html", {"form": form, "enterprise": enterprise}
    )


@require_POST
@redirect_on_error("enterprises:mine")
def resubmit(request: AuthedRequest) -> HttpResponse:
    enterprise = _own_or_redirect(request)
    if enterprise is not None:
        services.enterprise_transition(actor=request.user, enterprise=enterprise, action="resubmit")
        messages.success(request, "已重新提交审核。")
    return redirect("enterprises:mine")


@require_http_methods(["GET", "POST"])
@redirect_on_error("enterprises:mine")
def colleague_add(request: AuthedRequest) -> HttpResponse:
    enterprise = _own_or_redirect(request)
    if enterprise is None:
        return redirect("enterprises:mine")
    form = ColleagueForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.colleague_add(
                actor=request.user,
                enterprise=enterprise,
                username=data["username"],
                display_name=data["display_name"],
                password=data["password"],
                phone=data.get("phone") or "",
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, f"已添加同事账号 {user.username}，请把初始密码告知本人并提醒其修改。"
            )
            return redirect("enterprises:mine")
    return render(
        request, "enterprises/colleague_form.html", {"form": form, "enterprise": enterprise}
    )


@require_http_methods(["GET", "POST"])
@redirect_on_error("enterprises:mine")
def base_apply(request: AuthedRequest) -> HttpResponse:
    enterprise = _own_or_redirect(request)
    if enterprise is None:
        return redirect("enterprises:mine")
    form = BaseApplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            base = services.internship_base_apply(
                actor=request.user,
                enterprise=enterprise,
                description=data["description"],
                capacity=data["capacity"],
                requested_from=data["requested_from"],
                requested_to=data["requested_to"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "已提交实习基地申请，等待人社局审核。")
            return redirect("enterprises:base_detail", base_id=base.pk)
    return render(request, "enterprises/base_apply.html", {"form": form, "enterprise": enterprise})


# --- HR bureau: enterprises --------------------------------------------------------------------


@require_GET
def review_list(request: AuthedRequest) -> HttpResponse:
    state = request.GET.get("state", Enterprise.State.PENDING)
    if state not in Enterprise.State.values and state != "all":
        state = Enterprise.State.PENDING
    enterprises = selectors.enterprise_list(
        viewer=request.user, state="" if state == "all" else state, q=request.GET.get("q", "")
    )
    page = Paginator(enterprises, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "enterprises/review_list.html",
        {
            "page": page,
            "state": state,
            "states": Enterprise.State.choices,
            "q": request.GET.get("q", ""),
        },
    )


@require_GET
def detail(request: AuthedRequest, enterprise_id: int) -> HttpResponse:
    enterprise = _enterprise(request, enterprise_id)
    return render(
        request,
        "enterprises/detail.html",
        {
            "enterprise": enterprise,
            "colleagues": selectors.enterprise_colleagues(enterprise=enterprise),
            "events": selectors.enterprise_events(enterprise=enterprise)[:50],
            "bases": enterprise.internship_bases.all(),
            "postings": enterprise.postings.order_by("-updated_at")[:20],
            "reason_form": ReasonForm(),
        },
    )


def _staff_move(request: AuthedRequest, enterprise_id: int, action: str) -> HttpResponse:
    enterprise = _enterprise(request, enterprise_id)
    services.enterprise_transition(
        actor=request.user,
        enterprise=enterprise,
        action=action,
        reason=request.POST.get("reason", ""),
    )
    messages.success(request, "已认证。" if action == "verify" else "已退回，企业将看到原因。")
    return redirect("enterprises:detail", enterprise_id=enterprise.pk)


@require_POST
@redirect_on_error("enterprises:detail", "enterprise_id")
def verify(request: AuthedRequest, enterprise_id: int) -> HttpResponse:
    return _staff_move(request, enterprise_id, "verify")


@require_POST
@redirect_on_error("enterprises:detail", "enterprise_id")
def reject(request: AuthedRequest, enterprise_id: int) -> HttpResponse:
    return _staff_move(request, enterprise_id, "reject")


@require_POST
@redirect_on_error("enterprises:detail", "enterprise_id")
def set_key(request: AuthedRequest, enterprise_id: int) -> HttpResponse:
    enterprise = _enterprise(request, enterprise_id)
    services.enterprise_set_key(
        actor=request.user,
        enterprise=enterprise,
        is_key=request.POST.get("is_key") == "1",
    )
    messages.success(request, "已更新重点企业标记。")
    return redirect("enterprises:detail", enterprise_id=enterprise.pk)


# --- HR bureau: internship bases ---------------------------------------------------------------


def _year(request: AuthedRequest) -> int:
    raw = request.GET.get("year", "")
    year = int(raw) if raw.isdigit() else timezone.localdate().year
    return year if 2000 <= year <= 2100 else timezone.localdate().year


@require_GET
def base_list(request: AuthedRequest) -> HttpResponse:
    from qinghe.plan.selectors import internship_base_counts

    state = request.GET.get("state", "")
    year = _year(request)
    bases = list(selectors.internship_base_list(viewer=request.user, state=state)[:200])
    return render(
        request,
        "enterprises/base_list.html",
        {
            "rows": internship_base_counts(bases=bases, year=year),
            "state": state,
            "states": InternshipBase.State.choices,
            "year": year,
            "certified": selectors.certified_bases_in_year(year=year)
            .values("enterprise_id")
            .distinct()
            .count(),
        },
    )


@require_GET
def base_detail(request: AuthedRequest, base_id: int) -> HttpResponse:
    from qinghe.plan.selectors import internship_base_counts

    base = _base(request, base_id)
    year = _year(request)
    today = timezone.localdate()
    return render(
        request,
        "enterprises/base_detail.html",
        {
            "base": base,
            "year": year,
            "count": internship_base_counts(bases=[base], year=year)[0],
            "events": base.events.select_related("actor"),
            "is_staff": selectors.is_enterprise_staff(request.user),
            "certify_form": CertifyBaseForm(
                initial={"valid_from": base.requested_from or today, "valid_to": base.requested_to}
            ),
        },
    )


def _base_move(request: AuthedRequest, base_id: int, action: str) -> HttpResponse:
    base = _base(request, base_id)
    form = CertifyBaseForm(request.POST) if action == "certify" else ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写有效期（日期）和意见。")
        return redirect("enterprises:base_detail", base_id=base.pk)
    data = form.cleaned_data
    services.internship_base_transition(
        actor=request.user,
        base=base,
        action=action,
        reason=data.get("reason", ""),
        valid_from=data.get("valid_from"),
        valid_to=data.get("valid_to"),
    )
    messages.success(
        request, {"certify": "已认定。", "reject": "已退回。", "revoke": "已撤销认定。"}[action]
    )
    return redirect("enterprises:base_detail", base_id=base.pk)


@require_POST
@redirect_on_error("enterprises:base_detail", "base_id")
def base_certify(request: AuthedRequest, base_id: int) -> HttpResponse:
    return _base_move(request, base_id, "certify")


@require_POST
@redirect_on_error("enterprises:base_detail", "base_id")
def base_reject(request: AuthedRequest, base_id: int) -> HttpResponse:
    return _base_move(request, base_id, "reject")


@require_POST
@redirect_on_error("enterprises:base_detail", "base_id")
def base_revoke(request: AuthedRequest, base_id: int) -> HttpResponse:
    return _base_move(request, base_id, "revoke")
