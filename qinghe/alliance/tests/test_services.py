"""Chapters and membership: the rules, the messages, the audit trail, and refusals that
change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from qinghe.accounts.models import Organisation
from qinghe.alliance import selectors, services
from qinghe.alliance.models import Chapter, Membership
from qinghe.alliance.services import ChapterData
from qinghe.core.errors import ApplicationError, NotFound, PermissionDenied
from qinghe.core.models import AuditLog
from qinghe.notifications.models import OutboxMessage
from qinghe.talents.models import Talent

from .conftest import World, make_student

pytestmark = pytest.mark.django_db


def snapshot() -> tuple[Any, ...]:
    return (
        list(Chapter.objects.order_by("pk").values_list("pk", "state", "name", "merged_into_id")),
        list(Membership.objects.order_by("pk").values_list("pk", "status", "role", "chapter_id")),
        AuditLog.objects.count(),
        OutboxMessage.objects.count(),
        list(Talent.objects.order_by("pk").values_list("pk", "chapter_id")),
    )


def test_create_sets_up_the_organisation_and_is_audited(alliance: World) -> None:
    chapter = alliance.uni
    assert chapter.organisation.kind == Organisation.Kind.CHAPTER
    assert chapter.organisation.name == "青鹤联盟·华南理工大学分会"
    # the ambassador's organisation of that name is the chapter's (one body)
    assert alliance.ambassador.organisation_id == chapter.organisation_id
    assert chapter.city == "广州"  # from the university
    log = AuditLog.objects.get(target_type="alliance.chapter", target_id=str(chapter.pk))
    assert (log.action, log.summary) == (
        "alliance.chapter_create",
        "创建分会：青鹤联盟·华南理工大学分会（高校分会）",
    )


def test_create_refusals_change_nothing(alliance: World) -> None:
    before = snapshot()
    with pytest.raises(PermissionDenied):
        services.chapter_create(
            actor=alliance.student, data=ChapterData(name="X", kind=Chapter.Kind.CITY, city="深圳")
        )
    with pytest.raises(ValidationError) as exc:
        services.chapter_create(
            actor=alliance.league, data=ChapterData(name="青鹤联盟·北大分会", kind="university")
        )
    assert exc.value.message_dict == {"university": ["高校分会请选择高校"]}
    with pytest.raises(ValidationError) as exc:
        services.chapter_create(
            actor=alliance.league,
            data=ChapterData(name="青鹤联盟·广州分会", kind=Chapter.Kind.CITY, city="广州"),
        )
    assert exc.value.message_dict == {"name": ["已有同名分会"]}
    with pytest.raises(ValidationError) as exc:
        services.chapter_create(
            actor=alliance.league, data=ChapterData(name="驻港联络站", kind=Chapter.Kind.OVERSEAS)
        )
    assert exc.value.message_dict == {"city": ["请填写所在城市或地区"]}
    assert snapshot() == before


def test_apply_then_a_leader_approves(alliance: World) -> None:
    leader = make_student("leader1")
    lm = Membership.objects.create(
        chapter=alliance.uni,
        user=leader,
        slot="university",
        status=Membership.Status.ACTIVE,
        role=Membership.Role.LEADER,
    )
    applicant = make_student("app1", university=alliance.scut, graduation_year=2027)
    m = services.membership_apply(user=applicant, chapter=alliance.uni)
    assert m.status == Membership.Status.PENDING
    assert list(
        OutboxMessage.objects.filter(user=leader).values_list("subject", "channel", "data")
    ) == [
        (
            "青鹤联盟·华南理工大学分会有新的入会申请",
            "inbox",
            {"url": f"/alliance/manage/{alliance.uni.pk}/"},
        )
    ]
    # not yet a member: the talent record keeps no chapter
    assert Talent.objects.get(user=applicant).chapter_id is None
    services.membership_decide(actor=leader, membership=m, approve=True)
    m.refresh_from_db()
    assert (m.status, m.decided_by_id) == (Membership.Status.ACTIVE, leader.pk)
    assert m.joined_at is not None
    assert Talent.objects.get(user=applicant).chapter_id == alliance.uni.organisation_id
    assert list(OutboxMessage.objects.filter(user=applicant).values_list("subject", flat=True)) == [
        "你已加入青鹤联盟·华南理工大学分会"
    ]
    assert list(
        AuditLog.objects.filter(target_type="alliance.membership", target_id=str(m.pk))
        .order_by("pk")
        .values_list("action", "actor_id")
    ) == [("alliance.membership_apply", applicant.pk), ("alliance.membership_approve", leader.pk)]
    assert lm.role == Membership.Role.LEADER


def test_one_chapter_per_slot_but_three_slots(alliance: World) -> None:
    s = make_student("s1")
    for chapter in (alliance.uni, alliance.city, alliance.school):
        services.membership_apply(user=s, chapter=chapter)
    assert sorted(Membership.objects.filter(user=s).values_list("slot", "status")) == [
        ("place", "pending"),
        ("school", "pending"),
        ("university", "pending"),
    ]
    before = snapshot()
    with pytest.raises(ApplicationError) as exc:
        services.membership_apply(user=s, chapter=alliance.uni2)
    assert str(exc.value) == (
        "你已申请加入青鹤联盟·华南理工大学分会。每位学子只能加入一个高校分会，如需更换请先退出或撤回申请。"
    )
    with pytest.raises(ApplicationError) as exc:
        services.membership_apply(user=s, chapter=alliance.uni)
    assert str(exc.value) == "你已提交申请，请等待审核"
    assert snapshot() == before
    # withdrawing frees the slot
    services.membership_leave(user=s, chapter=alliance.uni)
    assert services.membership_apply(user=s, chapter=alliance.uni2).status == "pending"


def test_the_database_holds_one_per_slot(alliance: World) -> None:
    from django.db import IntegrityError, transaction

    s = make_student("s2")
    Membership.objects.create(chapter=alliance.uni, user=s, slot="university", status="active")
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(
            chapter=alliance.uni2, user=s, slot="university", status="pending"
        )


def test_leaving_is_one_step_and_moves_the_talent_chapter(alliance: World) -> None:
    s = make_student("s3", university=alliance.scut)
    for chapter in (alliance.uni, alliance.city):
        m = services.membership_apply(user=s, chapter=chapter)
        services.membership_decide(actor=alliance.league, membership=m, approve=True)
    assert Talent.objects.get(user=s).chapter_id == alliance.uni.organisation_id
    left = services.membership_leave(user=s, chapter=alliance.uni)
    assert left.status == Membership.Status.LEFT
    assert Talent.objects.get(user=s).chapter_id == alliance.city.organisation_id
    services.membership_leave(user=s, chapter=alliance.city)
    assert Talent.objects.get(user=s).chapter_id is None
    before = snapshot()
    with pytest.raises(ApplicationError) as exc:
        services.membership_leave(user=s, chapter=alliance.city)
    assert str(exc.value) == "你不是该分会会员，也没有待审核的申请"
    assert snapshot() == before


def test_rejection_needs_a_reason_and_only_managers_decide(alliance: World) -> None:
    s = make_student("s4")
    other_leader = make_student("other_leader")
    Membership.objects.create(
        chapter=alliance.uni2, user=other_leader, slot="university", status="active", role="leader"
    )
    m = services.membership_apply(user=s, chapter=alliance.uni)
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        services.membership_decide(actor=alliance.league, membership=m, approve=False)
    assert exc.value.message_dict == {"reason": ["请填写不通过的原因"]}
    with pytest.raises(PermissionDenied):
        services.membership_decide(actor=other_leader, membership=m, approve=True)
    with pytest.raises(NotFound):
        selectors.membership_get_for_manager(viewer=other_leader, membership_id=m.pk)
    with pytest.raises(PermissionDenied):
        services.membership_decide(actor=s, membership=m, approve=True)
    assert snapshot() == before
    services.membership_decide(
        actor=alliance.league, membership=m, approve=False, reason="非本校学生"
    )
    m.refresh_from_db()
    assert (m.status, m.note) == ("rejected", "非本校学生")
    assert OutboxMessage.objects.filter(user=s).get().body == (
        "你加入青鹤联盟·华南理工大学分会的申请未通过：非本校学生"
    )
    with pytest.raises(ApplicationError):
        services.membership_decide(actor=alliance.league, membership=m, approve=True)


def test_invitation_by_phone_answers_alike(alliance: World) -> None:
    invitee = make_student("inv1", phone="13912345678")
    before = snapshot()
    assert (
        services.membership_invite(
            actor=alliance.league, chapter=alliance.city, phone="13900000000"
        )
        is None
    )
    assert snapshot() == before
    with pytest.raises(ValidationError):
        services.membership_invite(actor=alliance.league, chapter=alliance.city, phone="12")
    m = services.membership_invite(
        actor=alliance.league, chapter=alliance.city, phone="139 1234 5678"
    )
    assert m is not None and m.status == "invited" and m.user_id == invitee.pk
    assert OutboxMessage.objects.get(user=invitee).subject == "青鹤联盟·广州分会邀请你加入"
    # a second invitation is silently not repeated
    assert (
        services.membership_invite(
            actor=alliance.league, chapter=alliance.city, phone="13912345678"
        )
        is None
    )
    # an invitation holds no slot; accepting it does
    services.invitation_respond(user=invitee, membership=m, accept=True)
    m.refresh_from_db()
    assert m.status == "active"
    assert OutboxMessage.objects.filter(user=alliance.league).values_list(
        "subject", flat=True
    ).get() == ("学子inv1 已加入青鹤联盟·广州分会")


def test_invitation_refused_when_the_slot_is_taken(alliance: World) -> None:
    invitee = make_student("inv2", phone="13912345679")
    services.membership_apply(user=invitee, chapter=alliance.uni2)
    m = services.membership_invite(actor=alliance.league, chapter=alliance.uni, phone="13912345679")
    assert m is not None
    before = snapshot()
    with pytest.raises(ApplicationError):
        services.invitation_respond(user=invitee, membership=m, accept=True)
    assert snapshot() == before
    services.invitation_respond(user=invitee, membership=m, accept=False)
    m.refresh_from_db()
    assert m.status == "declined"


def test_merge_moves_active_members(alliance: World) -> None:
    a = make_student("m1", university=alliance.scut)
    b = make_student("m2")
    c = make_student("m3")
    for s in (a, b):
        m = services.membership_apply(user=s, chapter=alliance.uni)
        services.membership_decide(actor=alliance.league, membership=m, approve=True)
    # b already belongs to the target
    mb2 = Membership.objects.create(
        chapter=alliance.uni2, user=c, slot="university", status="pending"
    )
    pending = services.membership_apply(user=make_student("m4"), chapter=alliance.uni)
    moved = services.chapter_merge(
        actor=alliance.league, source=alliance.uni, target=alliance.uni2, reason="两校合办"
    )
    assert moved == 2
    alliance.uni.refresh_from_db()
    assert (alliance.uni.state, alliance.uni.merged_into_id) == ("merged", alliance.uni2.pk)
    assert sorted(
        Membership.objects.filter(chapter=alliance.uni2, status="active").values_list(
            "user__username", flat=True
        )
    ) == ["m1", "m2"]
    assert (
        Membership.objects.filter(chapter=alliance.uni, status__in=["active", "pending"]).count()
        == 0
    )
    pending.refresh_from_db()
    assert pending.status == "ended"
    mb2.refresh_from_db()
    assert mb2.status == "pending"
    assert Talent.objects.get(user=a).chapter_id == alliance.uni2.organisation_id
    assert not Organisation.objects.get(pk=alliance.uni.organisation_id).is_active
    assert (
        OutboxMessage.objects.filter(
            subject="青鹤联盟·华南理工大学分会已并入青鹤联盟·中山大学分会"
        ).count()
        == 3
    )
    before = snapshot()
    with pytest.raises(ApplicationError):
        services.chapter_merge(actor=alliance.league, source=alliance.uni, target=alliance.city)
    assert snapshot() == before


def test_retire_ends_memberships(alliance: World) -> None:
    s = make_student("r1")
    m = services.membership_apply(user=s, chapter=alliance.school)
    services.membership_decide(actor=alliance.league, membership=m, approve=True)
    before = snapshot()
    with pytest.raises(ValidationError):
        services.chapter_retire(actor=alliance.league, chapter=alliance.school, reason=" ")
    with pytest.raises(PermissionDenied):
        services.chapter_retire(actor=s, chapter=alliance.school, reason="x")
    assert snapshot() == before
    services.chapter_retire(actor=alliance.league, chapter=alliance.school, reason="学校合并")
    m.refresh_from_db()
    assert (m.status, m.note) == ("ended", "分会已撤销：学校合并")
    with pytest.raises(NotFound):
        selectors.chapter_get_public(chapter_id=alliance.school.pk)
    with pytest.raises(ApplicationError):
        services.membership_apply(user=make_student("r2"), chapter=alliance.school)


def test_figures_count_members_as_they_are(alliance: World) -> None:
    rows = [
        ("f1", alliance.scut, 2026, alliance.uni),
        ("f2", alliance.scut, 2027, alliance.uni),
        ("f3", alliance.sysu, 2027, alliance.uni2),
        ("f4", None, None, alliance.school),
    ]
    for username, uni, year, chapter in rows:
        s = make_student(username, university=uni, graduation_year=year)
        m = services.membership_apply(user=s, chapter=chapter)
        services.membership_decide(actor=alliance.league, membership=m, approve=True)
    # f1 also joins the city chapter: still one member
    f1 = Membership.objects.get(user__username="f1").user
    m = services.membership_apply(user=f1, chapter=alliance.city)
    services.membership_decide(actor=alliance.league, membership=m, approve=True)
    services.membership_apply(user=make_student("f5"), chapter=alliance.city)  # pending
    f = selectors.alliance_figures()
    assert (f.members, f.chapters, f.pending) == (4, 4, 1)
    assert f.by_university == [("华南理工大学", 2), ("中山大学", 1), ("未填写院校", 1)]
    assert f.by_city == [("广州", 3), ("未知城市", 1)]
    assert f.by_year == [("2026", 1), ("2027", 2), ("未填写", 1)]
    assert (f.universities, f.cities) == (2, 1)
    services.membership_leave(user=f1, chapter=alliance.uni)
    services.membership_leave(user=f1, chapter=alliance.city)
    assert selectors.alliance_figures().members == 3
