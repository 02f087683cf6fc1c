"""Reads for policies, programmes, rules, applications and figures, scoped by the viewer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from qinghe.accounts.models import User
from qinghe.core.errors import NotFound
from qinghe.core.roles import Role
from qinghe.jobs.search import query_words

from . import rules
from .models import Application, Payment, Policy, PolicyAttachment, Programme, Rule

REVIEWERS = frozenset({Role.HR_STAFF, Role.SYSADMIN})


# ------------------------------------------------------------------ programmes and rules


def programme_by_code(code: str) -> Programme | None:
    return Programme.objects.filter(code=code).select_related("policy").first()


def programme_list(*, active_only: bool = True) -> QuerySet[Programme]:
    qs = Programme.objects.select_related("policy").order_by("code")
    return qs.filter(active=True) if active_only else qs


def programme_get(*, code: str, active_only: bool = True) -> Programme:
    programme = programme_list(active_only=active_only).filter(code=code).first()
    if programme is None:
        raise NotFound("未找到该补贴项目")
    return programme


def rule_list(programme: Programme) -> list[Rule]:
    return list(programme.rules.filter(active=True).order_by("position", "id"))


def rule_specs(programme: Programme) -> list[rules.RuleSpec]:
    return [
        rules.RuleSpec(
            code=r.code,
            explanation=r.explanation,
            expression=r.expression,
            passes_from=r.passes_from,
        )
        for r in rule_list(programme)
    ]


def rule_get(*, programme: Programme, rule_id: int) -> Rule:
    rule = programme.rules.filter(pk=rule_id).first()
    if rule is None:
        raise NotFound("未找到该规则")
    return rule


# ------------------------------------------------------------------ what the platform holds


def platform_facts(user: User) -> dict[str, Any]:
    """The fields of rules.FIELDS the platform holds about a student (None when unknown).
    Graduation date: 30 June of the newest education's graduation year (the survey holds
    years only; documented on the check page)."""
    from qinghe.talents.models import Talent

    talent = Talent.objects.filter(user=user, merged_into__isnull=True).first()
    facts: dict[str, Any] = {
        "gender": None,
        "birth_date": None,
        "graduation_date": None,
        "double_first_class": False,
    }
    if talent is None:
        return facts
    # The stored code, not the (translated) display label: rules compare with "男"/"女".
    facts["gender"] = {"M": "男", "F": "女"}.get(talent.gender)
    facts["birth_date"] = talent.birth_date
    education = talent.educations.exclude(graduation_year__isnull=True).first()
    year = education.graduation_year if education else talent.graduation_year
    if year:
        facts["graduation_date"] = dt.date(year, 6, 30)
    facts["double_first_class"] = talent.educations.filter(is_double_first_class=True).exists()
    return facts


# ------------------------------------------------------------------ policy library


def policy_list(
    *, q: str = "", level: str = "", tag: str = "", include_drafts: bool = False
) -> QuerySet[Policy]:
    qs = Policy.objects.all()
    if not include_drafts:
        qs = qs.filter(status=Policy.Status.PUBLISHED)
    if level:
        qs = qs.filter(level=level)
    if tag:
        qs = qs.filter(tag_index__contains=f" {tag.strip()} ")
    words = query_words(q) if q.strip() else []
    for word in words:
        condition = Q(search_tokens__contains=f" {word.word} ")
        if word.parts:
            parts = Q()
            for part in word.parts:
                parts &= Q(search_tokens__contains=f" {part} ")
            condition |= parts
        qs = qs.filter(condition)
    return qs.select_related("replaced_by")


def policy_get(*, pk: int, include_drafts: bool = False) -> Policy:
    qs = Policy.objects.select_related("replaced_by")
    if not include_drafts:
        qs = qs.filter(status=Policy.Status.PUBLISHED)
    policy = qs.filter(pk=pk).first()
    if policy is None:
        raise NotFound("未找到该政策")
    return policy


def policy_attachment_get(*, policy: Policy, pk: int) -> PolicyAttachment:
    attachment = PolicyAttachment.objects.filter(policy=policy, pk=pk).first()
    if attachment is None:
        raise NotFound("未找到该附件")
    return attachment


def policies_compare(ids: Sequence[int]) -> list[Policy]:
    wanted = list(dict.fromkeys(ids))[:3]
    found = {p.pk: p for p in Policy.objects.filter(pk__in=wanted, status=Policy.Status.PUBLISHED)}
    return [found[i] for i in wanted if i in found]


LIFE_EVENT_TAGS = {"毕业", "创业", "高校毕业生", "人才引进"}


def policies_for_me(user: User, *, today: dt.date) -> list[Policy]:
    """Policies in force today that speak to what the platform holds about a student: a recent
    graduate gets graduation and start-up policies; a 双一流 graduate the talent ones too."""
    facts = platform_facts(user)
    wanted = {"毕业", "创业", "高校毕业生"}
    if facts.get("double_first_class"):
        wanted |= {"人才引进"}
    result = []
    for policy in Policy.objects.filter(status=Policy.Status.PUBLISHED, replaced_by__isnull=True):
        if policy.effective_to and policy.effective_to < today:
            continue
        if wanted & set(policy.tags or []):
            result.append(policy)
    return result


# ------------------------------------------------------------------ applications


def application_list_for_applicant(user: User) -> QuerySet[Application]:
    return Application.objects.filter(applicant=user).select_related("programme")


def application_get_for_viewer(*, viewer: User, pk: int) -> Application:
    qs = Application.objects.select_related("programme", "applicant", "reviewed_by", "approved_by")
    if viewer.role not in REVIEWERS:
        qs = qs.filter(applicant=viewer)
    application = qs.filter(pk=pk).first()
    if application is None:
        raise NotFound("未找到该申请")
    return application


def application_list_for_staff(*, viewer: User, state: str = "") -> QuerySet[Application]:
    if viewer.role not in REVIEWERS:
        return Application.objects.none()
    qs = Application.objects.select_related("programme", "applicant")
    if state:
        qs = qs.filter(state=state)
    return qs


# ------------------------------------------------------------------ figures


def subsidy_figures(*, year: int | None = None) -> dict[str, Any]:
    """Applications, approvals, rejections by reason, amounts paid by programme and month, and
    the 双一流 share of approvals: the numbers the plan's page shows for measure 10."""
    apps = Application.objects.exclude(state=Application.State.WITHDRAWN)
    payments = Payment.objects.all()
    if year is not None:
        apps = apps.filter(created_at__year=year)
        payments = payments.filter(paid_on__year=year)
    totals = apps.aggregate(
        applications=Count("id"),
        approved=Count("id", filter=Q(state=Application.State.APPROVED)),
        rejected=Count("id", filter=Q(state=Application.State.REJECTED)),
        approved_double=Count(
            "id", filter=Q(state=Application.State.APPROVED, double_first_class=True)
        ),
    )
    rejections = list(
        apps.filter(state=Application.State.REJECTED)
        .values("reason")
        .annotate(n=Count("id"))
        .order_by("-n", "reason")
    )
    paid = list(
        payments.annotate(month=TruncMonth("paid_on"))
        .values("application__programme__code", "application__programme__name", "month")
        .annotate(total=Sum("amount"), n=Count("id"))
        .order_by("month", "application__programme__code")
    )
    approved = totals["approved"] or 0
    share = round(100 * totals["approved_double"] / approved, 1) if approved else 0.0
    return {
        "applications": totals["applications"] or 0,
        "approved": approved,
        "rejected": totals["rejected"] or 0,
        "double_first_class_approved": totals["approved_double"] or 0,
        "double_first_class_share": share,
        "rejections_by_reason": [{"reason": r["reason"], "count": r["n"]} for r in rejections],
        "paid_by_programme_month": [
            {
                "programme": p["application__programme__code"],
                "name": p["application__programme__name"],
                "month": p["month"].strftime("%Y-%m") if p["month"] else "",
                "amount": p["total"] or 0,
                "payments": p["n"],
            }
            for p in paid
        ],
        "paid_total": payments.aggregate(t=Sum("amount"))["t"] or 0,
    }
