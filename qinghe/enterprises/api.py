"""Enterprise-facing and staff-facing JSON for enterprises and internship bases. The access
rules are the pages' (qinghe/core/policies.py, enforced by the middleware); objects come
through the same scoped selectors, so another enterprise's record is a 404."""

from __future__ import annotations

import datetime as dt

from ninja import Query, Router, Schema

from qinghe.core.errors import NotFound
from qinghe.core.http import AuthedRequest
from qinghe.core.pagination import PageIn

from . import selectors, services
from .models import Enterprise, InternshipBase

router = Router()


class EnterpriseOut(Schema):
    id: int
    name: str
    uscc: str
    state: str
    state_label: str
    reject_reason: str
    industry_code: str
    industry: str
    town_code: str
    town: str
    park: str
    size: str
    is_key: bool
    contact_name: str
    contact_phone: str
    verified_at: dt.datetime | None
    created_at: dt.datetime


def _enterprise_out(e: Enterprise) -> EnterpriseOut:
    return EnterpriseOut(
        id=e.pk,
        name=e.name,
        uscc=e.uscc,
        state=e.state,
        state_label=str(e.get_state_display()),
        reject_reason=e.reject_reason,
        industry_code=e.industry.code,
        industry=e.industry.name,
        town_code=e.town.code,
        town=e.town.name,
        park=e.park,
        size=e.size,
        is_key=e.is_key,
        contact_name=e.contact_name,
        contact_phone=e.contact_phone_masked,
        verified_at=e.verified_at,
        created_at=e.created_at,
    )


class ReasonIn(Schema):
    reason: str = ""


class EnterpriseFilterIn(PageIn):
    state: str = ""
    q: str = ""


@router.get(
    "/me", response=EnterpriseOut, url_name="enterprise_me", summary="本企业的登记与认证状态"
)
def enterprise_me(request: AuthedRequest) -> EnterpriseOut:
    enterprise = selectors.enterprise_for_user(user=request.user)
    if enterprise is None:
        raise NotFound("账号尚未关联已登记的企业")
    return _enterprise_out(enterprise)


@router.get(
    "/", response=list[EnterpriseOut], url_name="enterprise_list", summary="企业列表（人社局）"
)
def enterprise_list(
    request: AuthedRequest, filters: Query[EnterpriseFilterIn]
) -> list[EnterpriseOut]:
    qs = selectors.enterprise_list(viewer=request.user, state=filters.state, q=filters.q)
    limit, offset = filters.limit, filters.offset
    return [_enterprise_out(e) for e in qs[offset : offset + limit]]


@router.get(
    "/{int:enterprise_id}", response=EnterpriseOut, url_name="enterprise_detail", summary="企业详情"
)
def enterprise_detail(request: AuthedRequest, enterprise_id: int) -> EnterpriseOut:
    return _enterprise_out(
        selectors.enterprise_get_for_viewer(viewer=request.user, enterprise_id=enterprise_id)
    )


@router.post(
    "/{int:enterprise_id}/verify",
    response=EnterpriseOut,
    url_name="enterprise_verify",
    summary="认证通过（人社局）",
)
def enterprise_verify(request: AuthedRequest, enterprise_id: int) -> EnterpriseOut:
    enterprise = selectors.enterprise_get_for_viewer(
        viewer=request.user, enterprise_id=enterprise_id
    )
    return _enterprise_out(
        services.enterprise_transition(actor=request.user, enterprise=enterprise, action="verify")
    )


@router.post(
    "/{int:enterprise_id}/reject",
    response=EnterpriseOut,
    url_name="enterprise_reject",
    summary="不予认证或撤销认证，须写明原因（人社局）",
)
def enterprise_reject(request: AuthedRequest, enterprise_id: int, body: ReasonIn) -> EnterpriseOut:
    enterprise = selectors.enterprise_get_for_viewer(
        viewer=request.user, enterprise_id=enterprise_id
    )
    return _enterprise_out(
        services.enterprise_transition(
            actor=request.user,
            enterprise=enterprise,
            action="reject",
            reason=body.reason,
        )
    )


class BaseOut(Schema):
    id: int
    enterprise_id: int
    enterprise: str
    state: str
    state_label: str
    capacity: int
    requested_from: dt.date
    requested_to: dt.date
    valid_from: dt.date | None
    valid_to: dt.date | None
    decision_note: str


def _base_out(b: InternshipBase) -> BaseOut:
    return BaseOut(
        id=b.pk,
        enterprise_id=b.enterprise_id,
        enterprise=b.enterprise.name,
        state=b.state,
        state_label=str(b.get_state_display()),
        capacity=b.capacity,
        requested_from=b.requested_from,
        requested_to=b.requested_to,
        valid_from=b.valid_from,
        valid_to=b.valid_to,
        decision_note=b.decision_note,
    )


class BaseApplyIn(Schema):
    description: str
    capacity: int
    requested_from: dt.date
    requested_to: dt.date


class BaseCertifyIn(Schema):
    valid_from: dt.date
    valid_to: dt.date
    reason: str = ""


@router.get(
    "/bases",
    response=list[BaseOut],
    url_name="internship_bases",
    summary="实习基地（人社局看全部，企业看本企业）",
)
def internship_base_list(request: AuthedRequest, state: str = "") -> list[BaseOut]:
    return [
        _base_out(b) for b in selectors.internship_base_list(viewer=request.user, state=state)[:200]
    ]


@router.post(
    "/bases", response=BaseOut, url_name="internship_bases", summary="申请实习基地（企业）"
)
def internship_base_apply(request: AuthedRequest, body: BaseApplyIn) -> BaseOut:
    enterprise = selectors.enterprise_for_user(user=request.user)
    if enterprise is None:
        raise NotFound("账号尚未关联已登记的企业")
    base = services.internship_base_apply(
        actor=request.user,
        enterprise=enterprise,
        description=body.description,
        capacity=body.capacity,
        requested_from=body.requested_from,
        requested_to=body.requested_to,
    )
    return _base_out(base)


@router.post(
    "/bases/{int:base_id}/certify",
    response=BaseOut,
    url_name="internship_base_certify",
    summary="认定实习基地（人社局）",
)
def internship_base_certify(request: AuthedRequest, base_id: int, body: BaseCertifyIn) -> BaseOut:
    base = selectors.internship_base_get_for_viewer(viewer=request.user, base_id=base_id)
    return _base_out(
        services.internship_base_transition(
            actor=request.user,
            base=base,
            action="certify",
            reason=body.reason,
            valid_from=body.valid_from,
            valid_to=body.valid_to,
        )
    )


@router.post(
    "/bases/{int:base_id}/reject",
    response=BaseOut,
    url_name="internship_base_reject",
    summary="不予认定（人社局）",
)
def internship_base_reject(request: AuthedRequest, base_id: int, body: ReasonIn) -> BaseOut:
    base = selectors.internship_base_get_for_viewer(viewer=request.user, base_id=base_id)
    return _base_out(
        services.internship_base_transition(
            actor=request.user, base=base, action="reject", reason=body.reason
        )
    )


@router.post(
    "/bases/{int:base_id}/revoke",
    response=BaseOut,
    url_name="internship_base_revoke",
    summary="撤销认定（人社局）",
)
def internship_base_revoke(request: AuthedRequest, base_id: int, body: ReasonIn) -> BaseOut:
    base = selectors.internship_base_get_for_viewer(viewer=request.user, base_id=base_id)
    return _base_out(
        services.internship_base_transition(
            actor=request.user, base=base, action="revoke", reason=body.reason
        )
    )
