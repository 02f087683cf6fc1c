"""Writes for online job fairs. Every queue operation locks the booth row
(``select_for_update``) first, so positions stay consistent when many students join and leave
at once; every change pushes ``fairs.queue_changed`` to the booth's group after commit, and each
open socket then reads its own state again (``consumers``)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Max, Min
from django.urls import reverse
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.core.audit import audit_record
from qinghe.core.errors import ApplicationError, PermissionDenied
from qinghe.core.roles import Role
from qinghe.events.models import Event
from qinghe.events.selectors import is_event_staff
from qinghe.notifications.models import Category, Channel
from qinghe.notifications.services import make_key, notify, notify_bulk
from qinghe.realtime.publish import publish_now, publish_on_commit

from .models import ACTIVE_STATES, Booth, HallVisit, QueueEntry
from .selectors import (
    booth_group,
    hall_group,
    hall_state,
    is_registered,
    open_postings,
    own_enterprise,
    queue_open_refusal,
)

logger = logging.getLogger(__name__)


def _changed(booth: Booth) -> None:
    publish_on_commit([booth_group(booth.pk)], {"type": "fairs.queue_changed"})
    fair_id = booth.fair_id
    transaction.on_commit(lambda: _publish_hall(fair_id))


def _publish_hall(fair_id: int) -> None:
    """The hall's lengths are read once after the commit and carried to every hall socket (a
    hall may have hundreds open; they must not each query again)."""
    try:
        state = hall_state(fair_id=fair_id)
    except Exception:  # noqa: BLE001 - a push is best effort; the queue change is saved
        logger.exception("reading the hall of fair %s failed", fair_id)
        return
    publish_now([hall_group(fair_id)], {**state, "type": "fairs.hall_changed"})


def _lock(booth: Booth) -> Booth:
    return Booth.objects.select_for_update().select_related("fair", "enterprise").get(pk=booth.pk)


# ---- booths -------------------------------------------------------------------------------


@transaction.atomic
def booth_apply(
    *, actor: User, fair: Event, posting_ids: Iterable[int], now: dt.datetime | None = None
) -> Booth:
    """An enterprise's HR applies for a booth with postings chosen from its open ones. A
    rejected application may be sent again (it goes back to review)."""
    enterprise = own_enterprise(actor)
    if enterprise is None or not enterprise.is_verified:
        raise PermissionDenied("贵企业通过人社局认证后才能申请展位")
    if fair.type != Event.Type.CLOUD_FAIR or fair.state != Event.State.PUBLISHED:
        raise ApplicationError("该招聘会不接受展位申请")
    now = now or timezone.now()
    if now > fair.ends_at:
        raise ApplicationError("招聘会已结束")
    ids = {int(i) for i in posting_ids}
    postings = list(open_postings(enterprise=enterprise).filter(pk__in=ids))
    if not ids:
        raise ApplicationError("请至少选择一个参会岗位")
    if len(postings) != len(ids):
        raise ApplicationError("只能选择贵企业已发布的岗位")
    booth = Booth.objects.select_for_update().filter(fair=fair, enterprise=enterprise).first()
    if booth is not None and booth.state != Booth.State.REJECTED:
        raise ApplicationError("贵企业已申请该招聘会的展位")
    if booth is None:
        booth = Booth(fair=fair, enterprise=enterprise)
    booth.state = Booth.State.APPLIED
    booth.applied_by = actor
    booth.applied_at = now
    booth.decided_by = None
    booth.decided_at = None
    booth.note = ""
    booth.save()
    booth.postings.set(postings)
    audit_record(
        action="create", actor=actor, target=booth, summary=f"申请招聘会“{fair.title}”展位"
    )
    return booth


@transaction.atomic
def booth_decide(
    *, actor: User, booth: Booth, approve: bool, note: str = "", now: dt.datetime | None = None
) -> Booth:
    """Event staff approve or reject an application; the enterprise's HR are told."""
    if not is_event_staff(actor):
        raise PermissionDenied("只有活动管理人员可以审核展位")
    booth = _lock(booth)
    if booth.state != Booth.State.APPLIED:
        raise ApplicationError("该展位申请已审核")
    note = (note or "").strip()[:300]
    if not approve and not note:
        raise ApplicationError("请填写不通过的原因")
    booth.state = Booth.State.APPROVED if approve else Booth.State.REJECTED
    booth.decided_by = actor
    booth.decided_at = now or timezone.now()
    booth.note = note
    booth.save(update_fields=["state", "decided_by", "decided_at", "note"])
    verdict = "已通过" if approve else "未通过"
    audit_record(
        action="update",
        actor=actor,
        target=booth,
        summary=f"审核招聘会“{booth.fair.title}”展位（{booth.enterprise.name}）：{verdict}",
    )
    hr_ids = list(
        User.objects.filter(
            organisation_id=booth.enterprise.organisation_id,
            role=Role.ENTERPRISE_HR,
            is_active=True,
        ).values_list("pk", flat=True)
    )
    body = f"贵企业在“{booth.fair.title}”的展位申请{verdict}。"
    if note:
        body += f"审核意见：{note}"
    notify_bulk(
        user_ids=hr_ids,
        channels=[Channel.INBOX],
        category=Category.EVENT,
        subject=f"展位申请{verdict}：{booth.fair.title}",
        body=body,
        key=make_key("fair-booth", booth.pk, booth.state, booth.decided_at),
        data={"url": reverse("fairs:hall", args=[booth.fair_id])},
    )
    _changed(booth)
    return booth


# ---- the hall and the queue ---------------------------------------------------------------


def hall_visit_record(*, user: User, fair: Event, now: dt.datetime | None = None) -> None:
    """Counts a student opening the hall once per fair (for the visitor figure)."""
    if getattr(user, "role", None) not in (Role.STUDENT, Role.AMBASSADOR):
        return
    HallVisit.objects.get_or_create(
        fair=fair, user=user, defaults={"first_at": now or timezone.now()}
    )


def _student_refusal(user: User, booth: Booth) -> str:
    if getattr(user, "role", None) not in (Role.STUDENT, Role.AMBASSADOR):
        return "只有学子可以排队"
    if not is_registered(user=user, fair=booth.fair):
        return "请先报名该招聘会再排队"
    return ""


@transaction.atomic
def queue_join(*, user: User, booth: Booth, now: dt.datetime | None = None) -> QueueEntry:
    """The student takes the last place of the booth's queue (one active entry per booth)."""
    booth = _lock(booth)
    now = now or timezone.now()
    refusal = queue_open_refusal(booth=booth, now=now) or _student_refusal(user, booth)
    if refusal:
        raise ApplicationError(refusal)
    if QueueEntry.objects.filter(booth=booth, student=user, state__in=ACTIVE_STATES).exists():
        raise ApplicationError("你已在该展位的队列中")
    last = QueueEntry.objects.filter(booth=booth).aggregate(m=Max("rank"))["m"] or 0
    try:
        with transaction.atomic():
            entry = QueueEntry.objects.create(
                booth=booth,
                student=user,
                state=QueueEntry.State.WAITING,
                rank=last + 1,
                joined_at=now,
            )
    except IntegrityError as exc:
        raise ApplicationError("你已在该展位的队列中") from exc
    _changed(booth)
    return entry


@transaction.atomic
def queue_leave(*, user: User, booth: Booth, now: dt.datetime | None = None) -> QueueEntry:
    """One step: the student leaves the queue (waiting or called)."""
    booth = _lock(booth)
    entry = QueueEntry.objects.filter(
        booth=booth, student_id=getattr(user, "pk", 0) or 0, state__in=ACTIVE_STATES
    ).first()
    if entry is None:
        raise ApplicationError("你不在该展位的队列中")
    entry.state = QueueEntry.State.LEFT
    entry.finished_at = now or timezone.now()
    entry.save(update_fields=["state", "finished_at"])
    _changed(booth)
    return entry


def _check_own(actor: User, booth: Booth) -> None:
    own = own_enterprise(actor)
    if own is None or own.pk != booth.enterprise_id:
        raise PermissionDenied("只能管理本企业的展位")


# The slot of a video interview opened from a booth's queue (the enterprise may end it sooner).
FAIR_INTERVIEW_MINUTES = 15


@transaction.atomic
def queue_take_next(*, actor: User, booth: Booth, now: dt.datetime | None = None) -> QueueEntry:
    """The enterprise calls the first student waiting; the student is told live and by a
    message with a link to the booth. Returns the called entry.

    Hand-over to a video interview: a room of ``qinghe.video`` is opened for the enterprise
    user who called and the student (``FAIR_INTERVIEW_MINUTES``), in the same transaction; the
    message and the student's live booth state carry its link."""
    _check_own(actor, booth)
    booth = _lock(booth)
    now = now or timezone.now()
    refusal = queue_open_refusal(booth=booth, now=now)
    if refusal:
        raise ApplicationError(refusal)
    entry = (
        QueueEntry.objects.select_for_update()
        .filter(booth=booth, state=QueueEntry.State.WAITING)
        .order_by("rank", "id")
        .first()
    )
    if entry is None:
        raise ApplicationError("队列中没有等待的学子")
    from qinghe.video.models import VideoRoom
    from qinghe.video.services import room_create

    room = room_create(
        interviewer=actor,
        student=entry.student,
        minutes=FAIR_INTERVIEW_MINUTES,
        source=VideoRoom.Source.FAIR,
        starts_at=now,
    )
    entry.state = QueueEntry.State.CALLED
    entry.called_at = now
    entry.room = room
    entry.save(update_fields=["state", "called_at", "room"])
    notify(
        user=entry.student,
        channels=[Channel.INBOX],
        category=Category.EVENT,
        subject=f"轮到你了：{booth.enterprise.name}",
        body=(
            f"“{booth.fair.title}”中{booth.enterprise.name}的展位已叫到你，"
            "请点击链接进入视频面试间（可先检测摄像头和麦克风）。"
        ),
        key=make_key("fair-called", entry.pk),
        data={"url": reverse("video:room", args=[room.uuid])},
    )
    audit_record(
        action="update",
        actor=actor,
        target=entry,
        summary=f"展位叫号（{booth.enterprise.name}，招聘会“{booth.fair.title}”）",
    )
    _changed(booth)
    return entry


@transaction.atomic
def queue_finish(
    *, actor: User, entry: QueueEntry, outcome: str, now: dt.datetime | None = None
) -> QueueEntry:
    """The enterprise marks a called student done or no-show."""
    if outcome not in (QueueEntry.State.DONE, QueueEntry.State.NO_SHOW):
        raise ApplicationError("请选择面谈结果")
    _check_own(actor, entry.booth)
    booth = _lock(entry.booth)
    entry = QueueEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.state != QueueEntry.State.CALLED:
        raise ApplicationError("只能处理已叫号的学子")
    entry.state = outcome
    entry.finished_at = now or timezone.now()
    entry.save(update_fields=["state", "finished_at"])
    _changed(booth)
    return entry


@transaction.atomic
def queue_invite(
    *, actor: User, booth: Booth, student: User, now: dt.datetime | None = None
) -> QueueEntry:
    """The enterprise invites a student registered for the fair to the front of its queue."""
    _check_own(actor, booth)
    booth = _lock(booth)
    now = now or timezone.now()
    refusal = queue_open_refusal(booth=booth, now=now) or _student_refusal(student, booth)
    if refusal:
        raise ApplicationError(refusal.replace("请先报名该招聘会再排队", "该学子未报名本招聘会"))
    if QueueEntry.objects.filter(booth=booth, student=student, state__in=ACTIVE_STATES).exists():
        raise ApplicationError("该学子已在队列中")
    first = QueueEntry.objects.filter(booth=booth, state=QueueEntry.State.WAITING).aggregate(
        m=Min("rank")
    )["m"]
    if first is None:
        first = 1
    entry = QueueEntry.objects.create(
        booth=booth,
        student=student,
        state=QueueEntry.State.WAITING,
        rank=first - 1,
        invited=True,
        joined_at=now,
    )
    notify(
        user=student,
        channels=[Channel.INBOX],
        category=Category.EVENT,
        subject=f"{booth.enterprise.name}邀请你面谈",
        body=f"“{booth.fair.title}”中{booth.enterprise.name}邀请你进入展位队列，你已排在最前。",
        key=make_key("fair-invite", entry.pk),
        data={"url": reverse("fairs:booth", args=[booth.pk])},
    )
    audit_record(
        action="create",
        actor=actor,
        target=entry,
        summary=f"展位邀请学子（{booth.enterprise.name}）",
    )
    _changed(booth)
    return entry
