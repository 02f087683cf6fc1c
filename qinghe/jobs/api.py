"""JSON for postings: the students' search and favourites, an enterprise's own postings, and
staff review and certification. Same access rules as the pages (qinghe/core/policies.py) and
the same scoped selectors: another enterprise's posting is a 404."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from ninja import Query, Router, Schema

from qinghe.core.errors import NotFound
from qinghe.core.http import AuthedRequest
from qinghe.core.pagination import PageIn, SmallPageIn
from qinghe.enterprises.selectors import enterprise_for_user
from qinghe.reference.models import Major, MajorCategory, Town

from . import selectors, services
from .models import FACT_FIELDS, Posting
from .services import PostingData

router = Router()


class PostingBrief(Schema):
    id: int
    kind: str
    kind_label: str
    title: str
    enterprise: str
    town: str
    salary_min: int | None
    salary_max: int | None
    closing_date: dt.date | None
    is_quality: bool
    natives_first: bool


class PostingOut(PostingBrief):
    description: str
    enterprise_id: int
    town_code: str
    min_level: str
    headcount: int
    start_date: dt.date | None
    facts: dict[str, str]
    majors: list[str]
    categories: list[str]
    state: str
    state_label: str
    accepts_applications: bool
    published_at: dt.datetime | None


class OwnPostingOut(PostingOut):
    review_note: str
    missing_to_publish: dict[str, str]


class SearchOut(Schema):
    count: int
    items: list[PostingBrief]


def _brief(p: Posting) -> dict[str, Any]:
    return {
        "id": p.pk,
        "kind": p.kind,
        "kind_label": str(p.get_kind_display()),
        "title": p.title,
        "enterprise": p.enterprise.name,
        "town": p.town.name,
        "salary_min": p.salary_min,
        "salary_max": p.salary_max,
        "closing_date": p.closing_date,
        "is_quality": p.is_quality,
        "natives_first": p.natives_first,
    }


def _full(p: Posting) -> dict[str, Any]:
    return {
        **_brief(p),
        "description": p.description,
        "enterprise_id": p.enterprise_id,
        "town_code": p.town.code,
        "min_level": p.min_level,
        "headcount": p.headcount,
        "start_date": p.start_date,
        "facts": {name: getattr(p, name) for name in FACT_FIELDS},
        "majors": list(p.required_majors.order_by("code").values_list("code", flat=True)),
        "categories": list(p.required_categories.order_by("code").values_list("code", flat=True)),
        "state": p.state,
        "state_label": str(p.get_state_display()),
        "accepts_applications": p.accepts_applications(),
        "published_at": p.published_at,
    }


def _own_out(p: Posting) -> OwnPostingOut:
    problems = (
        services.publishing_problems(p, today=timezone.localdate())
        if p.state == Posting.State.DRAFT
        else {}
    )
    return OwnPostingOut(**_full(p), review_note=p.review_note, missing_to_publish=problems)


class SearchIn(SmallPageIn):
    q: str = ""
    kind: str = ""
    industry: str = ""
    town: str = ""
    major: str = ""
    level: str = ""
    salary: int | None = None


@router.get(
    "/search",
    response=SearchOut,
    url_name="posting_search",
    summary="搜索岗位（中文关键词，jieba 分词）",
)
def posting_search(request: AuthedRequest, params: Query[SearchIn]) -> SearchOut:
    data = params.dict()
    filters = selectors.PostingFilter.from_query(
        {k: ("" if v is None else v) for k, v in data.items()}
    )
    qs = selectors.posting_search(viewer=request.user, filters=filters)
    limit, offset = params.limit, params.offset
    return SearchOut(
        count=qs.count(), items=[PostingBrief(**_brief(p)) for p in qs[offset : offset + limit]]
    )


@router.get(
    "/favourites", response=list[PostingBrief], url_name="favourite_list", summary="我收藏的岗位"
)
def favourite_list(request: AuthedRequest) -> list[PostingBrief]:
    return [
        PostingBrief(**_brief(p)) for p in selectors.favourite_postings(viewer=request.user)[:200]
    ]


class FavouriteOut(Schema):
    saved: bool


@router.post(
    "/{int:posting_id}/favourite",
    response=FavouriteOut,
    url_name="favourite_toggle",
    summary="收藏或取消收藏",
)
def favourite_toggle(request: AuthedRequest, posting_id: int) -> FavouriteOut:
    posting = selectors.posting_get_for_viewer(viewer=request.user, posting_id=posting_id)
    return FavouriteOut(saved=services.favourite_toggle(user=request.user, posting=posting))


# --- an enterprise's own postings --------------------------------------------------------------


class PostingIn(Schema):
    kind: str = Posting.Kind.JOB
    title: str
    description: str = ""
    town: str
    headcount: int = 1
    min_level: str = ""
    salary_min: int | None = None
    salary_max: int | None = None
    start_date: dt.date | None = None
    closing_date: dt.date | None = None
    working_hours: str = ""
    housing: str = ""
    meals: str = ""
    social_insurance: str = ""
    leave: str = ""
    safety: str = ""
    natives_first: bool = False
    majors: list[str] = []
    categories: list[str] = []

    def to_data(self) -> PostingData:
        town = Town.objects.filter(code=self.town).first()
        majors = list(Major.objects.filter(code__in=self.majors))
        categories = list(MajorCategory.objects.filter(code__in=self.categories))
        errors: dict[str, str] = {}
        if town is None:
            errors["town"] = "未知的镇街代码"
        unknown = sorted(set(self.majors) - {m.code for m in majors})
        if unknown:
            errors["majors"] = f"未知的专业代码：{'、'.join(unknown)}"
        unknown = sorted(set(self.categories) - {c.code for c in categories})
        if unknown:
            errors["categories"] = f"未知的专业类代码：{'、'.join(unknown)}"
        if errors:
            raise ValidationError(errors)
        fields = self.dict(exclude={"town", "majors", "categories"})
        return PostingData(**fields, town=town, majors=majors, categories=categories)


class NoteIn(Schema):
    note: str = ""


@router.get("/mine", response=list[OwnPostingOut], url_name="my_postings", summary="本企业的岗位")
def my_postings(request: AuthedRequest, state: str = "") -> list[OwnPostingOut]:
    return [_own_out(p) for p in selectors.own_postings(viewer=request.user, state=state)[:200]]


@router.post("/mine", response=OwnPostingOut, url_name="my_postings", summary="新建岗位草稿")
def posting_create(request: AuthedRequest, body: PostingIn) -> OwnPostingOut:
    enterprise = enterprise_for_user(user=request.user)
    if enterprise is None:
        raise NotFound("账号尚未关联已登记的企业")
    posting = services.posting_create(
        actor=request.user, enterprise=enterprise, data=body.to_data()
    )
    return _own_out(posting)


@router.get(
    "/mine/{int:posting_id}",
    response=OwnPostingOut,
    url_name="my_posting",
    summary="本企业的一个岗位",
)
def my_posting(request: AuthedRequest, posting_id: int) -> OwnPostingOut:
    return _own_out(selectors.own_posting_get(viewer=request.user, posting_id=posting_id))


@router.put(
    "/mine/{int:posting_id}", response=OwnPostingOut, url_name="my_posting", summary="修改岗位草稿"
)
def posting_update(request: AuthedRequest, posting_id: int, body: PostingIn) -> OwnPostingOut:
    posting = selectors.own_posting_get(viewer=request.user, posting_id=posting_id)
    services.posting_update(actor=request.user, posting=posting, data=body.to_data())
    return _own_out(selectors.own_posting_get(viewer=request.user, posting_id=posting_id))


def _own_move(
    request: AuthedRequest, posting_id: int, action: str, note: str = ""
) -> OwnPostingOut:
    posting = selectors.own_posting_get(viewer=request.user, posting_id=posting_id)
    services.posting_transition(actor=request.user, posting=posting, action=action, note=note)
    return _own_out(selectors.own_posting_get(viewer=request.user, posting_id=posting_id))


@router.post(
    "/mine/{int:posting_id}/submit",
    response=OwnPostingOut,
    url_name="posting_submit",
    summary="提交审核",
)
def posting_submit(request: AuthedRequest, posting_id: int) -> OwnPostingOut:
    return _own_move(request, posting_id, "submit")


@router.post(
    "/mine/{int:posting_id}/withdraw",
    response=OwnPostingOut,
    url_name="posting_withdraw",
    summary="撤回审核",
)
def posting_withdraw(request: AuthedRequest, posting_id: int) -> OwnPostingOut:
    return _own_move(request, posting_id, "withdraw")


@router.post(
    "/mine/{int:posting_id}/revise",
    response=OwnPostingOut,
    url_name="posting_revise",
    summary="撤下修改（已发布的岗位回到草稿，投递保留，修改后重新审核）",
)
def posting_revise(request: AuthedRequest, posting_id: int) -> OwnPostingOut:
    return _own_move(request, posting_id, "revise")


@router.post(
    "/mine/{int:posting_id}/close",
    response=OwnPostingOut,
    url_name="posting_close",
    summary="关闭岗位",
)
def posting_close(request: AuthedRequest, posting_id: int) -> OwnPostingOut:
    return _own_move(request, posting_id, "close")


# --- staff --------------------------------------------------------------------------------------


class StaffPostingOut(PostingOut):
    enterprise_state: str
    review_note: str
    quality_criteria: list[str]
    quality_certified_at: dt.datetime | None


def _staff_out(p: Posting) -> StaffPostingOut:
    return StaffPostingOut(
        **_full(p),
        enterprise_state=p.enterprise.state,
        review_note=p.review_note,
        quality_criteria=list(p.quality_criteria or []),
        quality_certified_at=p.quality_certified_at,
    )


class StaffFilterIn(PageIn):
    q: str = ""
    state: str = ""
    kind: str = ""
    quality: str = ""
    town: str = ""


@router.get(
    "/staff",
    response=list[StaffPostingOut],
    url_name="staff_postings",
    summary="全部岗位（工作人员）",
)
def staff_postings(request: AuthedRequest, params: Query[StaffFilterIn]) -> list[StaffPostingOut]:
    filters = selectors.StaffPostingFilter.from_query(params.dict())
    qs = selectors.staff_postings(viewer=request.user, filters=filters)
    limit, offset = params.limit, params.offset
    return [_staff_out(p) for p in qs[offset : offset + limit]]


def _staff_move(
    request: AuthedRequest, posting_id: int, action: str, note: str = ""
) -> StaffPostingOut:
    posting = selectors.staff_posting_get(viewer=request.user, posting_id=posting_id)
    services.posting_transition(actor=request.user, posting=posting, action=action, note=note)
    return _staff_out(selectors.staff_posting_get(viewer=request.user, posting_id=posting_id))


@router.post(
    "/staff/{int:posting_id}/approve",
    response=StaffPostingOut,
    url_name="posting_approve",
    summary="审核通过并发布（人社局）",
)
def posting_approve(request: AuthedRequest, posting_id: int) -> StaffPostingOut:
    return _staff_move(request, posting_id, "approve")


@router.post(
    "/staff/{int:posting_id}/reject",
    response=StaffPostingOut,
    url_name="posting_reject",
    summary="退回修改，须写明原因（人社局）",
)
def posting_reject(request: AuthedRequest, posting_id: int, body: NoteIn) -> StaffPostingOut:
    return _staff_move(request, posting_id, "reject", body.note)


class CertifyIn(Schema):
    criteria: list[str] = []
    note: str = ""


@router.post(
    "/staff/{int:posting_id}/certify",
    response=StaffPostingOut,
    url_name="posting_certify",
    summary="认定优质岗位（人社局）",
)
def posting_certify(request: AuthedRequest, posting_id: int, body: CertifyIn) -> StaffPostingOut:
    posting = selectors.staff_posting_get(viewer=request.user, posting_id=posting_id)
    services.posting_certify_quality(
        actor=request.user, posting=posting, criteria=body.criteria, note=body.note
    )
    return _staff_out(selectors.staff_posting_get(viewer=request.user, posting_id=posting_id))


@router.get("/{int:posting_id}", response=PostingOut, url_name="posting_detail", summary="岗位详情")
def posting_detail(request: AuthedRequest, posting_id: int) -> PostingOut:
    return PostingOut(
        **_full(selectors.posting_get_for_viewer(viewer=request.user, posting_id=posting_id))
    )
