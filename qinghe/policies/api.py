"""Policies and subsidies as JSON. The published library and the programmes are public, like
their pages; the eligibility check and the list of applications are the signed-in student's
own. Access rules are in qinghe/core/policies.py; objects come through the same selectors as
the pages, so a draft policy or an inactive programme is a 404."""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from qinghe.core.errors import ApplicationError
from qinghe.core.http import AuthedRequest
from qinghe.core.pagination import PageIn, SmallPageIn

from . import rules, selectors, services
from .models import Application, Payment, Policy, Programme

router = Router()  # /api/v1/policies
subsidies_router = Router()  # /api/v1/subsidies

# Dates a declaration may carry: wide enough for any business, narrow enough that the rules'
# calendar arithmetic (months and years added or subtracted) never leaves Python's dates.
EARLIEST = dt.date(1950, 1, 1)
LATEST = dt.date(2100, 12, 31)


class PolicyOut(Schema):
    id: int
    title: str
    level: str
    level_label: str
    issuer: str
    doc_number: str
    effective_from: dt.date | None
    effective_to: dt.date | None
    summary: str
    tags: list[str]
    replaced_by_id: int | None


class AttachmentOut(Schema):
    id: int
    title: str
    filename: str
    size: int
    url: str


class PolicyDetailOut(PolicyOut):
    full_text: str
    replaces_ids: list[int]
    attachments: list[AttachmentOut]
    programme_codes: list[str]


def _policy_out(p: Policy) -> dict[str, object]:
    return {
        "id": p.pk,
        "title": p.title,
        "level": p.level,
        "level_label": str(p.get_level_display()),
        "issuer": p.issuer,
        "doc_number": p.doc_number,
        "effective_from": p.effective_from,
        "effective_to": p.effective_to,
        "summary": p.summary,
        "tags": [str(t) for t in p.tags or []],
        "replaced_by_id": p.replaced_by_id,
    }


class PolicyFilterIn(SmallPageIn):
    q: str = Field("", max_length=100, description="中文全文检索")
    level: str = Field("", max_length=16, description="national / guangdong / jiangmen / heshan")
    tag: str = Field("", max_length=50, description="标签（精确匹配）")


@router.get(
    "",
    response=list[PolicyOut],
    auth=None,
    url_name="policy_list",
    summary="政策库（已发布，无需登录）",
)
def policy_list(request: AuthedRequest, filters: Query[PolicyFilterIn]) -> list[dict[str, object]]:
    qs = selectors.policy_list(q=filters.q, level=filters.level, tag=filters.tag)
    return [_policy_out(p) for p in qs[filters.offset : filters.offset + filters.limit]]


@router.get(
    "/{int:policy_id}",
    response=PolicyDetailOut,
    auth=None,
    url_name="policy_detail",
    summary="政策详情与附件（无需登录）",
)
def policy_detail(request: AuthedRequest, policy_id: int) -> dict[str, object]:
    policy = selectors.policy_get(pk=policy_id)
    return {
        **_policy_out(policy),
        "full_text": policy.full_text,
        "replaces_ids": list(policy.replaces.order_by("id").values_list("pk", flat=True)),
        "attachments": [
            {
                "id": a.pk,
                "title": a.title,
                "filename": a.filename,
                "size": a.size,
                "url": reverse("policies:attachment_download", args=[policy.pk, a.pk]),
            }
            for a in policy.attachments.all()
        ],
        "programme_codes": list(
            policy.programmes.filter(active=True).order_by("code").values_list("code", flat=True)
        ),
    }


class ProgrammeOut(Schema):
    code: str
    name: str
    description: str
    policy_id: int | None
    amount_text: str
    schedule: str
    schedule_label: str
    periods: int
    materials: list[str]


def _programme_out(p: Programme) -> dict[str, object]:
    return {
        "code": p.code,
        "name": p.name,
        "description": p.description,
        "policy_id": p.policy_id,
        "amount_text": p.amount_text,
        "schedule": p.schedule,
        "schedule_label": str(p.get_schedule_display()),
        "periods": p.periods,
        "materials": [str(m) for m in p.materials or []],
    }


@subsidies_router.get(
    "/programmes",
    response=list[ProgrammeOut],
    auth=None,
    url_name="subsidy_programme_list",
    summary="受理中的补贴项目（无需登录）",
)
def programme_list(request: AuthedRequest) -> list[dict[str, object]]:
    return [_programme_out(p) for p in selectors.programme_list()]


class DeclaredIn(Schema):
    """What the applicant declares (the platform's own data is read from their record)."""

    category: str = Field("", max_length=20, description="人员类别：" + "、".join(rules.CATEGORIES))
    registered_on: dt.date | None = Field(None, description="营业执照注册日期")
    insured_months: int = Field(0, ge=0, le=100_000, description="员工连续参保月数")
    abnormal: bool = Field(False, description="列入经营异常名录")
    funded_before: bool = Field(False, description="已享受过该项补贴")
    hires: int = Field(0, ge=0, le=100_000, description="招用人数")


class RuleResultOut(Schema):
    code: str
    explanation: str
    passed: bool
    passes_on: dt.date | None
    problem: str


class EligibilityOut(Schema):
    programme: str
    as_of: dt.date
    eligible: bool
    amount: int
    amount_problem: str
    results: list[RuleResultOut]
    declared_fields: list[str]


@subsidies_router.post(
    "/programmes/{slug:code}/eligibility",
    response=EligibilityOut,
    url_name="subsidy_eligibility",
    summary="我的资格自查（只读，不保存）",
)
def eligibility(request: AuthedRequest, code: str, payload: DeclaredIn) -> dict[str, object]:
    programme = selectors.programme_get(code=code)
    if payload.registered_on is not None and not EARLIEST <= payload.registered_on <= LATEST:
        raise ApplicationError("营业执照注册日期超出范围（1950-01-01 至 2100-12-31）")
    fields = services.declared_fields_for(programme)
    raw = {
        "category": payload.category,
        "registered_on": payload.registered_on.isoformat() if payload.registered_on else "",
        "insured_months": str(payload.insured_months),
        "abnormal": "1" if payload.abnormal else "",
        "funded_before": "1" if payload.funded_before else "",
        "hires": str(payload.hires),
    }
    declared = services.clean_declared(raw, fields=fields)
    today = timezone.localdate()
    result = services.eligibility_check(
        programme=programme, user=request.user, declared=declared, as_of=today
    )
    return {
        "programme": programme.code,
        "as_of": today,
        "eligible": result.eligible,
        "amount": result.amount,
        "amount_problem": result.amount_problem,
        "results": [
            {
                "code": r.code,
                "explanation": r.explanation,
                "passed": r.passed,
                "passes_on": r.passes_on,
                "problem": r.problem,
            }
            for r in result.results
        ],
        "declared_fields": fields,
    }


class PaymentOut(Schema):
    period: str
    amount: int
    paid_on: dt.date


class ApplicationOut(Schema):
    id: int
    programme: str
    programme_name: str
    state: str
    state_label: str
    amount: int
    reason: str
    created_at: dt.datetime
    decided_at: dt.datetime | None
    payments: list[PaymentOut]


@subsidies_router.get(
    "/applications/mine",
    response=list[ApplicationOut],
    url_name="subsidy_application_list_mine",
    summary="我的补贴申请与发放",
)
def my_applications(request: AuthedRequest, page: Query[PageIn]) -> list[dict[str, object]]:
    qs = selectors.application_list_for_applicant(request.user).prefetch_related(
        Prefetch("payments", queryset=Payment.objects.order_by("paid_on", "id"))
    )
    rows: list[Application] = list(qs[page.offset : page.offset + page.limit])
    return [
        {
            "id": a.pk,
            "programme": a.programme.code,
            "programme_name": a.programme.name,
            "state": a.state,
            "state_label": str(a.get_state_display()),
            "amount": a.amount,
            "reason": a.reason,
            "created_at": a.created_at,
            "decided_at": a.decided_at,
            "payments": [
                {"period": p.period, "amount": p.amount, "paid_on": p.paid_on}
                for p in a.payments.all()
            ],
        }
        for a in rows
    ]
