"""Writes for liaison work, consultations and campaigns. Messages go through
``qinghe.notifications.services.notify*`` inside the same transaction as the change."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from qinghe.accounts.models import Organisation, User
from qinghe.core.audit import audit_record
from qinghe.core.errors import ApplicationError, NotFound
from qinghe.core.roles import Role
from qinghe.notifications.models import Category, Channel
from qinghe.notifications.services import Audience, make_key, notify, notify_bulk_count
from qinghe.talents.models import Destination, Education, PhoneNumber, Source, Talent
from qinghe.talents.selectors import segment_members
from qinghe.talents.services import EDITABLE_FIELDS, talent_update

from .models import AssignmentRule, Campaign, Consultation, ContactLog, LiaisonAssignment
from .selectors import liaison_talent_get

# ---- assignment ---------------------------------------------------------------------------


def _liaison(user_id: int) -> User:
    user = User.objects.filter(pk=user_id, role=Role.LIAISON, is_active=True).first()
    if user is None:
        raise ValidationError({"liaison": "请选择在岗的服务专员"})
    return user


@transaction.atomic
def assignment_set(
    *, talent: Talent, liaison: User, actor: User | None, reason: str = ""
) -> LiaisonAssignment:
    now = timezone.now()
    LiaisonAssignment.objects.select_for_update().filter(talent=talent, active=True).update(
        active=False, ended_at=now
    )
    return LiaisonAssignment.objects.create(
        talent=talent, liaison=liaison, assigned_at=now, reason=reason, assigned_by=actor
    )


def _loads() -> Counter[int]:
    rows = LiaisonAssignment.objects.filter(active=True).values("liaison").annotate(n=Count("id"))
    return Counter({row["liaison"]: row["n"] for row in rows})


@transaction.atomic
def assignments_apply_rules(*, actor: User) -> int:
    """Gives every unassigned active talent a liaison: the first rule that matches its
    university, town, city (of its university or its work) or alliance chapter names the
    candidates, the least loaded of them gets it."""
    rules = list(AssignmentRule.objects.prefetch_related("liaisons"))
    if not rules:
        raise ApplicationError("还没有分配规则")
    loads = _loads()
    unassigned = Talent.objects.filter(merged_into__isnull=True).exclude(
        liaison_assignments__active=True
    )
    universities: dict[int, set[str]] = {}
    for talent_id, name in Education.objects.filter(talent__in=unassigned).values_list(
        "talent_id", "university_name"
    ):
        universities.setdefault(talent_id, set()).add(name)
    places: dict[int, list[str]] = {}
    for talent_id, city, province in Education.objects.filter(talent__in=unassigned).values_list(
        "talent_id", "university__city", "university__province"
    ):
        places.setdefault(talent_id, []).extend(p for p in (city, province) if p)
    for talent_id, region in Destination.objects.filter(talent__in=unassigned).values_list(
        "talent_id", "region_text"
    ):
        if region:
            places.setdefault(talent_id, []).append(region)
    now = timezone.now()
    rows: list[LiaisonAssignment] = []
    for talent_id, town_code, chapter in unassigned.values_list(
        "pk", "town__code", "chapter__name"
    ):
        for rule in rules:
            kind = rule.kind
            hit = (
                (kind == AssignmentRule.Kind.TOWN and town_code == rule.value)
                or (
                    kind == AssignmentRule.Kind.UNIVERSITY
                    and rule.value in universities.get(talent_id, set())
                )
                or (kind == AssignmentRule.Kind.CHAPTER and bool(chapter) and chapter == rule.value)
                or (
                    kind == AssignmentRule.Kind.CITY
                    and any(rule.value in p for p in places.get(talent_id, []))
                )
            )
            candidates = [u for u in rule.liaisons.all() if u.is_active]
            if hit and candidates:
                chosen = min(candidates, key=lambda u: (loads[u.pk], u.pk))
                loads[chosen.pk] += 1
                rows.append(
                    LiaisonAssignment(
                        talent_id=talent_id,
                        liaison=chosen,
                        assigned_at=now,
                        reason=f"规则：{rule.get_kind_display()} {rule.value}",
                        assigned_by=actor,
                    )
                )
                break
    LiaisonAssignment.objects.bulk_create(rows, batch_size=2000)
    audit_record(
        action="bulk",
        actor=actor,
        target_type="outreach.liaisonassignment",
        summary="按规则分配服务专员",
        count=len(rows),
    )
    return len(rows)


@transaction.atomic
def assignments_bulk_reassign(*, from_id: int, to_id: int, actor: User, reason: str) -> int:
    """Moves every active student of one liaison to another; the old rows are ended, not
    changed, so the history shows who followed whom and when."""
    if not reason.strip():
        raise ValidationError({"reason": "请填写调整原因"})
    target = _liaison(to_id)
    if from_id == target.pk:
        raise ValidationError({"to": "请选择另一位专员"})
    now = timezone.now()
    moving = list(
        LiaisonAssignment.objects.select_for_update()
        .filter(liaison_id=from_id, active=True)
        .values_list("talent_id", flat=True)
    )
    LiaisonAssignment.objects.filter(liaison_id=from_id, active=True).update(
        active=False, ended_at=now
    )
    LiaisonAssignment.objects.bulk_create(
        [
            LiaisonAssignment(
                talent_id=t, liaison=target, assigned_at=now, reason=reason[:200], assigned_by=actor
            )
            for t in moving
        ],
        batch_size=2000,
    )
    audit_record(
        action="bulk",
        actor=actor,
        target_type="outreach.liaisonassignment",
        summary=f"批量调整专员 {from_id}→{target.pk}",
        reason=reason,
        count=len(moving),
    )
    return len(moving)


@transaction.atomic
def assignment_rule_add(
    *, kind: str, value: str, liaison_ids: list[int], actor: User
) -> AssignmentRule:
    if kind not in AssignmentRule.Kind.values or not value.strip():
        raise ValidationError({"value": "请选择依据并填写高校名称或镇街代码"})
    liaisons = [_liaison(i) for i in liaison_ids]
    if not liaisons:
        raise ValidationError({"liaisons": "请至少选择一位专员"})
    rule = AssignmentRule.objects.create(kind=kind, value=value.strip()[:120])
    rule.liaisons.set(liaisons)
    audit_record(action="create", actor=actor, target=rule, summary=f"分配规则 {kind} {value}")
    return rule


# ---- contact logs -------------------------------------------------------------------------


@transaction.atomic
def contact_log_record(
    *,
    liaison: User,
    talent_id: int,
    channel: str,
    outcome: str,
    notes: str = "",
    next_follow_up: dt.date | None = None,
    updates: dict[str, str] | None = None,
) -> ContactLog:
    """One step: the contact, its outcome, the next follow-up, and what the student said
    (applied to the record with the liaison as its source). A wrong number is flagged."""
    talent = liaison_talent_get(liaison=liaison, talent_id=talent_id)
    if channel not in ContactLog.Channel.values:
        raise ValidationError({"channel": "请选择联络方式"})
    if outcome not in ContactLog.Outcome.values:
        raise ValidationError({"outcome": "请选择联络结果"})
    if next_follow_up and next_follow_up < timezone.localdate():
        raise ValidationError({"next_follow_up": "下次跟进日期不能早于今天"})
    ContactLog.objects.filter(talent=talent, follow_up_done=False).update(follow_up_done=True)
    log = ContactLog.objects.create(
        talent=talent,
        liaison=liaison,
        channel=channel,
        outcome=outcome,
        notes=notes.strip()[:2000],
        next_follow_up=next_follow_up,
    )
    if outcome == ContactLog.Outcome.WRONG_NUMBER:
        PhoneNumber.objects.filter(talent=talent, is_current=True).update(is_wrong=True)
    changes = {
        k: v.strip() for k, v in (updates or {}).items() if k in EDITABLE_FIELDS and v and v.strip()
    }
    if changes:
        talent_update(
            talent=talent,
            data=changes,
            source=Source.LIAISON,
            actor=liaison,
            ref=f"contact:{log.pk}",
        )
    return log


# ---- consultations ------------------------------------------------------------------------


def _staff_channels() -> list[str]:
    return [Channel.INBOX]


@transaction.atomic
def consultation_order(*, student: User, topic: str, question: str) -> Consultation:
    talent = Talent.objects.filter(user=student, merged_into__isnull=True).first()
    if talent is None:
        raise ApplicationError("请先认领你的档案，再提交咨询")
    if topic not in Consultation.Topic.values:
        raise ValidationError({"topic": "请选择咨询主题"})
    if not question.strip():
        raise ValidationError({"question": "请填写问题"})
    assignment = (
        LiaisonAssignment.objects.filter(talent=talent, active=True)
        .select_related("liaison")
        .first()
    )
    station = None
    if assignment is None:
        station = (
            Organisation.objects.filter(kind=Organisation.Kind.STATION, is_active=True)
            .order_by("id")
            .first()
        )
    c = Consultation.objects.create(
        talent=talent,
        student=student,
        topic=topic,
        question=question.strip()[:2000],
        liaison=assignment.liaison if assignment else None,
        station=station,
        due_at=timezone.now() + dt.timedelta(hours=settings.OUTREACH_CONSULTATION_SLA_HOURS),
    )
    recipients = (
        [assignment.liaison]
        if assignment
        else list(User.objects.filter(organisation=station, is_active=True))
        if station
        else []
    )
    for user in recipients:
        notify(
            user=user,
            channels=_staff_channels(),
            category=Category.CONSULTATION,
            subject=f"新的点单咨询：{c.get_topic_display()}",
            body="有学子提交了咨询，请在时限内答复。",
            key=make_key("consultation-new", c.pk),
            data={"url": reverse("outreach:consultations"), "consultation": c.pk},
        )
    return c


@transaction.atomic
def consultation_answer(*, viewer: User, consultation_id: int, answer: str) -> Consultation:
    from .selectors import consultation_get_for_staff

    c = consultation_get_for_staff(viewer=viewer, consultation_id=consultation_id)
    c = Consultation.objects.select_for_update().get(pk=c.pk)
    if c.state == Consultation.State.CLOSED:
        raise ApplicationError("该咨询已办结")
    if not answer.strip():
        raise ValidationError({"answer": "请填写答复"})
    c.answer = answer.strip()[:4000]
    c.answered_by = viewer
    c.answered_at = timezone.now()
    c.state = Consultation.State.ANSWERED
    c.save(update_fields=["answer", "answered_by", "answered_at", "state"])
    notify(
        user=c.student,
        channels=[Channel.INBOX, Channel.EMAIL, Channel.SMS],
        category=Category.CONSULTATION,
        subject=f"你的咨询已答复：{c.get_topic_display()}",
        body="你的点单咨询已有答复，请登录青鹤平台查看并评价。",
        key=make_key("consultation-answered", c.pk, c.answered_at.isoformat()),
        data={"url": reverse("outreach:my_consultations"), "consultation": c.pk},
    )
    return c


@transaction.atomic
def consultation_rate(
    *, student: User, consultation_id: int, rating: int, comment: str = ""
) -> Consultation:
    from .selectors import consultation_get_for_student

    c = consultation_get_for_student(student=student, consultation_id=consultation_id)
    c = Consultation.objects.select_for_update().get(pk=c.pk)
    if c.state != Consultation.State.ANSWERED:
        raise ApplicationError("答复之后才能评价")
    if rating not in range(1, 6):
        raise ValidationError({"rating": "评分为 1 到 5 星"})
    c.rating = rating
    c.rating_comment = comment.strip()[:300]
    c.state = Consultation.State.CLOSED
    c.closed_at = timezone.now()
    c.save(update_fields=["rating", "rating_comment", "state", "closed_at"])
    return c


# ---- campaigns ----------------------------------------------------------------------------

CAMPAIGN_CATEGORY: dict[str, str] = {
    Campaign.Kind.NEWS: Category.NEWS,
    Campaign.Kind.POLICY: Category.POLICY,
    Campaign.Kind.JOBS: Category.JOBS,
    Campaign.Kind.EVENT: Category.EVENT,
    Campaign.Kind.CONFIRM: Category.CONFIRM,
}


@transaction.atomic
def campaign_create(
    *, actor: User, segment: Any, kind: str, title: str, body: str, channels: list[str]
) -> Campaign:
    channels = [c for c in Channel.values if c in channels]
    if kind not in Campaign.Kind.values:
        raise ValidationError({"kind": "请选择推送类型"})
    if not title.strip() or not body.strip():
        raise ValidationError({"title": "请填写标题与内容"})
    if not channels:
        raise ValidationError({"channels": "请至少选择一个渠道"})
    c = Campaign.objects.create(
        kind=kind,
        title=title.strip()[:120],
        body=body.strip()[:2000],
        segment=segment,
        channels=channels,
        created_by=actor,
    )
    audit_record(action="create", actor=actor, target=c, summary=f"推送 {c.title}")
    return c


def _recipient_ids(campaign: Campaign) -> list[int]:
    members = segment_members(viewer=campaign.segment.owner, segment=campaign.segment)
    return list(
        members.filter(user__isnull=False, user__is_active=True)
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )


def campaign_preview(*, campaign: Campaign) -> dict[str, Any]:
    """Recipients per channel after consent and preferences: exactly what sending queues."""
    user_ids = _recipient_ids(campaign)
    audience = Audience.load(user_ids)
    category = CAMPAIGN_CATEGORY[campaign.kind]
    per_channel = {
        ch: sum(1 for u in user_ids if audience.allows(u, ch, category)) for ch in campaign.channels
    }
    return {
        "members": len(user_ids),
        "channels": [(Channel(ch).label, n) for ch, n in per_channel.items()],
        "counts": per_channel,
    }


@transaction.atomic
def campaign_queue(*, campaign_id: int) -> int:
    """Writes the campaign's messages to the outbox (bulk, one transaction)."""
    campaign = (
        Campaign.objects.select_for_update(of=("self",))
        .select_related("segment__owner")
        .filter(pk=campaign_id)
        .first()
    )
    if campaign is None:
        raise NotFound()
    if campaign.state == Campaign.State.QUEUED:
        return 0
    user_ids = _recipient_ids(campaign)
    queued, recipients = notify_bulk_count(
        user_ids=user_ids,
        channels=campaign.channels,
        category=CAMPAIGN_CATEGORY[campaign.kind],
        subject=campaign.title,
        body=campaign.body,
        key=f"campaign:{campaign.pk}",
        campaign_id=campaign.pk,
    )
    campaign.state = Campaign.State.QUEUED
    campaign.queued_at = timezone.now()
    campaign.recipients = recipients
    campaign.save(update_fields=["state", "queued_at", "recipients"])
    return queued


@transaction.atomic
def campaign_send(*, actor: User, campaign: Campaign, when: dt.datetime | None = None) -> Campaign:
    """Now, or at ``when`` (a task scheduled to run then)."""
    from .tasks import campaign_queue_task

    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.state != Campaign.State.DRAFT:
        raise ApplicationError("该推送已发送或已排期")
    campaign.state = Campaign.State.SCHEDULED
    campaign.scheduled_for = when
    campaign.save(update_fields=["state", "scheduled_for"])
    audit_record(
        action="transition", actor=actor, target=campaign, summary=f"发送推送 {campaign.title}"
    )
    task = campaign_queue_task
    if when and when > timezone.now():
        if not task.get_backend().supports_defer:
            # The immediate backend (tests) cannot wait; production's database backend can.
            return campaign
        task = task.using(run_after=when)
    transaction.on_commit(lambda: task.enqueue(campaign_id=campaign.pk))
    return campaign
