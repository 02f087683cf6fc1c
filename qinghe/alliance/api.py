"""Chapters and membership as JSON: the active chapters, one chapter, the signed-in student's
memberships, applying to join and leaving. Access rules are in policies.py; objects come
through the same selectors as the pages."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from qinghe.core.http import AuthedRequest
from qinghe.core.pagination import SmallPageIn

from . import selectors, services
from .models import Chapter, Membership

router = Router()


class ChapterOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str
    city: str
    university: str
    school_name: str
    state: str
    member_count: int


class ChapterDetailOut(ChapterOut):
    description: str
    merged_into_id: int | None


def _chapter_out(c: Chapter) -> dict[str, object]:
    return {
        "id": c.pk,
        "name": c.name,
        "kind": c.kind,
        "kind_label": str(c.get_kind_display()),
        "city": c.city,
        "university": c.university.name if c.university_id and c.university else "",
        "school_name": c.school_name,
        "state": c.state,
        "member_count": getattr(c, "member_count", 0),
    }


class ChapterFilterIn(SmallPageIn):
    kind: str = Field("", description="分会类型")
    q: str = Field("", max_length=50, description="名称、城市或学校")


class MembershipOut(Schema):
    id: int
    chapter_id: int
    chapter: str
    status: str
    status_label: str
    role: str
    joined_at: dt.datetime | None
    created_at: dt.datetime


def _membership_out(m: Membership) -> MembershipOut:
    return MembershipOut(
        id=m.pk,
        chapter_id=m.chapter_id,
        chapter=m.chapter.name,
        status=m.status,
        status_label=str(m.get_status_display()),
        role=m.role,
        joined_at=m.joined_at,
        created_at=m.created_at,
    )


@router.get("", response=list[ChapterOut], url_name="chapter_list", summary="联盟分会")
def chapter_list(
    request: AuthedRequest, filters: Query[ChapterFilterIn]
) -> list[dict[str, object]]:
    qs = selectors.chapter_list_public(kind=filters.kind, q=filters.q).select_related("university")
    return [_chapter_out(c) for c in qs[filters.offset : filters.offset + filters.limit]]


@router.get(
    "/memberships/mine",
    response=list[MembershipOut],
    url_name="chapter_my_memberships",
    summary="我的分会与申请",
)
def my_memberships(request: AuthedRequest) -> list[MembershipOut]:
    return [_membership_out(m) for m in selectors.my_memberships(user=request.user)[:100]]


@router.get(
    "/{int:chapter_id}", response=ChapterDetailOut, url_name="chapter_detail", summary="分会详情"
)
def chapter_detail(request: AuthedRequest, chapter_id: int) -> dict[str, object]:
    chapter = selectors.chapter_get_public(chapter_id=chapter_id)
    return {
        **_chapter_out(chapter),
        "description": chapter.description,
        "merged_into_id": chapter.merged_into_id,
    }


@router.post(
    "/{int:chapter_id}/memberships",
    response={201: MembershipOut},
    url_name="chapter_join",
    summary="申请加入分会（有邀请则直接加入）",
)
def chapter_join(request: AuthedRequest, chapter_id: int) -> Status[MembershipOut]:
    chapter = selectors.chapter_get_public(chapter_id=chapter_id)
    membership = services.membership_apply(user=request.user, chapter=chapter)
    return Status(201, _membership_out(membership))


@router.delete(
    "/{int:chapter_id}/memberships/me",
    response=MembershipOut,
    url_name="chapter_leave",
    summary="退出分会或撤回申请",
)
def chapter_leave(request: AuthedRequest, chapter_id: int) -> MembershipOut:
    chapter = selectors.chapter_get_public(chapter_id=chapter_id)
    return _membership_out(services.membership_leave(user=request.user, chapter=chapter))
