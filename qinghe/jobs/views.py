"""Posting pages: the students' search, an enterprise's own postings, staff review and
certification. Thin: parse, select, call one service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qinghe.alliance.stories import stories_related
from qinghe.core import fragments
from qinghe.core.errorhandling import redirect_on_error
from qinghe.core.errors import ApplicationError, NotFound
from qinghe.core.http import AuthedRequest
from qinghe.core.pagination import CappedPaginator
from qinghe.enterprises.forms import add_service_errors, heshan_towns
from qinghe.enterprises.selectors import enterprise_for_user, is_enterprise_staff
from qinghe.recruitment.selectors import posting_applicant_counts
from qinghe.recruitment.views import apply_state
from qinghe.reference.models import Industry

from . import cards, selectors, services
from .forms import PostingForm, QualityForm, category_choices
from .models import MinLevel, Posting
from .services import FACT_LABELS
from .workflow import ENTERPRISE, QUALITY_CRITERIA, QUALITY_MIN_SALARY, STAFF, moves_from

PAGE_SIZE = 20
# The search counts and lists at most this many postings (the newest first); more matches ask
# for a filter. Counting every open posting on each page view was a scan of all of them.
SEARCH_CAP = 1000
# The filter form's options (towns, industries, major categories: reference data, changed by
# `load_reference`) are rendered once per choice of filters and kept this long per process.
FILTER_FORM_CACHE_SECONDS = 600
SALARY_STEPS = (3000, 4000, 5000, 6000, 8000, 10000, 15000)


def _industry_options() -> list[tuple[str, list[tuple[str, str]]]]:
    groups: dict[str, tuple[str, list[tuple[str, str]]]] = {}
    for row in (
        Industry.objects.select_related("parent")
        .order_by("position")
        .only("code", "name", "level", "parent__code", "parent__name")
    ):
        if row.level == Industry.Level.SECTION:
            groups[row.code] = (
                f"{row.code} {row.name}",
                [(row.code, f"{row.code} 全部（{row.name}）")],
            )
        elif row.parent is not None and row.parent.code in groups:
            groups[row.parent.code][1].append((row.code, f"{row.code} {row.name}"))
    return list(groups.values())


def _facts(posting: Posting) -> list[tuple[str, str]]:
    return [(label, getattr(posting, name)) for name, label in FACT_LABELS.items()]


# --- students' search (any signed-in user) -----------------------------------------------------


@require_GET
def search(request: AuthedRequest) -> HttpResponse:
    filters = selectors.PostingFilter.from_query(request.GET)
    postings = selectors.posting_search(viewer=request.user, filters=filters).only(
        *selectors.posting_card_fields()
    )
    paginator = CappedPaginator(postings, PAGE_SIZE, cap=SEARCH_CAP)
    asked = request.GET.get("page")

    def draw() -> tuple[int, list[cards.Card], int]:
        found = paginator.get_page(asked)
        return found.number, cards.card_parts(found.object_list), paginator.bounded_count

    # A query's page of cards (drawn without the viewer's 收藏 forms) and how many postings
    # match, kept per query, filters and page (core/fragments.py; the same for every
    # viewer): new whenever any posting or enterprise changes (jobs/signals.py), and each
    # day (closing dates). The 收藏 forms are this viewer's, added for each request.
    number, kept, bounded = fragments.kept(
        "job-search-cards",
        (fragments.POSTINGS,),
        (filters, asked, timezone.localdate(), PAGE_SIZE, SEARCH_CAP, translation.get_language()),
        draw,
    )
    paginator.bounded_count = bounded
    page = Page(kept, number, paginator)
    ids = [card.pk for card in kept]
    return render(
        request,
        "jobs/search.html",
        {
            "page": page,
            "filters": filters,
            "favourites": selectors.favourite_ids(viewer=request.user, posting_ids=ids),
            "can_favourite": getattr(request.user, "role", None) in ("student", "ambassador"),
            "kinds": Posting.Kind.choices,
            "levels": [c for c in MinLevel.choices if c[0]],
            # read only when the filter form's cached fragment is missing (search.html)
            "towns": heshan_towns,
            "industries": _industry_options,
            "categories": category_choices,
            "filter_cache_seconds": FILTER_FORM_CACHE_SECONDS,
            "salaries": SALARY_STEPS,
            "my_major": selectors.viewer_major_code(viewer=request.user),
        },
    )


def _page_part(viewer: Any, posting_id: int) -> dict[str, Any] | None:
    """What a posting's page shows the same to every viewer, drawn: its status, description,
    facts, summary and related stories (None: no such public posting)."""
    try:
        posting = selectors.posting_get_for_viewer(viewer=viewer, posting_id=posting_id)
    except NotFound:
        return None
    context = {
        "posting": posting,
        "facts": _facts(posting),
        "majors": posting.required_majors.order_by("code"),
        "categories": posting.required_categories.order_by("code"),
        "open": posting.accepts_applications(),
        "stories": stories_related(
            industry_ids=[posting.enterprise.industry_id] if posting.enterprise.industry_id else [],
            town_ids=[posting.town_id] if posting.town_id else [],
        ),
    }
    return {
        "posting": {
            "pk": posting.pk,
            "title": posting.title,
            "enterprise": {"name": posting.enterprise.name},
        },
        "open": context["open"],
        "status": mark_safe(render_to_string("jobs/_detail_status.html", context)),  # noqa: S308
        "main": mark_safe(render_to_string("jobs/_detail_main.html", context)),  # noqa: S308
        "side": mark_safe(render_to_string("jobs/_detail_side.html", context)),  # noqa: S308
    }


@require_GET
def detail(request: AuthedRequest, posting_id: int) -> HttpResponse:
    if not getattr(request.user, "is_authenticated", False):
        raise NotFound()
    # The part every viewer sees alike, kept per posting and day (core/fragments.py: closing
    # dates): new whenever any posting or enterprise changes (its state, text, required
    # majors: jobs/signals.py) or any story does (alliance/signals.py). What is this
    # viewer's — 收藏, the application and its stage — is read for each request.
    part = fragments.kept(
        "posting-page",
        (fragments.POSTINGS, fragments.STORIES),
        (posting_id, timezone.localdate(), translation.get_language()),
        lambda: _page_part(request.user, posting_id),
    )
    if part is None:
        raise NotFound()
    return render(
        request,
        "jobs/detail.html",
        {
            "part": part,
            "posting": part["posting"],
            "open": part["open"],
            "is_favourite": bool(
                selectors.favourite_ids(viewer=request.user, posting_ids=[posting_id])
            ),
            "can_favourite": getattr(request.user, "role", None) in ("student", "ambassador"),
            **apply_state(request, posting_id),
        },
    )


@require_POST
def favourite_toggle(request: AuthedRequest, posting_id: int) -> HttpResponse:
    posting = selectors.posting_get_for_viewer(viewer=request.user, posting_id=posting_id)
    saved = services.favourite_toggle(user=request.user, posting=posting)
    messages.success(request, "已收藏。" if saved else "已取消收藏。")
    target = request.POST.get("next", "")
    if target.startswith("/jobs/") and "//" not in target:
        return redirect(target)
    return redirect("jobs:detail", posting_id=posting.pk)


@require_GET
def favourites(request: AuthedRequest) -> HttpResponse:
    postings = selectors.favourite_postings(viewer=request.user)
    page = Paginator(postings, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "jobs/favourites.html",
        {
            "page": page,
            "today": timezone.localdate(),
            "favourites": {p.pk for p in page.object_list},
        },
    )


# --- an enterprise's own postings --------------------------------------------------------------


def _own(request: AuthedRequest, posting_id: int) -> Posting:
    return selectors.own_posting_get(viewer=request.user, posting_id=posting_id)


@require_GET
def my_list(request: AuthedRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    show = request.GET.get("show", "")
    show = show if show in selectors.OWN_POSTING_SHOW_LABELS else ""
    # the list's columns only (no enterprise, town or texts)
    postings = (
        selectors.own_postings(viewer=request.user, state=state, show=show)
        .select_related(None)
        .only("id", "title", "is_quality", "kind", "state", "closing_date", "updated_at")
    )
    page = Paginator(postings, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "jobs/my_list.html",
        {
            "page": page,
            "state": state,
            "filter_note": selectors.OWN_POSTING_SHOW_LABELS.get(show, ""),
            "states": Posting.State.choices,
            "enterprise": enterprise_for_user(user=request.user),
            "today": timezone.localdate(),
        },
    )


@require_http_methods(["GET", "POST"])
def create(request: AuthedRequest) -> HttpResponse:
    enterprise = enterprise_for_user(user=request.user)
    if enterprise is None:
        messages.warning(request, "您的账号尚未关联已登记的企业信息。")
        return redirect("enterprises:mine")
    form = PostingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            posting = services.posting_create(
                actor=request.user, enterprise=enterprise, data=form.posting_data()
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "已保存为草稿。填写完整后可提交人社局审核。")
            return redirect("jobs:my_detail", posting_id=posting.pk)
    return render(request, "jobs/posting_form.html", {"form": form, "enterprise": enterprise})


@require_GET
def my_detail(request: AuthedRequest, posting_id: int) -> HttpResponse:
    posting = _own(request, posting_id)
    today = timezone.localdate()
    return render(
        request,
        "jobs/my_detail.html",
        {
            "posting": posting,
            "facts": _facts(posting),
            "majors": posting.required_majors.order_by("code"),
            "categories": posting.required_categories.order_by("code"),
            "events": selectors.posting_events(posting=posting),
            "moves": moves_from(posting.state, by=ENTERPRISE),
            "problems": services.publishing_problems(posting, today=today)
            if posting.state == Posting.State.DRAFT
            else {},
            "open": posting.accepts_applications(today=today),
            "applicant_count": posting_applicant_counts(viewer=request.user).get(posting.pk, 0),
        },
    )


@require_http_methods(["GET", "POST"])
@redirect_on_error("jobs:my_detail", "posting_id")
def edit(request: AuthedRequest, posting_id: int) -> HttpResponse:
    posting = _own(request, posting_id)
    if posting.state != Posting.State.DRAFT:
        messages.error(
            request, "只有草稿可以修改：待审核的岗位请先撤回，已发布的岗位请先“撤下修改”。"
        )
        return redirect("jobs:my_detail", posting_id=posting.pk)
    form = PostingForm(request.POST or None, initial=PostingForm.initial_for(posting))
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.posting_update(
                actor=request.user, posting=posting, data=form.posting_data()
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "已保存。" if changed else "没有修改。")
            return redirect("jobs:my_detail", posting_id=posting.pk)
    return render(
        request,
        "jobs/posting_form.html",
        {"form": form, "posting": posting, "enterprise": posting.enterprise},
    )


def _move(
    request: AuthedRequest, posting: Posting, action: str, done: str, back: str
) -> HttpResponse:
    services.posting_transition(
        actor=request.user,
        posting=posting,
        action=action,
        note=request.POST.get("note", ""),
    )
    messages.success(request, done)
    return redirect(back, posting_id=posting.pk)


@require_POST
@redirect_on_error("jobs:my_detail", "posting_id")
def submit(request: AuthedRequest, posting_id: int) -> HttpResponse:
    return _move(
        request, _own(request, posting_id), "submit", "已提交人社局审核。", "jobs:my_detail"
    )


@require_POST
@redirect_on_error("jobs:my_detail", "posting_id")
def withdraw(request: AuthedRequest, posting_id: int) -> HttpResponse:
    return _move(request, _own(request, posting_id), "withdraw", "已撤回为草稿。", "jobs:my_detail")


@require_POST
@redirect_on_error("jobs:my_detail", "posting_id")
def revise(request: AuthedRequest, posting_id: int) -> HttpResponse:
    return _move(
        request,
        _own(request, posting_id),
        "revise",
        "岗位已撤下为草稿：学生暂时看不到它，已收到的投递保留；修改后请重新提交审核。",
        "jobs:my_detail",
    )


@require_POST
@redirect_on_error("jobs:my_detail", "posting_id")
def close(request: AuthedRequest, posting_id: int) -> HttpResponse:
    return _move(request, _own(request, posting_id), "close", "岗位已关闭。", "jobs:my_detail")


# --- staff --------------------------------------------------------------------------------------


def _staff(request: AuthedRequest, posting_id: int) -> Posting:
    return selectors.staff_posting_get(viewer=request.user, posting_id=posting_id)


@require_GET
def staff_list(request: AuthedRequest) -> HttpResponse:
    filters = selectors.StaffPostingFilter.from_query(request.GET)
    postings = selectors.staff_postings(viewer=request.user, filters=filters)
    page = Paginator(postings, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "jobs/staff_list.html",
        {
            "page": page,
            "filters": filters,
            "states": Posting.State.choices,
            "kinds": Posting.Kind.choices,
            "towns": heshan_towns(),
            "today": timezone.localdate(),
        },
    )


@require_GET
def staff_detail(request: AuthedRequest, posting_id: int) -> HttpResponse:
    posting = _staff(request, posting_id)
    can_act = is_enterprise_staff(request.user)
    return render(
        request,
        "jobs/staff_detail.html",
        {
            "posting": posting,
            "facts": _facts(posting),
            "majors": posting.required_majors.order_by("code"),
            "categories": posting.required_categories.order_by("code"),
            "events": selectors.posting_events(posting=posting),
            "moves": moves_from(posting.state, by=STAFF) if can_act else [],
            "can_act": can_act,
            "criteria": QUALITY_CRITERIA,
            "min_salary": QUALITY_MIN_SALARY,
            "quality_form": QualityForm(),
            "unmet": services.quality_problems(posting, [c.code for c in QUALITY_CRITERIA]),
            "today": timezone.localdate(),
        },
    )


@require_POST
@redirect_on_error("jobs:staff_detail", "posting_id")
def approve(request: AuthedRequest, posting_id: int) -> HttpResponse:
    return _move(request, _staff(request, posting_id), "approve", "已发布。", "jobs:staff_detail")


@require_POST
@redirect_on_error("jobs:staff_detail", "posting_id")
def reject(request: AuthedRequest, posting_id: int) -> HttpResponse:
    return _move(
        request, _staff(request, posting_id), "reject", "已退回企业修改。", "jobs:staff_detail"
    )


@require_POST
@redirect_on_error("jobs:staff_detail", "posting_id")
def staff_close(request: AuthedRequest, posting_id: int) -> HttpResponse:
    return _move(request, _staff(request, posting_id), "close", "岗位已关闭。", "jobs:staff_detail")


@require_POST
@redirect_on_error("jobs:staff_detail", "posting_id")
def certify(request: AuthedRequest, posting_id: int) -> HttpResponse:
    posting = _staff(request, posting_id)
    form = QualityForm(request.POST)
    criteria = form.cleaned_data["criteria"] if form.is_valid() else []
    note = form.cleaned_data.get("note", "") if form.is_valid() else ""
    services.posting_certify_quality(
        actor=request.user, posting=posting, criteria=criteria, note=note
    )
    messages.success(request, "已认定为优质岗位。")
    return redirect("jobs:staff_detail", posting_id=posting.pk)


@require_POST
@redirect_on_error("jobs:staff_detail", "posting_id")
def revoke_quality(request: AuthedRequest, posting_id: int) -> HttpResponse:
    posting = _staff(request, posting_id)
    services.posting_revoke_quality(
        actor=request.user,
        posting=posting,
        reason=request.POST.get("reason", ""),
    )
    messages.success(request, "已撤销优质岗位认定。")
    return redirect("jobs:staff_detail", posting_id=posting.pk)
