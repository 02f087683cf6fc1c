"""Matching pages: the student's 为你推荐 and preferences, an enterprise's 推荐人才 and
invitations, and the staff's occupation tags, majors' occupations, skills-gap analysis and
fairness report. Thin: parse, select, call one service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qinghe.core import fragments
from qinghe.core.errorhandling import redirect_on_error
from qinghe.core.http import AuthedRequest
from qinghe.enterprises.forms import add_service_errors
from qinghe.jobs.models import Posting
from qinghe.talents.resume import resume_open_for_invitation, resume_response
from qinghe.talents.selectors import talent_for_student

from . import fairness as fair
from . import scoring, selectors, services
from .forms import PreferencesForm
from .models import Invitation, MatchingProfile
from .tasks import refresh_talent

PAGE_SIZE = 20


# --- the student -----------------------------------------------------------------------------


@require_GET
def for_me(request: AuthedRequest) -> HttpResponse:
    new_only = request.GET.get("show") == "new"
    view = selectors.student_recommendations(user=request.user, new_only=new_only, lists=False)
    if view.state == "ok" and not view.computed and view.talent is not None:
        # First visit after consenting: compute in the background (immediately in tests).
        refresh_talent.enqueue(view.talent.pk)
        view = selectors.student_recommendations(user=request.user, new_only=new_only, lists=False)
    lists = ""
    if view.state == "ok" and view.talent is not None:

        def draw() -> str:
            selectors.recommendation_lists(view, new_only=new_only)
            return render_to_string(
                "matching/_for_me_lists.html",
                {"view": view, "cap": scoring.NATIVE_BOOST_CAP},
            )

        if new_only:  # "published in the last 7 days" moves with the clock: drawn each time
            lists = draw()
        else:
            # The lists, kept per talent (core/fragments.py): new when any posting or
            # enterprise changes, when many talents' lists are written again, or this one's.
            talent_id = view.talent.pk
            lists = fragments.kept(
                "for-me",
                (
                    fragments.POSTINGS,
                    fragments.RECOMMENDATIONS,
                    fragments.talent_recommendations(talent_id),
                ),
                (talent_id, timezone.localdate(), view.computed_at, translation.get_language()),
                draw,
            )
    return render(
        request,
        "matching/for_me.html",
        {
            "view": view,
            "lists": mark_safe(lists),  # noqa: S308 - drawn by the template above
            "filter_note": f"近 {selectors.NEW_RECOMMENDATION_DAYS} 天发布的岗位"
            if new_only
            else "",
            "weights": services.weights_from_settings(),
        },
    )


@require_http_methods(["GET", "POST"])
def preferences(request: AuthedRequest) -> HttpResponse:
    talent = talent_for_student(user=request.user)
    if talent is None:
        messages.info(request, "请先认领你的人才档案，再设置匹配偏好。")
        return redirect("matching:for_me")
    profile = MatchingProfile.objects.filter(talent=talent).first()
    initial: dict[str, Any] = {}
    if profile is not None:
        initial = {
            "towns": list(profile.preferred_towns.all()),
            "industries": list(profile.preferred_industries.all()),
            "expected_salary": profile.expected_salary,
            "skills": profile.skills,
        }
    form = PreferencesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.matching_profile_update(
                talent=talent,
                user=request.user,
                towns=list(form.cleaned_data["towns"]),
                industries=list(form.cleaned_data["industries"]),
                expected_salary=form.cleaned_data["expected_salary"],
                skills=form.cleaned_data["skills"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "已保存匹配偏好，推荐已按新偏好更新。")
            return redirect("matching:for_me")
    return render(request, "matching/preferences.html", {"form": form})


@require_GET
def invitation_resume(request: AuthedRequest, invitation_id: int) -> HttpResponse:
    """The résumé of a student who accepted this enterprise's invitation (audited)."""
    return resume_response(
        resume_open_for_invitation(viewer=request.user, invitation_id=invitation_id)
    )


@require_POST
@redirect_on_error("matching:for_me")
def invitation_respond(request: AuthedRequest, invitation_id: int) -> HttpResponse:
    talent = talent_for_student(user=request.user)
    if talent is None:
        raise Http404()
    accept = request.POST.get("accept") == "1"
    services.invitation_respond(
        user=request.user,
        talent=talent,
        invitation_id=invitation_id,
        accept=accept,
    )
    messages.success(
        request, "已接受邀请，企业现在可以看到你的姓名与教育经历。" if accept else "已婉拒邀请。"
    )
    return redirect("matching:for_me")


# --- the enterprise ---------------------------------------------------------------------------


@require_GET
def ent_postings(request: AuthedRequest) -> HttpResponse:
    page = Paginator(selectors.enterprise_postings(viewer=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "matching/ent_postings.html", {"page": page})


def _own_posting(request: AuthedRequest, posting_id: int) -> Posting:
    return selectors.enterprise_posting_get_for_viewer(viewer=request.user, posting_id=posting_id)


@require_GET
def candidates(request: AuthedRequest, posting_id: int) -> HttpResponse:
    posting = _own_posting(request, posting_id)
    rows = selectors.posting_candidates(posting=posting)
    return render(
        request,
        "matching/candidates.html",
        {
            "posting": posting,
            "rows": rows,
            "open": posting.accepts_applications(),
            "cap": scoring.NATIVE_BOOST_CAP,
        },
    )


@require_POST
@redirect_on_error("matching:candidates", "posting_id")
def invite(request: AuthedRequest, posting_id: int, talent_id: int) -> HttpResponse:
    posting = _own_posting(request, posting_id)
    services.invitation_send(
        actor=request.user,
        posting=posting,
        talent_id=talent_id,
        message=request.POST.get("message", ""),
    )
    messages.success(request, "已发出邀请；对方接受后，你将看到其姓名与教育经历。")
    return redirect("matching:candidates", posting_id=posting.pk)


# --- staff: occupation tags of postings ---------------------------------------------------------


@require_GET
def tags(request: AuthedRequest) -> HttpResponse:
    q = request.GET.get("q", "")
    corrected = request.GET.get("corrected", "")
    page = Paginator(
        selectors.tag_postings(viewer=request.user, q=q, corrected=corrected), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    in_force = selectors.tags_for([p.pk for p in page.object_list])
    return render(
        request,
        "matching/tags.html",
        {
            "page": page,
            "rows": [(p, in_force.get(p.pk, [])) for p in page.object_list],
            "q": q,
            "corrected": corrected,
        },
    )


@require_GET
def occupation_review(request: AuthedRequest) -> HttpResponse:
    """Postings the classifier was not sure of, with its candidates to pick from."""
    page = Paginator(selectors.occupation_review_postings(viewer=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    candidates = selectors.review_candidates([p.pk for p in page.object_list])
    return render(
        request,
        "matching/occupation_review.html",
        {"page": page, "rows": [(p, candidates[p.pk]) for p in page.object_list]},
    )


@require_POST
@redirect_on_error("matching:occupation_review")
def occupation_review_pick(request: AuthedRequest, posting_id: int) -> HttpResponse:
    posting = selectors.occupation_review_get_for_viewer(viewer=request.user, posting_id=posting_id)
    tag = services.posting_occupation_correct(
        actor=request.user, posting=posting, code=request.POST.get("code", ""), reviewed=True
    )
    messages.success(request, f"已确认“{posting.title}”为 {tag.occupation.name}，推荐将按此更新。")
    return redirect("matching:occupation_review")


def _tag_posting(request: AuthedRequest, posting_id: int) -> Posting:
    return selectors.tag_posting_get_for_viewer(viewer=request.user, posting_id=posting_id)


@require_GET
def posting_tags(request: AuthedRequest, posting_id: int) -> HttpResponse:
    posting = _tag_posting(request, posting_id)
    q = request.GET.get("q", "")
    return render(
        request,
        "matching/posting_tags.html",
        {
            "posting": posting,
            "detail": selectors.posting_tag_detail(posting=posting),
            "q": q,
            "found": selectors.occupation_search(q=q),
        },
    )


@require_POST
@redirect_on_error("matching:posting_tags", "posting_id")
def posting_tags_edit(request: AuthedRequest, posting_id: int) -> HttpResponse:
    posting = _tag_posting(request, posting_id)
    action = request.POST.get("action", "")
    if action == "add":
        services.posting_occupation_correct(
            actor=request.user,
            posting=posting,
            code=request.POST.get("code", ""),
        )
        messages.success(request, "已校正岗位职业，推荐将按校正结果更新。")
    elif action == "remove":
        tag_id = request.POST.get("tag", "")
        if not tag_id.isdigit():
            raise Http404()
        services.posting_occupation_remove(actor=request.user, posting=posting, tag_id=int(tag_id))
        messages.success(request, "已撤销该校正。")
    elif action == "reclassify":
        services.postings_classify(posting_ids=[posting.pk])
        messages.success(request, "已重新自动标注（人工校正保留）。")
    else:
        messages.error(request, "未知的操作")
    return redirect("matching:posting_tags", posting_id=posting.pk)


# --- staff: majors to occupations ------------------------------------------------------------------


@require_GET
def majors(request: AuthedRequest) -> HttpResponse:
    return render(
        request, "matching/majors.html", {"rows": selectors.major_categories(viewer=request.user)}
    )


def _category(request: AuthedRequest, category_id: int) -> Any:
    return selectors.major_category_get_for_viewer(viewer=request.user, category_id=category_id)


@require_GET
def major_detail(request: AuthedRequest, category_id: int) -> HttpResponse:
    category = _category(request, category_id)
    q = request.GET.get("q", "")
    return render(
        request,
        "matching/major_detail.html",
        {
            "category": category,
            "links": selectors.category_links(category=category),
            "q": q,
            "found": selectors.occupation_search(q=q),
        },
    )


@require_POST
@redirect_on_error("matching:major_detail", "category_id")
def major_edit(request: AuthedRequest, category_id: int) -> HttpResponse:
    category = _category(request, category_id)
    action = request.POST.get("action", "")
    link = request.POST.get("link", "")
    if action == "add":
        services.major_occupation_add(
            actor=request.user,
            category=category,
            code=request.POST.get("code", ""),
        )
        messages.success(request, "已加入。")
    elif action in {"remove", "up", "down"} and link.isdigit():
        if action == "remove":
            services.major_occupation_remove(
                actor=request.user, category=category, link_id=int(link)
            )
            messages.success(request, "已移除（重新推导时不会再加入）。")
        else:
            services.major_occupation_move(
                actor=request.user,
                category=category,
                link_id=int(link),
                up=action == "up",
            )
            messages.success(request, "已调整顺序。")
    else:
        messages.error(request, "未知的操作")
    return redirect("matching:major_detail", category_id=category.pk)


# --- staff: the skills-gap analysis and the fairness report --------------------------------------


def _kind(request: AuthedRequest) -> str:
    kind = request.GET.get("kind", "")
    return kind if kind in Posting.Kind.values else ""


@require_GET
def gap(request: AuthedRequest) -> HttpResponse:
    report = selectors.gap_analysis(viewer=request.user, kind=_kind(request))
    return render(
        request,
        "matching/gap.html",
        {
            "report": report,
            "chart_categories": report.chart(report.categories),
            "chart_groups": report.chart(report.groups),
            "kinds": Posting.Kind.choices,
            "kind": report.kind,
        },
    )


@require_GET
def gap_export(request: AuthedRequest) -> HttpResponse:
    report = selectors.gap_analysis(viewer=request.user, kind=_kind(request))
    content = services.gap_export(viewer=request.user, report=report)
    response = HttpResponse(
        content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    stamp = timezone.localdate().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="skills-gap-{stamp}.xlsx"'
    return response


@require_GET
def fairness(request: AuthedRequest) -> HttpResponse:
    q = request.GET.get("q", "")
    qs = selectors.fairness_report(viewer=request.user, q=q)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    weights = services.weights_from_settings()
    return render(
        request,
        "matching/fairness.html",
        {
            "page": page,
            "rows": [selectors.FairnessRow(f.posting, f) for f in page.object_list],
            "summary": selectors.fairness_summary(qs),
            "weights": weights,
            "criteria": [
                (scoring.CRITERIA_LABELS[name], getattr(weights, name))
                for name in ("major", "level", "timing", "town", "industry", "skills", "salary")
            ],
            "cap": scoring.NATIVE_BOOST_CAP,
            "min_group": fair.MIN_GROUP_IN_POOL,
            "q": q,
            "invitation_states": Invitation.State.choices,
        },
    )
