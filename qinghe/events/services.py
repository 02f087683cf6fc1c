"""Writes for events: the organiser's workflow (one transition service over the table in
models.py), registration with a waiting list, reminders and check-in.

Places are counted with the event row locked (``select_for_update``), so concurrent
registrations and cancellations for one event queue up behind each other: never more
confirmed registrations than places, and the waiting list is promoted strictly in order.
Messages go through ``notify()`` inside the same transaction: a rollback sends nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from qinghe.accounts.models import Organisation, User
from qinghe.core.audit import audit_record
from qinghe.core.errors import ApplicationError, NotFound, PermissionDenied
from qinghe.core.roles import Role
from qinghe.core.workflow import Step, Workflow, transition
from qinghe.enterprises.models import Enterprise
from qinghe.jobs.models import Posting
from qinghe.notifications.models import Category, Channel
from qinghe.notifications.services import make_key, notify, notify_bulk
from qinghe.outreach.models import ContactLog
from qinghe.talents.models import Level
from qinghe.talents.selectors import talent_for_student

from .checkin import InvalidCode, read_code
from .models import (
    ACTIVE_STATUSES,
    EDITABLE_STATES,
    ENTERPRISE_PARTY,
    HOLDING_STATUSES,
    ONLINE_TYPES,
    RECRUITMENT_TYPES,
    STAFF_PARTY,
    TRANSITIONS,
    Event,
    EventChange,
    Feedback,
    Registration,
    TourGroup,
)
from .selectors import (
    EVENT_STAFF,
    is_event_staff,
    needs_guardian,
    organiser_orgs,
    registration_refusal,
    waitlist_position,
    waitlist_queue,
)

# Messages about a student's own registration are transactional (they asked for them):
# the system category, in the inbox and by SMS.
MESSAGE_CHANNELS = (Channel.INBOX, Channel.SMS)
REMINDER_WINDOW = dt.timedelta(hours=24)


def when_text(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


# ---- the organiser's side ---------------------------------------------------------------------


@dataclass
class EventData:
    """What an organiser fills in. ``clean`` checks it and returns the model fields."""

    type: str
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    registration_opens_at: dt.datetime
    registration_closes_at: dt.datetime
    cancel_deadline: dt.datetime
    description: str = ""
    place: str = ""
    online_url: str = ""
    audience: str = Event.Audience.OPEN
    audience_level: str = ""
    audience_year: int | None = None
    audience_chapter: Any = None  # an alliance.Chapter when audience is "chapter"
    capacity: int | None = None
    organiser: Organisation | None = None
    enterprises: list[Enterprise] = field(default_factory=list)
    postings: list[Posting] = field(default_factory=list)
    tour_groups: list[str] = field(default_factory=list)

    def clean(self) -> dict[str, Any]:
        errors: dict[str, str] = {}
        if self.type not in Event.Type.values:
            errors["type"] = "请选择活动类型"
        title = (self.title or "").strip()
        if not title:
            errors["title"] = "请填写活动名称"
        elif len(title) > 120:
            errors["title"] = "活动名称不能超过 120 字"
        if len(self.description or "") > 5000:
            errors["description"] = "活动介绍不能超过 5000 字"
        place, url = (self.place or "").strip(), (self.online_url or "").strip()
        if self.type in ONLINE_TYPES and not url:
            errors["online_url"] = "线上活动请填写直播或会场链接"
        if self.type not in ONLINE_TYPES and self.type in Event.Type.values and not place:
            errors["place"] = "请填写活动地点"
        if url and not url.startswith(("https://", "http://")):
            errors["online_url"] = "链接须以 https:// 开头"
        if self.ends_at <= self.starts_at:
            errors["ends_at"] = "结束时间须晚于开始时间"
        if self.registration_closes_at <= self.registration_opens_at:
            errors["registration_closes_at"] = "报名截止须晚于报名开始"
        elif self.registration_closes_at > self.ends_at:
            errors["registration_closes_at"] = "报名截止不能晚于活动结束"
        if self.cancel_deadline > self.starts_at:
            errors["cancel_deadline"] = "取消报名截止不能晚于活动开始"
        if self.audience not in Event.Audience.values:
            errors["audience"] = "请选择报名对象"
        elif self.audience == Event.Audience.LEVEL and self.audience_level not in Level.values:
            errors["audience_level"] = "请选择限定的学历层次"
        elif self.audience == Event.Audience.GRADUATING and not (
            self.audience_year and 2000 <= self.audience_year <= 2100
        ):
            errors["audience_year"] = "请填写限定的毕业年份"
        elif self.audience == Event.Audience.CHAPTER and not (
            self.audience_chapter is not None
            and getattr(self.audience_chapter, "state", "") == "active"
        ):
            errors["audience_chapter"] = "请选择限定的分会（须为活跃分会）"
        if self.capacity is not None and self.capacity < 1:
            errors["capacity"] = "名额至少为 1，不限名额请留空"
        groups = [g for g in TourGroup.values if g in (self.tour_groups or [])]
        if self.type == Event.Type.STUDY_TOUR and not groups:
            errors["tour_groups"] = "研学请至少选择一个分组"
        if len(set(self.tour_groups or [])) != len(groups):
            errors["tour_groups"] = "研学分组无效"
        if self.postings and self.type not in RECRUITMENT_TYPES:
            errors["postings"] = "只有招聘类活动可以关联岗位"
        enterprise_ids = {e.pk for e in self.enterprises}
        if any(p.enterprise_id not in enterprise_ids for p in self.postings):
            errors["postings"] = "关联的岗位须属于参会企业"
        if errors:
            raise ValidationError(errors)
        return {
            "type": self.type,
            "title": title,
            "description": (self.description or "").strip(),
            "place": place[:200],
            "online_url": url,
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
            "registration_opens_at": self.registration_opens_at,
            "registration_closes_at": self.registration_closes_at,
            "cancel_deadline": self.cancel_deadline,
            "audience": self.audience,
            "audience_level": self.audience_level if self.audience == Event.Audience.LEVEL else "",
            "audience_year": (
                self.audience_year if self.audience == Event.Audience.GRADUATING else None
            ),
            "audience_chapter": (
                self.audience_chapter if self.audience == Event.Audience.CHAPTER else None
            ),
            "capacity": self.capacity,
            "tour_groups": groups if self.type == Event.Type.STUDY_TOUR else [],
        }


def _change(
    event: Event, *, action: str, actor: User | None, frm: str, to: str, note: str = ""
) -> None:
    EventChange.objects.create(
        event=event,
        action=action,
        from_state=frm,
        to_state=to,
        note=note[:300],
        actor=actor if getattr(actor, "pk", None) else None,
    )


def _own_enterprise(actor: User) -> Enterprise:
    """The verified enterprise of an enterprise HR user, or a refusal."""
    enterprise = Enterprise.objects.filter(
        organisation_id=getattr(actor, "organisation_id", 0) or 0
    ).first()
    if enterprise is None or not enterprise.is_verified:
        raise PermissionDenied("贵企业通过人社局认证后才能申请举办活动")
    return enterprise


def _organiser_for(actor: User, data: EventData) -> Organisation:
    if is_event_staff(actor):
        organiser = data.organiser or getattr(actor, "organisation", None)
        if organiser is None:
            raise ValidationError({"organiser": "请选择主办单位"})
        return organiser
    if getattr(actor, "role", None) == Role.ENTERPRISE_HR:
        return _own_enterprise(actor).organisation
    if getattr(actor, "role", None) == Role.AMBASSADOR:
        orgs = organiser_orgs(actor)
        if not orgs:
            raise PermissionDenied("只有在任的分会大使可以为本分会申请活动")
        if data.organiser is not None and data.organiser.pk in orgs:
            return data.organiser
        if data.organiser is None and len(orgs) == 1:
            return Organisation.objects.get(pk=orgs[0])
        raise ValidationError({"organiser": "请选择你任大使的分会"})
    raise PermissionDenied("无权创建活动")


def _check_participants(actor: User, data: EventData) -> None:
    if getattr(actor, "role", None) == Role.ENTERPRISE_HR:
        own = _own_enterprise(actor)
        if any(e.pk != own.pk for e in data.enterprises) or any(
            p.enterprise_id != own.pk for p in data.postings
        ):
            raise ValidationError({"enterprises": "企业申请的活动只能关联本企业及其岗位"})
    if getattr(actor, "role", None) == Role.AMBASSADOR and (data.enterprises or data.postings):
        raise ValidationError({"enterprises": "分会申请的活动由工作人员审核时关联参会企业和岗位"})


def _may_manage(actor: User, event: Event) -> bool:
    if is_event_staff(actor):
        return True
    return event.organiser_id in organiser_orgs(actor)


@transaction.atomic
def event_create(*, actor: User, data: EventData) -> Event:
    """Staff create a draft for any organiser; an enterprise's HR a draft of its own, which
    staff review before it is published."""
    fields = data.clean()
    organiser = _organiser_for(actor, data)
    _check_participants(actor, data)
    event = Event.objects.create(organiser=organiser, created_by=actor, **fields)
    event.enterprises.set(data.enterprises)
    event.postings.set(data.postings)
    _change(event, action="create", actor=actor, frm="", to=event.state)
    audit_record(
        action="create",
        actor=actor,
        target=event,
        summary=f"新建活动：{event.title}（{event.get_type_display()}）",
    )
    return event


@transaction.atomic
def event_update(*, actor: User, event: Event, data: EventData) -> list[str]:
    """Edits the details. Staff may edit until the event is over; an enterprise only its own
    draft. More places on a published event promote the waiting list at once. Returns the
    changed field names."""
    event = Event.objects.select_for_update().get(pk=event.pk)
    if not _may_manage(actor, event):
        raise NotFound("未找到该活动")
    if event.state not in EDITABLE_STATES:
        raise ApplicationError(f"活动{event.get_state_display()}，不能再修改")
    if not is_event_staff(actor) and event.state != Event.State.DRAFT:
        raise ApplicationError("活动已提交审核或已发布，如需修改请联系工作人员")
    fields = data.clean()
    _check_participants(actor, data)
    if is_event_staff(actor) and data.organiser is not None:
        fields["organiser"] = data.organiser
    changed = [f for f, v in fields.items() if getattr(event, f) != v]
    for name in changed:
        setattr(event, name, fields[name])
    if changed:
        event.save(update_fields=[*changed, "updated_at"])
    before = (set(event.enterprises.all()), set(event.postings.all()))
    event.enterprises.set(data.enterprises)
    event.postings.set(data.postings)
    if before[0] != set(data.enterprises):
        changed.append("enterprises")
    if before[1] != set(data.postings):
        changed.append("postings")
    if changed:
        _change(event, action="edit", actor=actor, frm=event.state, to=event.state)
        audit_record(
            action="update",
            actor=actor,
            target=event,
            summary=f"修改活动：{event.title}",
            data={"fields": changed},
        )
    if event.state == Event.State.PUBLISHED:
        if "capacity" in changed:
            _promote(event, now=timezone.now())
        moved: list[str] = [
            f for f in ("starts_at", "ends_at", "place", "online_url") if f in changed
        ]
        if moved:
            _tell_of_change(event, moved=moved)
    return changed


def _tell_of_change(event: Event, *, moved: list[str]) -> None:
    """A published event's time or place changed: everyone registered is told, and a reminder
    already sent for the old time goes again before the new one."""
    active = Registration.objects.filter(event=event, status__in=ACTIVE_STATUSES)
    if "starts_at" in moved:
        active.update(reminder_sent_at=None)
    where = f"线上链接：{event.online_url}" if event.is_online else f"地点：{event.place}"
    notify_bulk(
        user_ids=list(active.values_list("user_id", flat=True)),
        channels=MESSAGE_CHANNELS,
        category=Category.SYSTEM,
        subject=f"活动变更：{event.title}",
        body=(
            f"你报名的“{event.title}”有变更：时间 {when_text(event.starts_at)}，{where}。"
            "如不能参加，请在“我的活动”中取消报名。"
        ),
        key=make_key("event-changed", event.pk, event.updated_at.isoformat()),
    )


def _party(actor: User | None, event: Event) -> str | None:
    if actor is None:  # events move only by a person's hand
        return None
    if is_event_staff(actor):
        return STAFF_PARTY
    if _may_manage(actor, event):
        return ENTERPRISE_PARTY
    # Someone else's event: the same answer as a missing one.
    raise NotFound("未找到该活动")


def _apply(step: Step[Event]) -> list[str]:
    event, action = step.row, step.move.action
    if action == "publish":
        event.published_at, event.review_note = step.now, ""
        return ["published_at", "review_note"]
    if action == "return":
        event.review_note = step.reason[:300]
        return ["review_note"]
    if action == "cancel":
        event.cancel_reason = step.reason[:300]
        return ["cancel_reason"]
    return []


EVENT_WORKFLOW: Workflow[Event] = Workflow(
    name="event",
    model=Event,
    moves=TRANSITIONS,
    party=_party,
    reason_field="note",
    reason_required="请填写原因",
    refused="活动当前为“{state}”，不能{label}",
    select_related=("organiser",),
    apply=_apply,
    event=lambda step: _change(
        step.row,
        action=step.move.action,
        actor=step.actor,
        frm=step.old,
        to=step.new,
        note=step.reason,
    ),
    summary=lambda step: f"活动“{step.row.title}”：{step.move.label}",
    effects=lambda step: _transition_messages(step.row, action=step.move.action, note=step.reason),
)


def event_transition(
    *,
    actor: User,
    event: Event,
    action: str,
    note: str = "",
) -> Event:
    """Moves an event along ``TRANSITIONS`` on the one workflow engine: lock, check the actor
    and the move, save, change row, audit entry, and the messages in the same transaction."""
    return transition(EVENT_WORKFLOW, row=event, action=action, actor=actor, reason=note)


def _transition_messages(event: Event, *, action: str, note: str) -> None:
    if action == "submit":
        staff = list(
            User.objects.filter(role__in=EVENT_STAFF - {Role.SYSADMIN}, is_active=True).values_list(
                "pk", flat=True
            )
        )
        notify_bulk(
            user_ids=staff,
            channels=[Channel.INBOX],
            category=Category.SYSTEM,
            subject=f"活动待审核：{event.title}",
            body=f"{event.organiser.name} 提交了活动“{event.title}”，请审核。",
            key=make_key("event-submitted", event.pk, event.updated_at.isoformat()),
        )
    elif (
        action in ("publish", "return")
        and event.created_by is not None
        and not is_event_staff(event.created_by)
    ):
        text = (
            f"你申请的活动“{event.title}”已发布。"
            if action == "publish"
            else f"你申请的活动“{event.title}”被退回修改：{note}"
        )
        notify(
            user=event.created_by,
            channels=[Channel.INBOX],
            category=Category.SYSTEM,
            subject=text[:60],
            body=text,
            key=make_key("event-reviewed", event.pk, action, event.updated_at.isoformat()),
        )
    elif action == "finish":
        attended = Registration.objects.filter(event=event, attended_at__isnull=False).values_list(
            "user_id", flat=True
        )
        notify_bulk(
            user_ids=list(attended),
            channels=[Channel.INBOX],
            category=Category.SYSTEM,
            subject=f"请为活动打分：{event.title}",
            body=f"感谢参加“{event.title}”！请在“我的活动”中花一分钟打分并留下意见。",
            key=make_key("event-feedback", event.pk),
            data={"url": "/events/mine/"},
        )
    elif action == "cancel":
        regs = Registration.objects.filter(
            event=event,
            status__in=ACTIVE_STATUSES,
        ).values_list("user_id", flat=True)
        notify_bulk(
            user_ids=list(regs),
            channels=MESSAGE_CHANNELS,
            category=Category.SYSTEM,
            subject=f"活动取消：{event.title}",
            body=f"很抱歉，你报名的“{event.title}”（{when_text(event.starts_at)}）已取消：{note}",
            key=make_key("event-cancelled", event.pk),
        )


# ---- registration ------------------------------------------------------------------------


def _lock(event: Event) -> Event:
    return Event.objects.select_for_update().select_related("organiser").get(pk=event.pk)


@dataclass(frozen=True)
class RegistrationResult:
    registration: Registration
    position: int | None  # the place in the waiting list, 1 = next in line


@transaction.atomic
def registration_create(
    *, user: User, event: Event, now: dt.datetime | None = None, group: str = ""
) -> RegistrationResult:
    """One step: confirmed if a place is free, else waitlisted with a position. Refused
    (nothing written) outside the window, for an event not published, for a student outside
    the audience, and when the user already holds a registration. On a study tour the
    student picks a group; a high-school student under 18 holds a place as ``guardian``
    until a guardian consents (``guardian_consent``)."""
    if event.tour_groups and group not in event.tour_groups:
        raise ApplicationError("请选择研学分组")
    event = _lock(event)
    # The time is read under the lock, so the waiting list's order (registered_at, id) is the
    # order in which registrations got the lock.
    now = now or timezone.now()
    refusal = registration_refusal(event=event, user=user, now=now)
    if refusal:
        raise ApplicationError(refusal)
    confirmed = Registration.objects.filter(event=event, status__in=HOLDING_STATUSES).count()
    waiting = Registration.objects.filter(event=event, status=Registration.Status.WAITLISTED)
    has_place = event.capacity is None or (confirmed < event.capacity and not waiting.exists())
    guardian = needs_guardian(user=user, event=event, group=group)
    if not has_place:
        status = Registration.Status.WAITLISTED
    elif guardian:
        status = Registration.Status.GUARDIAN
    else:
        status = Registration.Status.CONFIRMED
    try:
        with transaction.atomic():
            reg = Registration.objects.create(
                event=event,
                user=user,
                status=status,
                registered_at=now,
                confirmed_at=now if status == Registration.Status.CONFIRMED else None,
                group=group if event.tour_groups else "",
            )
    except IntegrityError as exc:  # the partial unique constraint: already registered
        raise ApplicationError("你已报名该活动") from exc
    position = waitlist_position(registration=reg)
    audit_record(
        action="create",
        actor=user,
        target=reg,
        summary=f"报名活动“{event.title}”：{reg.get_status_display()}",
    )
    return RegistrationResult(registration=reg, position=position)


@transaction.atomic
def registration_cancel(
    *, user: User, event: Event, now: dt.datetime | None = None
) -> Registration:
    """The student cancels until the cancellation deadline. A freed place goes to the first
    on the waiting list at once, who is told so."""
    event = _lock(event)
    now = now or timezone.now()
    reg = (
        Registration.objects.select_for_update()
        .filter(
            event=event,
            user_id=getattr(user, "pk", 0) or 0,
            status__in=ACTIVE_STATUSES,
        )
        .first()
    )
    if reg is None:
        raise ApplicationError("你没有该活动的有效报名")
    if now > event.cancel_deadline:
        raise ApplicationError(f"已过取消报名截止时间（{when_text(event.cancel_deadline)}）")
    if reg.attended_at:
        raise ApplicationError("你已签到，不能取消报名")
    was_confirmed = reg.holds_place
    reg.status = Registration.Status.CANCELLED
    reg.cancelled_at = now
    reg.save(update_fields=["status", "cancelled_at"])
    audit_record(action="update", actor=user, target=reg, summary=f"取消报名活动“{event.title}”")
    if was_confirmed and event.state == Event.State.PUBLISHED:
        _promote(event, now=now)
    return reg


def _promote(event: Event, *, now: dt.datetime) -> list[Registration]:
    """Fills free places from the waiting list, first registered first. The caller holds the
    event's row lock."""
    if event.capacity is None:
        free = None
    else:
        confirmed = Registration.objects.filter(event=event, status__in=HOLDING_STATUSES).count()
        free = max(0, event.capacity - confirmed)
    queue = waitlist_queue(event=event).select_related("user")
    promoted = list(queue if free is None else queue[:free])
    for reg in promoted:
        if needs_guardian(user=reg.user, event=event, group=reg.group):
            reg.status = Registration.Status.GUARDIAN
            reg.save(update_fields=["status"])
            notify(
                user=reg.user,
                channels=MESSAGE_CHANNELS,
                category=Category.SYSTEM,
                subject=f"候补成功，待监护人同意：{event.title}",
                body=(
                    f"你候补的研学“{event.title}”有了空余名额，已为你保留。"
                    "请在“我的活动”中把同意书链接发给监护人，监护人同意后报名即确认。"
                ),
                key=make_key("event-promoted", reg.pk),
                data={"url": "/events/mine/"},
            )
            audit_record(
                action="update",
                actor=None,
                target=reg,
                summary=f"候补转为待监护人同意：活动“{event.title}”",
            )
            continue
        reg.status = Registration.Status.CONFIRMED
        reg.confirmed_at = now
        reg.save(update_fields=["status", "confirmed_at"])
        notify(
            user=reg.user,
            channels=MESSAGE_CHANNELS,
            category=Category.SYSTEM,
            subject=f"候补成功：{event.title}",
            body=(
                f"你候补的活动“{event.title}”有了空余名额，你的报名已确认。"
                f"活动时间 {when_text(event.starts_at)}，"
                f"{'线上参加' if event.is_online else '地点：' + event.place}。"
                "签到二维码见“我的活动”；如不能参加，请及时取消，把名额让给他人。"
            ),
            key=make_key("event-promoted", reg.pk),
        )
        audit_record(
            action="update",
            actor=None,
            target=reg,
            summary=f"候补转为确认：活动“{event.title}”",
        )
    return promoted


# ---- reminders ----------------------------------------------------------------------------


def event_reminders_send(*, now: dt.datetime | None = None) -> int:
    """Reminds each confirmed registrant of a published event that starts within 24 hours,
    once: ``reminder_sent_at`` is claimed by a conditional UPDATE before the message is
    queued, and the message's idempotency key names the registration and the start time, so
    two runs at once (or a retried run) remind once; a new start time reminds again. Returns the number of reminders queued."""
    now = now or timezone.now()
    due = list(
        Registration.objects.filter(
            status=Registration.Status.CONFIRMED,
            reminder_sent_at__isnull=True,
            event__state=Event.State.PUBLISHED,
            event__starts_at__gt=now,
            event__starts_at__lte=now + REMINDER_WINDOW,
        )
        .order_by("id")
        .values_list("pk", flat=True)
    )
    sent = 0
    for pk in due:
        with transaction.atomic():
            claimed = Registration.objects.filter(
                pk=pk, reminder_sent_at__isnull=True, status=Registration.Status.CONFIRMED
            ).update(reminder_sent_at=now)
            if not claimed:
                continue
            reg = Registration.objects.select_related("event", "user").get(pk=pk)
            event = reg.event
            where = f"线上链接：{event.online_url}" if event.is_online else f"地点：{event.place}"
            notify(
                user=reg.user,
                channels=MESSAGE_CHANNELS,
                category=Category.SYSTEM,
                subject=f"活动提醒：{event.title}",
                body=(
                    f"你报名的“{event.title}”将于 {when_text(event.starts_at)} 开始，{where}。"
                    "请带上“我的活动”中的签到二维码。"
                ),
                key=make_key("event-reminder", reg.pk, event.starts_at.isoformat()),
            )
            sent += 1
    return sent


# ---- check-in -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckInResult:
    registration: Registration
    already: bool  # True when the code had been scanned before: nothing changed

    @property
    def message(self) -> str:
        name = self.registration.user.display_name or self.registration.user.username
        at = when_text(self.registration.attended_at) if self.registration.attended_at else ""
        if self.already:
            return f"{name} 已签到（{at}），无需重复签到"
        return f"{name} 签到成功（{at}）"


@transaction.atomic
def registration_check_in(
    *,
    actor: User,
    event: Event,
    code: str,
    now: dt.datetime | None = None,
    synced_at: dt.datetime | None = None,
) -> CheckInResult:
    """Marks a confirmed registration attended, once. The code must be ours and for this
    event; a second scan changes nothing. Attendance is a contact: when the student has a
    talent record, a contact log (channel 活动) is written for it. ``synced_at`` is given for
    a check-in made offline on a door phone: ``now`` is then the phone's time of the scan."""
    if not is_event_staff(actor):
        raise NotFound("未找到该活动")
    now = now or timezone.now()
    try:
        payload = read_code(code)
    except InvalidCode as exc:
        raise ApplicationError("签到码无效，请让学子打开“我的活动”重新出示二维码") from exc
    if payload.event_id != event.pk:
        raise ApplicationError("该签到码不属于本活动")
    if event.state not in (Event.State.PUBLISHED, Event.State.FINISHED):
        raise ApplicationError(f"活动{event.get_state_display()}，不能签到")
    reg = (
        Registration.objects.select_for_update()
        .select_related("user")
        .filter(pk=payload.registration_id, event=event)
        .first()
    )
    if reg is None:
        raise ApplicationError("该签到码不属于本活动")
    if reg.status == Registration.Status.CANCELLED:
        raise ApplicationError("该报名已取消，不能签到")
    if reg.status == Registration.Status.WAITLISTED:
        raise ApplicationError("该报名仍在候补，尚未确认，不能签到")
    if reg.status == Registration.Status.GUARDIAN:
        raise ApplicationError("监护人尚未同意，不能签到")
    if reg.attended_at is not None:
        return CheckInResult(registration=reg, already=True)
    reg.attended_at = now
    reg.checked_in_by = actor
    reg.checkin_synced_at = synced_at
    reg.save(update_fields=["attended_at", "checked_in_by", "checkin_synced_at"])
    talent = talent_for_student(user=reg.user)
    if talent is not None:
        ContactLog.objects.create(
            talent=talent,
            liaison=actor,
            channel=ContactLog.Channel.EVENT,
            outcome=ContactLog.Outcome.REACHED,
            notes=f"参加活动“{event.title}”（{event.get_type_display()}），现场签到",
            contacted_at=now,
        )
    audit_record(
        action="update",
        actor=actor,
        target=reg,
        summary=(
            f"活动签到：“{event.title}”"
            + (f"（离线签到 {when_text(now)}，同步于 {when_text(synced_at)}）" if synced_at else "")
        ),
    )
    return CheckInResult(registration=reg, already=False)


# A door phone's clock may run a little ahead of the server's.
SYNC_CLOCK_SKEW = dt.timedelta(minutes=5)
SYNC_MAX_ITEMS = 500
# A check-in made offline is accepted from this long before the event starts.
SYNC_EARLIEST_BEFORE_START = dt.timedelta(hours=12)


@dataclass(frozen=True)
class SyncItem:
    code: str
    at: dt.datetime


@dataclass(frozen=True)
class SyncOutcome:
    index: int
    status: str  # "recorded", "already" or "refused"
    message: str
    registration_id: int | None = None


def checkins_sync(
    *,
    actor: User,
    event: Event,
    items: list[SyncItem],
    now: dt.datetime | None = None,
) -> list[SyncOutcome]:
    """Records the check-ins a door phone queued while offline, each in its own transaction.

    The server verifies every code again (signature, event, registration status) and records
    a check-in once with the phone's time of the scan; sending the same queue again, or a
    registration already checked in online, changes nothing and answers ``already``. Anything
    refused (a cancelled registration, a forged code, an impossible time) is reported in
    Chinese and changes nothing; the others are still recorded."""
    if not is_event_staff(actor):
        raise NotFound("未找到该活动")
    if len(items) > SYNC_MAX_ITEMS:
        raise ApplicationError(f"一次最多同步 {SYNC_MAX_ITEMS} 条离线签到，请分批同步")
    now = now or timezone.now()
    outcomes: list[SyncOutcome] = []
    for index, item in enumerate(items):
        if item.at > now + SYNC_CLOCK_SKEW:
            outcomes.append(
                SyncOutcome(index, "refused", "离线签到时间晚于服务器当前时间，请校准手机时间")
            )
            continue
        if item.at < event.starts_at - SYNC_EARLIEST_BEFORE_START:
            outcomes.append(SyncOutcome(index, "refused", "离线签到时间早于活动开始前 12 小时"))
            continue
        try:
            result = registration_check_in(
                actor=actor, event=event, code=item.code, now=item.at, synced_at=now
            )
        except ApplicationError as exc:
            outcomes.append(SyncOutcome(index, "refused", exc.message))
            continue
        reg = result.registration
        if result.already:
            outcomes.append(
                SyncOutcome(index, "already", f"{result.message}；离线记录未重复计入", reg.pk)
            )
        else:
            outcomes.append(SyncOutcome(index, "recorded", result.message, reg.pk))
    return outcomes


# ---- feedback -------------------------------------------------------------------------------


@transaction.atomic
def feedback_create(
    *, user: User, event: Event, rating: int, comment: str = "", now: dt.datetime | None = None
) -> Feedback:
    """Once per attended registration, after the event has ended."""
    now = now or timezone.now()
    reg = (
        Registration.objects.select_for_update()
        .filter(event=event, user_id=getattr(user, "pk", 0) or 0, attended_at__isnull=False)
        .first()
    )
    if reg is None:
        raise ApplicationError("只有签到参加的学子可以评价该活动")
    if now < event.ends_at:
        raise ApplicationError("活动结束后才能评价")
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValidationError({"rating": "请选择 1 到 5 分"})
    comment = (comment or "").strip()
    if len(comment) > 500:
        raise ValidationError({"comment": "意见不能超过 500 字"})
    if Feedback.objects.filter(registration=reg).exists():
        raise ApplicationError("你已评价过该活动")
    feedback = Feedback.objects.create(registration=reg, rating=rating, comment=comment)
    audit_record(
        action="create",
        actor=user,
        target=feedback,
        summary=f"评价活动“{event.title}”：{rating} 分",
    )
    return feedback
