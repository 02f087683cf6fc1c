"""The plan's targets as JSON (mounted at /api/v1/jobs, where it has always been)."""

from __future__ import annotations

from ninja import Field, Router, Schema

from qinghe.core.errors import NotFound
from qinghe.core.http import AuthedRequest

from . import selectors, services
from .services import TARGET_FIELDS

router = Router()


class TargetLineOut(Schema):
    code: str
    label: str
    goal: int
    count: int
    source: str


class TargetsOut(Schema):
    year: int
    lines: list[TargetLineOut]


class TargetsIn(Schema):
    quality_jobs: int
    internship_bases: int
    internship_posts: int
    native_hires: int
    recruitment_events: int | None = Field(
        None, ge=0, le=100000, description="招聘活动场数目标；不填则保持原值"
    )


def _targets_out(year: int) -> TargetsOut:
    lines = selectors.year_progress(year=year)
    return TargetsOut(
        year=year,
        lines=[
            TargetLineOut(code=x.code, label=x.label, goal=x.goal, count=x.count, source=x.source)
            for x in lines
        ],
    )


@router.get(
    "/targets/{int:year}",
    response=TargetsOut,
    url_name="year_targets",
    summary="年度目标与完成情况",
)
def year_targets(request: AuthedRequest, year: int) -> TargetsOut:
    if not 2000 <= year <= 2100:
        raise NotFound("年度不正确")
    return _targets_out(year)


@router.put(
    "/targets/{int:year}",
    response=TargetsOut,
    url_name="year_targets",
    summary="设置年度目标（人社局）",
)
def year_targets_set(request: AuthedRequest, year: int, body: TargetsIn) -> TargetsOut:
    if not 2000 <= year <= 2100:
        raise NotFound("年度不正确")
    values = {name: getattr(body, name) for name in TARGET_FIELDS}
    if values["recruitment_events"] is None:
        values["recruitment_events"] = selectors.year_target(year=year).recruitment_events
    services.year_target_set(actor=request.user, year=year, values=values)
    return _targets_out(year)
