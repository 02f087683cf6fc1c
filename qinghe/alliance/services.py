"""Writes for the alliance: chapters (League staff create, edit, merge and retire them) and
memberships (a student applies or is invited; a leader or League staff decide; leaving is one
step).

Every write runs in one transaction with its audit row and its messages (``notify()``), so a
refusal or a rollback leaves nothing behind. The rule "one chapter per slot" (university, city,
former school) is checked here with a Chinese answer and held by the database's partial unique
constraints, so two concurrent applications cannot both pass."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from qinghe.accounts.models import Organisation, User
from qinghe.accounts.phones import InvalidPhone, normalize_phone, phone_index
from qinghe.core.audit import audit_record
from qinghe.core.errors import ApplicationError, PermissionDenied
from qinghe.notifications.models import Category, Channel
from qinghe.notifications.services import make_key, notify
from qinghe.reference.models import University
from qinghe.talents.models import Talent

from .models import HOLDING_STATUSES, OPEN_STATUSES, SLOT_OF_KIND, Chapter, Membership, Slot
from .selectors import is_alliance_staff, is_current_ambassador, is_leader, is_member_role

MESSAGE_CHANNELS = (Channel.INBOX,)
SLOT_WORDS: dict[str, str] = {
    Slot.UNIVERSITY: "高校分会",
    Slot.PLACE: "城市分会（含驻外联络站、合作分会）",
    Slot.SCHOOL: "母校分会（高中或职业院校）",
}


def _require_staff(actor: User) -> None:
    if not is_alliance_staff(actor):
        raise PermissionDenied("只有团市委工作人员可以管理分会")


def _message(user: User, *, subject: str, body: str, key: str, url: str) -> None:
    notify(
        user=user,
        channels=MESSAGE_CHANNELS,
        category=Category.SYSTEM,
        subject=subject[:60],
        body=body,
        key=key,
        data={"url": url},
    )


def _mine_url() -> str:
    return reverse("alliance:mine")


def _manage_url(chapter: Chapter) -> str:
    return reverse("alliance:manage_detail", args=[chapter.pk])


# ---- chapters ---------------------------------------------------------------------------------


@dataclass
class ChapterData:
    name: str
    kind: str
    city: str = ""
    university: University | None = None
    school_name: str = ""
    description: str = ""

    def clean(self) -> dict[str, Any]:
        errors: dict[str, str] = {}
        name = (self.name or "").strip()
        if not name:
            errors["name"] = "请填写分会名称"
        elif len(name) > 120:
            errors["name"] = "分会名称不能超过 120 字"
        if self.kind not in Chapter.Kind.values:
            errors["kind"] = "请选择分会类型"
        city = (self.city or "").strip()
        if len(city) > 32:
            errors["city"] = "城市名称不能超过 32 字"
        school = (self.school_name or "").strip()
        if len(school) > 100:
            errors["school_name"] = "学校名称不能超过 100 字"
        if self.kind == Chapter.Kind.UNIVERSITY and self.university is None:
            errors["university"] = "高校分会请选择高校"
        if self.kind in (Chapter.Kind.HIGH_SCHOOL, Chapter.Kind.VOCATIONAL) and not school:
            errors["school_name"] = "请填写学校名称"
        if (
            self.kind in (Chapter.Kind.CITY, Chapter.Kind.OVERSEAS, Chapter.Kind.PARTNER)
            and not city
        ):
            errors["city"] = "请填写所在城市或地区"
        if len(self.description or "") > 3000:
            errors["description"] = "简介不能超过 3000 字"
        if errors:
            raise ValidationError(errors)
        if self.kind == Chapter.Kind.UNIVERSITY and self.university and not city:
            city = self.university.city
        return {
            "name": name,
            "kind": self.kind,
            "city": city,
            "university": self.university if self.kind == Chapter.Kind.UNIVERSITY else None,
            "school_name": school,
            "description": (self.description or "").strip(),
        }


def _name_taken(name: str, *, exclude_org: int | None = None) -> bool:
    qs = Organisation.objects.filter(kind=Organisation.Kind.CHAPTER, name=name)
    if exclude_org:
        qs = qs.exclude(pk=exclude_org)
    return qs.exists()


@transaction.atomic
def chapter_create(*, actor: User, data: ChapterData) -> Chapter:
    _require_staff(actor)
    fields = data.clean()
    # An organisation of that name without a chapter (e.g. an ambassador's) becomes its body.
    organisation, _ = Organisation.objects.get_or_create(
        kind=Organisation.Kind.CHAPTER, name=fields["name"]
    )
    if Chapter.objects.filter(organisation=organisation).exists():
        raise ValidationError({"name": "已有同名分会"})
    organisation.is_active = True
    organisation.save(update_fields=["is_active", "updated_at"])
    chapter = Chapter.objects.create(organisation=organisation, created_by=actor, **fields)
    audit_record(
        action="alliance.chapter_create",
        actor=actor,
        target=chapter,
        summary=f"创建分会：{chapter.name}（{chapter.get_kind_display()}）",
    )
    return chapter


@transaction.atomic
def chapter_update(*, actor: User, chapter: Chapter, data: ChapterData) -> bool:
    _require_staff(actor)
    chapter = Chapter.objects.select_for_update().get(pk=chapter.pk)
    if not chapter.is_active:
        raise ApplicationError(f"分会{chapter.get_state_display()}，不能再修改")
    fields = data.clean()
    if fields["kind"] != chapter.kind and SLOT_OF_KIND[fields["kind"]] != chapter.slot:
        if Membership.objects.filter(chapter=chapter, status__in=OPEN_STATUSES).exists():
            raise ValidationError({"kind": "分会已有会员或申请，不能改为另一类归属的分会"})
    if fields["name"] != chapter.name and _name_taken(
        fields["name"], exclude_org=chapter.organisation_id
    ):
        raise ValidationError({"name": "已有同名分会"})
    changed = [k for k, v in fields.items() if getattr(chapter, k) != v]
    if not changed:
        return False
    for key in changed:
        setattr(chapter, key, fields[key])
    chapter.save(update_fields=[*changed, "updated_at"])
    if "name" in changed:
        Organisation.objects.filter(pk=chapter.organisation_id).update(name=chapter.name)
    audit_record(
        action="alliance.chapter_update",
        actor=actor,
        target=chapter,
        summary=f"修改分会：{chapter.name}",
        data={"fields": changed},
    )
    return True


def _sync_talent_chapter(user: User) -> None:
    """The talent record's single ``chapter`` (used by the talent list filter and liaison
    assignment rules) follows the memberships: kept while still a member there, else the
    first active membership's chapter (university before city before school), else none."""
    talent = Talent.objects.filter(user=user, merged_into__isnull=True).first()
    if talent is None:
        return
    active = list(
        Membership.objects.filter(
            user=user, status=Membership.Status.ACTIVE, chapter__state=Chapter.State.ACTIVE
        ).values_list("chapter__organisation_id", "slot")
    )
    orgs = [org for org, _slot in active]
    if talent.chapter_id in orgs:
        return
    order: list[str] = [Slot.UNIVERSITY, Slot.PLACE, Slot.SCHOOL]
    active.sort(key=lambda pair: order.index(pair[1]) if pair[1] in order else 9)
    new = active[0][0] if active else None
    if talent.chapter_id != new:
        Talent.objects.filter(pk=talent.pk).update(chapter_id=new)


def _end_open_memberships(chapter: Chapter, *, note: str) -> list[tuple[Membership, str]]:
    """Ends every open membership of a chapter; returns each with its status before."""
    now = timezone.now()
    ended = list(
        Membership.objects.select_for_update()
        .filter(chapter=chapter, status__in=OPEN_STATUSES)
        .select_related("user")
    )
    out = []
    for m in ended:
        out.append((m, m.status))
        m.status = Membership.Status.ENDED
        m.ended_at = now
        m.note = note[:300]
        m.save(update_fields=["status", "ended_at", "note", "updated_at"])
    return out


@transaction.atomic
def chapter_retire(*, actor: User, chapter: Chapter, reason: str) -> Chapter:
    _require_staff(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写撤销原因"})
    chapter = Chapter.objects.select_for_update().get(pk=chapter.pk)
    if not chapter.is_active:
        raise ApplicationError(f"分会{chapter.get_state_display()}，不能撤销")
    ended = _end_open_memberships(chapter, note=f"分会已撤销：{reason}")
    chapter.state = Chapter.State.RETIRED
    chapter.closed_at = timezone.now()
    chapter.close_reason = reason[:300]
    chapter.save(update_fields=["state", "closed_at", "close_reason", "updated_at"])
    Organisation.objects.filter(pk=chapter.organisation_id).update(is_active=False)
    audit_record(
        action="alliance.chapter_retire",
        actor=actor,
        target=chapter,
        summary=f"撤销分会：{chapter.name}",
        reason=reason,
        count=len(ended),
    )
    for m, before in ended:
        _sync_talent_chapter(m.user)
        if before == Membership.Status.INVITED:
            continue
        _message(
            m.user,
            subject=f"{chapter.name}已撤销",
            body=f"{chapter.name}已撤销（{reason}）。你可以在“我的分会”申请加入其他分会。",
            key=make_key("chapter-retired", chapter.pk, m.pk),
            url=reverse("alliance:list"),
        )
    return chapter


@transaction.atomic
def chapter_merge(*, actor: User, source: Chapter, target: Chapter, reason: str = "") -> int:
    """Moves the source chapter's members into the target and closes the source. A member who
    already belongs to the target stays as they are; one who holds the target's slot elsewhere
    is told so instead of being moved. Returns how many members moved."""
    _require_staff(actor)
    if source.pk == target.pk:
        raise ValidationError({"target": "不能并入分会自身"})
    locked = {
        c.pk: c for c in Chapter.objects.select_for_update().filter(pk__in=[source.pk, target.pk])
    }
    source, target = locked[source.pk], locked[target.pk]
    if not source.is_active:
        raise ApplicationError(f"{source.name}{source.get_state_display()}，不能再合并")
    if not target.is_active:
        raise ValidationError({"target": f"{target.name}{target.get_state_display()}，不能并入"})
    reason = (reason or "").strip()
    ended = _end_open_memberships(source, note=f"已并入{target.name}")
    now = timezone.now()
    moved = 0
    for m, before in ended:
        if before == Membership.Status.PENDING:
            _message(
                m.user,
                subject=f"{source.name}已并入{target.name}",
                body=f"{source.name}已并入{target.name}，你的入会申请已失效，可申请加入{target.name}。",
                key=make_key("chapter-merged-pending", source.pk, m.pk),
                url=reverse("alliance:detail", args=[target.pk]),
            )
        if before != Membership.Status.ACTIVE:
            continue  # applications and invitations to the old chapter lapse
        already = Membership.objects.filter(
            user=m.user, chapter=target, status__in=OPEN_STATUSES
        ).first()
        if already is not None and already.status == Membership.Status.ACTIVE:
            continue
        holds_slot = (
            Membership.objects.filter(user=m.user, slot=target.slot, status__in=HOLDING_STATUSES)
            .exclude(chapter=target)
            .exists()
        )
        if holds_slot:
            _message(
                m.user,
                subject=f"{source.name}已并入{target.name}",
                body=(
                    f"{source.name}已并入{target.name}。你已是另一个{SLOT_WORDS[target.slot]}的会员，"
                    "因此未自动转入。"
                ),
                key=make_key("chapter-merged-kept", source.pk, m.pk),
                url=_mine_url(),
            )
            continue
        if already is not None:  # a pending application or an invitation: it becomes membership
            already.status = Membership.Status.ACTIVE
            already.joined_at = now
            already.decided_at = now
            already.decided_by = actor
            already.note = f"由{source.name}并入"
            already.save(
                update_fields=[
                    "status",
                    "joined_at",
                    "decided_at",
                    "decided_by",
                    "note",
                    "updated_at",
                ]
            )
        else:
            Membership.objects.create(
                chapter=target,
                user=m.user,
                slot=target.slot,
                status=Membership.Status.ACTIVE,
                joined_at=now,
                decided_at=now,
                decided_by=actor,
                note=f"由{source.name}并入",
            )
        moved += 1
        _message(
            m.user,
            subject=f"{source.name}已并入{target.name}",
            body=f"{source.name}已并入{target.name}，你已自动成为{target.name}的会员。",
            key=make_key("chapter-merged", source.pk, m.pk),
            url=reverse("alliance:detail", args=[target.pk]),
        )
    source.state = Chapter.State.MERGED
    source.merged_into = target
    source.closed_at = now
    source.close_reason = (reason or f"并入{target.name}")[:300]
    source.save(update_fields=["state", "merged_into", "closed_at", "close_reason", "updated_at"])
    Organisation.objects.filter(pk=source.organisation_id).update(is_active=False)
    Talent.objects.filter(chapter_id=source.organisation_id).update(
        chapter_id=target.organisation_id
    )
    for m, _before in ended:
        _sync_talent_chapter(m.user)
    audit_record(
        action="alliance.chapter_merge",
        actor=actor,
        target=source,
        summary=f"合并分会：{source.name} → {target.name}",
        reason=reason,
        count=moved,
        data={"target": target.pk},
    )
    return moved


# ---- memberships ------------------------------------------------------------------------------


def _check_slot_free(user: User, chapter: Chapter) -> None:
    other = (
        Membership.objects.filter(user=user, slot=chapter.slot, status__in=HOLDING_STATUSES)
        .exclude(chapter=chapter)
        .select_related("chapter")
        .first()
    )
    if other is not None:
        verb = "已申请加入" if other.status == Membership.Status.PENDING else "已是"
        tail = "" if other.status == Membership.Status.PENDING else "的会员"
        raise ApplicationError(
            f"你{verb}{other.chapter.name}{tail}。每位学子只能加入一个{SLOT_WORDS[chapter.slot]}，"
            "如需更换请先退出或撤回申请。"
        )


def _leaders(chapter: Chapter) -> list[User]:
    return [
        m.user
        for m in Membership.objects.filter(
            chapter=chapter, status=Membership.Status.ACTIVE, role=Membership.Role.LEADER
        ).select_related("user")
    ]


def _lock_user(user: User) -> None:
    # Serialises one student's membership writes (two tabs, two requests).
    User.objects.select_for_update().filter(pk=user.pk).first()


@transaction.atomic
def membership_apply(*, user: User, chapter: Chapter) -> Membership:
    """A student applies to join; an invitation from the chapter is accepted instead."""
    if not is_member_role(user):
        raise PermissionDenied("只有学子可以申请加入分会")
    _lock_user(user)
    chapter = Chapter.objects.get(pk=chapter.pk)
    if not chapter.is_active:
        raise ApplicationError(f"{chapter.name}{chapter.get_state_display()}，不能再加入")
    current = Membership.objects.filter(
        user=user, chapter=chapter, status__in=OPEN_STATUSES
    ).first()
    if current is not None and current.status == Membership.Status.INVITED:
        return _accept_invitation(user=user, membership=current)
    if current is not None:
        raise ApplicationError(
            "你已是该分会会员"
            if current.status == Membership.Status.ACTIVE
            else "你已提交申请，请等待审核"
        )
    _check_slot_free(user, chapter)
    try:
        with transaction.atomic():
            membership = Membership.objects.create(
                chapter=chapter, user=user, slot=chapter.slot, status=Membership.Status.PENDING
            )
    except IntegrityError as exc:
        raise ApplicationError("你已提交过申请，请刷新页面查看") from exc
    audit_record(
        action="alliance.membership_apply",
        actor=user,
        target=membership,
        summary=f"申请加入{chapter.name}",
    )
    for leader in _leaders(chapter):
        _message(
            leader,
            subject=f"{chapter.name}有新的入会申请",
            body=f"{user.display_name or user.username} 申请加入{chapter.name}，请及时审核。",
            key=make_key("chapter-apply", membership.pk, leader.pk),
            url=_manage_url(chapter),
        )
    return membership


def _activate(membership: Membership, *, decided_by: User | None) -> None:
    now = timezone.now()
    membership.status = Membership.Status.ACTIVE
    membership.joined_at = now
    membership.decided_at = now
    membership.decided_by = decided_by
    membership.save(update_fields=["status", "joined_at", "decided_at", "decided_by", "updated_at"])
    _sync_talent_chapter(membership.user)


def _accept_invitation(*, user: User, membership: Membership) -> Membership:
    chapter = membership.chapter
    _check_slot_free(user, chapter)
    try:
        with transaction.atomic():
            _activate(membership, decided_by=membership.invited_by)
    except IntegrityError as exc:
        raise ApplicationError("你已加入同类分会，请刷新页面查看") from exc
    audit_record(
        action="alliance.invitation_accept",
        actor=user,
        target=membership,
        summary=f"接受邀请，加入{chapter.name}",
    )
    if membership.invited_by is not None:
        _message(
            membership.invited_by,
            subject=f"{user.display_name or user.username} 已加入{chapter.name}",
            body=f"你邀请的 {user.display_name or user.username} 已接受邀请，加入{chapter.name}。",
            key=make_key("chapter-invite-accepted", membership.pk),
            url=_manage_url(chapter),
        )
    return membership


@transaction.atomic
def invitation_respond(*, user: User, membership: Membership, accept: bool) -> Membership:
    _lock_user(user)
    membership = (
        Membership.objects.select_for_update().select_related("chapter").get(pk=membership.pk)
    )
    if membership.user_id != user.pk:
        raise PermissionDenied("这不是给你的邀请")
    if membership.status != Membership.Status.INVITED:
        raise ApplicationError(f"该邀请{membership.get_status_display()}，无需再处理")
    if not membership.chapter.is_active:
        raise ApplicationError(f"{membership.chapter.name}{membership.chapter.get_state_display()}")
    if accept:
        return _accept_invitation(user=user, membership=membership)
    membership.status = Membership.Status.DECLINED
    membership.ended_at = timezone.now()
    membership.save(update_fields=["status", "ended_at", "updated_at"])
    audit_record(
        action="alliance.invitation_decline",
        actor=user,
        target=membership,
        summary=f"谢绝{membership.chapter.name}的邀请",
    )
    return membership


def _require_manager(actor: User, chapter: Chapter) -> None:
    if is_alliance_staff(actor):
        return
    if is_leader(user=actor, chapter=chapter):
        return
    raise PermissionDenied("只有分会负责人或团市委工作人员可以处理")


@transaction.atomic
def membership_invite(*, actor: User, chapter: Chapter, phone: str) -> Membership | None:
    """Invites the student whose account has this phone (staff, the chapter's leaders and this
    year's ambassador may). Answers alike whether or not such an
    account exists (None when not), so the form cannot be used to probe for accounts."""
    chapter = Chapter.objects.select_for_update().get(pk=chapter.pk)
    if not is_current_ambassador(user=actor, chapter=chapter):
        _require_manager(actor, chapter)
    if not chapter.is_active:
        raise ApplicationError(f"{chapter.name}{chapter.get_state_display()}，不能邀请")
    try:
        index = phone_index(normalize_phone(phone))
    except InvalidPhone as exc:
        raise ValidationError({"phone": "请输入正确的手机号"}) from exc
    invitee = User.objects.filter(phone_index=index, is_active=True).first()
    if invitee is None or not is_member_role(invitee) or invitee.pk == actor.pk:
        return None
    if Membership.objects.filter(user=invitee, chapter=chapter, status__in=OPEN_STATUSES).exists():
        return None
    try:
        with transaction.atomic():
            membership = Membership.objects.create(
                chapter=chapter,
                user=invitee,
                slot=chapter.slot,
                status=Membership.Status.INVITED,
                invited_by=actor,
            )
    except IntegrityError:
        return None
    audit_record(
        action="alliance.membership_invite",
        actor=actor,
        target=membership,
        summary=f"邀请学子加入{chapter.name}",
    )
    _message(
        invitee,
        subject=f"{chapter.name}邀请你加入",
        body=f"{actor.display_name or actor.username} 邀请你加入{chapter.name}，请在“我的分会”中接受或谢绝。",
        key=make_key("chapter-invite", membership.pk),
        url=_mine_url(),
    )
    return membership


@transaction.atomic
def membership_decide(
    *, actor: User, membership: Membership, approve: bool, reason: str = ""
) -> Membership:
    membership = (
        Membership.objects.select_for_update()
        .select_related("chapter", "user")
        .get(pk=membership.pk)
    )
    chapter = membership.chapter
    _require_manager(actor, chapter)
    if membership.status != Membership.Status.PENDING:
        raise ApplicationError(f"该申请{membership.get_status_display()}，无需再审核")
    if not chapter.is_active:
        raise ApplicationError(f"{chapter.name}{chapter.get_state_display()}")
    reason = (reason or "").strip()
    if approve:
        _activate(membership, decided_by=actor)
        subject = f"你已加入{chapter.name}"
        body = f"你加入{chapter.name}的申请已通过，欢迎加入青鹤联盟！"
    else:
        if not reason:
            raise ValidationError({"reason": "请填写不通过的原因"})
        membership.status = Membership.Status.REJECTED
        membership.decided_at = timezone.now()
        membership.decided_by = actor
        membership.note = reason[:300]
        membership.save(update_fields=["status", "decided_at", "decided_by", "note", "updated_at"])
        subject = f"{chapter.name}入会申请未通过"
        body = f"你加入{chapter.name}的申请未通过：{reason}"
    audit_record(
        action="alliance.membership_approve" if approve else "alliance.membership_reject",
        actor=actor,
        target=membership,
        summary=f"{'通过' if approve else '不通过'}入会申请：{chapter.name}",
        reason=reason,
    )
    _message(
        membership.user,
        subject=subject,
        body=body,
        key=make_key("chapter-decided", membership.pk, membership.status),
        url=_mine_url(),
    )
    return membership


@transaction.atomic
def membership_leave(*, user: User, chapter: Chapter) -> Membership:
    """Leaving (or withdrawing an application) is one step."""
    _lock_user(user)
    membership = (
        Membership.objects.select_for_update()
        .filter(user=user, chapter=chapter, status__in=HOLDING_STATUSES)
        .first()
    )
    if membership is None:
        raise ApplicationError("你不是该分会会员，也没有待审核的申请")
    was = membership.status
    membership.status = Membership.Status.LEFT
    membership.ended_at = timezone.now()
    membership.role = Membership.Role.MEMBER
    membership.save(update_fields=["status", "ended_at", "role", "updated_at"])
    _sync_talent_chapter(user)
    audit_record(
        action="alliance.membership_leave",
        actor=user,
        target=membership,
        summary=(
            f"撤回加入{chapter.name}的申请"
            if was == Membership.Status.PENDING
            else f"退出{chapter.name}"
        ),
    )
    return membership


@transaction.atomic
def leader_set(*, actor: User, membership: Membership, leader: bool) -> Membership:
    _require_staff(actor)
    membership = (
        Membership.objects.select_for_update()
        .select_related("chapter", "user")
        .get(pk=membership.pk)
    )
    if membership.status != Membership.Status.ACTIVE:
        raise ApplicationError("只有在会会员可以担任负责人")
    role = Membership.Role.LEADER if leader else Membership.Role.MEMBER
    if membership.role == role:
        raise ApplicationError("身份没有变化")
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    chapter = membership.chapter
    audit_record(
        action="alliance.leader_set" if leader else "alliance.leader_unset",
        actor=actor,
        target=membership,
        summary=f"{'设为' if leader else '取消'}{chapter.name}负责人",
    )
    _message(
        membership.user,
        subject=f"你{'已成为' if leader else '不再担任'}{chapter.name}负责人",
        body=(
            f"你已成为{chapter.name}负责人，可以审核入会申请、邀请学子加入。"
            if leader
            else f"你不再担任{chapter.name}负责人。"
        ),
        key=make_key("chapter-leader", membership.pk, role, timezone.now().isoformat()),
        url=_manage_url(chapter) if leader else _mine_url(),
    )
    return membership
