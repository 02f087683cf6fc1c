"""JSON for matching: a student's recommendations, an enterprise's recommended talents for
one of its postings (masked unless shared; another enterprise's posting is a 404), the
skills-gap analysis, and the classifier for tooling. Same rules as the pages."""

from __future__ import annotations

from typing import Any

from ninja import Query, Router, Schema

from qinghe.core.errors import NotFound
from qinghe.core.http import AuthedRequest

from . import fetch, selectors

router = Router()


class ReasonOut(Schema):
    criterion: str
    points: float
    text: str


class RecommendationOut(Schema):
    posting_id: int
    title: str
    kind: str
    enterprise: str
    town: str
    score: float
    reasons: list[ReasonOut]


class ForMeOut(Schema):
    state: str
    computed_at: str | None
    items: list[RecommendationOut]


@router.get(
    "/for-me",
    response=ForMeOut,
    url_name="matching_for_me",
    summary="为你推荐（岗位与实习，附理由）",
)
def for_me(request: AuthedRequest) -> ForMeOut:
    view = selectors.student_recommendations(user=request.user)
    items = [
        RecommendationOut(
            posting_id=r.posting_id,
            title=r.posting.title,
            kind=r.posting.kind,
            enterprise=r.posting.enterprise.name,
            town=r.posting.town.name,
            score=round(r.score, 2),
            reasons=[ReasonOut(**_reason(x)) for x in r.reasons],
        )
        for r in sorted(view.jobs + view.internships, key=lambda r: -r.score)
    ]
    return ForMeOut(
        state=view.state,
        computed_at=view.computed_at.isoformat() if view.computed_at else None,
        items=items,
    )


def _reason(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "criterion": str(raw.get("criterion", "")),
        "points": float(raw.get("points", 0.0)),
        "text": str(raw.get("text", "")),
    }


class CandidateOut(Schema):
    talent_id: int
    name: str
    shared: bool
    level: str
    major: str
    graduation_year: int | None
    score: float
    reasons: list[ReasonOut]
    invitation: str
    applied: bool


@router.get(
    "/postings/{int:posting_id}/talents",
    response=list[CandidateOut],
    url_name="matching_candidates",
    summary="本企业岗位的推荐人才（同意匹配的学子；未授权前脱敏）",
)
def candidates(request: AuthedRequest, posting_id: int) -> list[CandidateOut]:
    posting = selectors.enterprise_posting_get_for_viewer(
        viewer=request.user, posting_id=posting_id
    )
    return [
        CandidateOut(
            talent_id=c.talent_id,
            name=c.display_name,
            shared=c.shared,
            level=c.level,
            major=c.major,
            graduation_year=c.graduation_year,
            score=round(c.score, 2),
            reasons=[ReasonOut(**_reason(x)) for x in c.reasons],
            invitation=c.invitation,
            applied=c.applied,
        )
        for c in selectors.posting_candidates(posting=posting)
    ]


class GapRowOut(Schema):
    code: str
    name: str
    postings: float
    headcount: float
    supply: float
    shortage: float


class GapOut(Schema):
    years: list[int]
    categories: list[GapRowOut]
    groups: list[GapRowOut]


def _gap_row(row: selectors.GapRow) -> GapRowOut:
    return GapRowOut(
        code=row.code,
        name=row.name,
        postings=round(row.postings, 3),
        headcount=round(row.headcount, 3),
        supply=round(row.supply, 3),
        shortage=round(row.shortage, 3),
    )


class GapIn(Schema):
    kind: str = ""


@router.get("/gap", response=GapOut, url_name="matching_gap", summary="急需紧缺人才需求分析")
def gap(request: AuthedRequest, params: Query[GapIn]) -> GapOut:
    report = selectors.gap_analysis(viewer=request.user, kind=params.kind)
    return GapOut(
        years=list(report.years),
        categories=[_gap_row(r) for r in report.categories],
        groups=[_gap_row(r) for r in report.groups],
    )


class ClassifyIn(Schema):
    title: str
    description: str = ""
    k: int = 5


class OccupationScoreOut(Schema):
    code: str
    name: str
    # The model's probability that the title is this occupation (the scores of all the
    # catalog's occupations add up to 1; only the first k are returned).
    score: float


@router.get(
    "/classify",
    response=list[OccupationScoreOut],
    url_name="matching_classify",
    summary="岗位名称归入职业（职业分类大典 2022）",
)
def classify(request: AuthedRequest, params: Query[ClassifyIn]) -> list[OccupationScoreOut]:
    title = params.title.strip()[:120]
    if not title:
        return []
    from qinghe.reference.models import Occupation

    if not Occupation.objects.filter(level=Occupation.Level.OCCUPATION).exists():
        raise NotFound("职业分类大典尚未载入")
    model = fetch.classifier()
    ranked = model.top(title, params.description[:2000], max(1, min(params.k, 20)))
    return [
        OccupationScoreOut(code=code, name=model.names.get(code, ""), score=round(score, 4))
        for code, score in ranked
    ]
