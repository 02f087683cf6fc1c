"""Chapters and membership as JSON: the active chapters, one chapter, the signed-in student's
memberships, applying to join and leaving; for a chapter's managers (its leaders, this year's
ambassador, League staff) its applications, members and invitations, deciding an application
and inviting by phone; a student answers an invitation. Access rules are in policies.py;
objects come through the same selectors as the pages."""

from __future__ import annotations

import datetime as dt
from typing import Literal

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


# ---- a chapter's managers: applications, decisions, invitations ---------------------------


class MemberOut(Schema):
    membership_id: int
    name: str
    school: str
    graduation_year: int | None
    status: str
    created_at: dt.datetime


class StatusFilterIn(SmallPageIn):
    status: Literal["pending", "active", "invited"] = Field(
        "pending", description="pending 待审核 · active 会员 · invited 已邀请"
    )


@router.get(
    "/{int:chapter_id}/members",
    response=list[MemberOut],
    url_name="chapter_members",
    summary="分会的入会申请、会员或邀请（分会负责人、在任大使、团市委）",
)
def chapter_members(
    request: AuthedRequest, chapter_id: int, filters: Query[StatusFilterIn]
) -> list[MemberOut]:
    chapter = selectors.chapter_get_for_manager(viewer=request.user, chapter_id=chapter_id)
    rows = selectors.chapter_members(chapter=chapter, status=filters.status)
    return [
        MemberOut(
            membership_id=r.membership.pk,
            name=r.name,
            school=r.school,
            graduation_year=r.graduation_year,
            status=r.membership.status,
            created_at=r.membership.created_at,
        )
        for r in rows[filters.offset : filters.offset + filters.limit]
    ]


class DecisionIn(Schema):
    approve: bool
    reason: str = Field("", max_length=300, description="不通过时必填")


@router.post(
    "/memberships/{int:membership_id}/decision",
    response=MembershipOut,
    url_name="chapter_membership_decide",
    summary="审核入会申请：通过或不通过（附原因）",
)
def membership_decide(
    request: AuthedRequest, membership_id: int, body: DecisionIn
) -> MembershipOut:
    membership = selectors.membership_get_for_manager(
        viewer=request.user, membership_id=membership_id
    )
    decided = services.membership_decide(
        actor=request.user, membership=membership, approve=body.approve, reason=body.reason
    )
    return _membership_out(decided)


class InviteIn(Schema):
    phone: str = Field(..., min_length=1, max_length=20, description="学子注册时的手机号")


class InviteOut(Schema):
    detail: str


@router.post(
    "/{int:chapter_id}/invitations",
    response={202: InviteOut},
    url_name="chapter_invite",
    summary="按手机号邀请学子加入分会（是否有此账号，回答都相同）",
)
def chapter_invite(request: AuthedRequest, chapter_id: int, body: InviteIn) -> Status[InviteOut]:
    chapter = selectors.chapter_get_for_manager(viewer=request.user, chapter_id=chapter_id)
    services.membership_invite(actor=request.user, chapter=chapter, phone=body.phone)
    return Status(
        202, InviteOut(detail="如该手机号已注册学子账号且尚未加入本分会，对方将收到邀请。")
    )


class AnswerIn(Schema):
    accept: bool


@router.post(
    "/memberships/{int:membership_id}/answer",
    response=MembershipOut,
    url_name="chapter_invitation_respond",
    summary="接受或谢绝分会的邀请",
)
def invitation_respond(request: AuthedRequest, membership_id: int, body: AnswerIn) -> MembershipOut:
    membership = selectors.membership_get_own(user=request.user, membership_id=membership_id)
    answered = services.invitation_respond(
        user=request.user, membership=membership, accept=body.accept
    )
    return _membership_out(answered)
