"""Talent service specialists (人才服务专员) assigned to people.

A specialist serves one or more grids (``GridAssignment``: a town and its station); a person
(a card holder or any student with a record) is given one specialist among those of the grid of
their town. Station staff assign within their own station's grid (the centre's staff and HR
bureau staff within any grid); a reassignment needs a reason, ends the old row (history kept),
is audited and messages the person and both specialists through ``notify()`` in the same
transaction. The person sees their specialist's name and station and writes to them through the
platform (never a private phone); the specialist sees their people with what each needs next
(the card's next step, open service requests with deadlines, a booked health check).

Reads (``*_for_*``, ``grid_*``, ``people_of_specialist``) are scoped by the viewer; writes
(``specialist_assign``, ``specialist_message_*``) are atomic and refuse before writing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.core.audit import audit_record
from qinghe.core.errors import ApplicationError, NotFound, PermissionDenied
from qinghe.core.roles import Role
from qinghe.notifications.models import Category, Channel
from qinghe.notifications.services import make_key, notify
from qinghe.talents.models import Talent
from qinghe.talents.selectors import talent_for_student

from .models import Booking, GridAssignment, ServiceRequest, SpecialistAssignment, Station

MANAGERS = (Role.STATION_STAFF, Role.HR_STAFF, Role.SYSADMIN)
SPECIALIST_ROLES = (Role.LIAISON, Role.STATION_STAFF)
MESSAGE_MAX = 500
PEOPLE_LIMIT = 50
RENEWAL_DAYS = 30


# ---- reads ----------------------------------------------------------------------------------


def _own_station(viewer: User) -> Station | None:
    if viewer.role != Role.STATION_STAFF or not viewer.organisation_id:
        return None
    return Station.objects.filter(organisation_id=viewer.organisation_id).first()


def grid_stations_for(*, viewer: User) -> QuerySet[Station]:
    """The town stations whose grid the viewer may assign in: their own (town station staff),
    every one (the centre's staff, HR bureau staff)."""
    towns = Station.objects.filter(kind=Station.Kind.TOWN, is_active=True, town__isnull=False)
    if viewer.role in (Role.HR_STAFF, Role.SYSADMIN):
        return towns.order_by("town__code")
    own = _own_station(viewer)
    if own is None:
        return towns.none()
    if own.kind == Station.Kind.CENTRE:
        return towns.order_by("town__code")
    return towns.filter(pk=own.pk)


def grid_station_get(*, viewer: User, station_id: int | None) -> Station:
    """The grid's station asked for (or the viewer's first), or the same 404 for a missing one
    and one outside the viewer's reach."""
    stations = grid_stations_for(viewer=viewer)
    station = stations.filter(pk=station_id).first() if station_id else stations.first()
    if station is None:
        raise NotFound("没有这个网格")
    return station


def grid_specialists(*, station: Station) -> list[User]:
    """The active specialists of a station's grid, by name."""
    if station.town_id is None:
        return []
    ids = GridAssignment.objects.filter(town_id=station.town_id).values("specialist_id")
    return list(
        User.objects.filter(pk__in=ids, is_active=True, role__in=SPECIALIST_ROLES).order_by(
            "display_name", "pk"
        )
    )


@dataclass(frozen=True)
class GridPerson:
    talent: Talent
    specialist: SpecialistAssignment | None
    card_state: str


def grid_people(*, viewer: User, station: Station, q: str = "") -> list[GridPerson]:
    """People of the station's grid (its town): by name when ``q`` is given, else those with a
    card or a specialist; at most ``PEOPLE_LIMIT``, with their active specialist and card."""
    from qinghe.cards.models import Card

    if station.town_id is None or station not in grid_stations_for(viewer=viewer):
        raise NotFound("没有这个网格")
    people = Talent.objects.filter(town_id=station.town_id, merged_into__isnull=True)
    q = q.strip()
    if q:
        people = people.filter(name__icontains=q[:30])
    else:
        people = people.filter(
            Q(cards__isnull=False) | Q(specialist_assignments__active=True)
        ).distinct()
    talents = list(people.order_by("name", "pk")[:PEOPLE_LIMIT])
    ids = [t.pk for t in talents]
    active = {
        a.talent_id: a
        for a in SpecialistAssignment.objects.filter(talent_id__in=ids, active=True).select_related(
            "specialist"
        )
    }
    cards: dict[int, str] = {}
    for talent_id, state in (
        Card.objects.filter(talent_id__in=ids)
        .order_by("created_at", "pk")
        .values_list("talent_id", "state")
    ):
        cards[talent_id] = str(Card.State(state).label)
    return [GridPerson(t, active.get(t.pk), cards.get(t.pk, "")) for t in talents]


def specialist_for_person(*, viewer: User) -> SpecialistAssignment | None:
    """The signed-in person's active specialist (with the station), or None."""
    talent = talent_for_student(user=viewer)
    if talent is None:
        return None
    return (
        SpecialistAssignment.objects.filter(talent=talent, active=True)
        .select_related("specialist", "station")
        .first()
    )


@dataclass(frozen=True)
class Step:
    text: str
    urgent: bool = False


@dataclass
class Person:
    assignment: SpecialistAssignment
    steps: list[Step] = field(default_factory=list)


def card_step(
    *, state: str, valid_until: dt.date | None, printed: bool, handed: bool, today: dt.date
) -> Step | None:
    """What a person's card needs next (pure)."""
    if state == "submitted":
        return Step("青年卡申请待驿站初审", urgent=True)
    if state == "reviewed":
        return Step("青年卡申请待人社局审批")
    if state == "rejected":
        return Step("青年卡申请未通过，可协助补齐材料后重新申请")
    if state == "suspended":
        return Step("青年卡已暂停：协助报告工作单位变更并恢复", urgent=True)
    if state == "lost":
        return Step("青年卡已挂失：待补办新卡", urgent=True)
    if state == "expired":
        return Step("青年卡已过期，可协助重新申请")
    if state == "active":
        if valid_until is not None and (valid_until - today).days <= RENEWAL_DAYS:
            return Step(f"青年卡 {valid_until:%Y-%m-%d} 到期，已可续期", urgent=True)
        if not printed:
            return Step("实体卡待制卡")
        if not handed:
            return Step("实体卡已制好，待领取")
    return None


def people_of_specialist(*, viewer: User, now: dt.datetime | None = None) -> list[Person]:
    """The viewer's people (active assignments) with what each needs next, in four queries."""
    from qinghe.cards.models import Card

    if viewer.role not in SPECIALIST_ROLES:
        return []
    now = now or timezone.now()
    today = timezone.localdate(now)
    assignments = list(
        SpecialistAssignment.objects.filter(specialist=viewer, active=True)
        .select_related("talent", "station")
        .order_by("talent__name", "pk")
    )
    ids = [a.talent_id for a in assignments]
    cards: dict[int, Card] = {}
    for row in Card.objects.filter(talent_id__in=ids).order_by("created_at", "pk"):
        cards[row.talent_id] = row  # the newest
    requests: dict[int, list[ServiceRequest]] = {}
    for r in (
        ServiceRequest.objects.filter(talent_id__in=ids, state=ServiceRequest.State.OPEN)
        .select_related("service")
        .order_by("due_at", "pk")
    ):
        requests.setdefault(r.talent_id, []).append(r)
    bookings: dict[int, Booking] = {}
    for b in (
        Booking.objects.filter(talent_id__in=ids, state=Booking.State.BOOKED, slot__day__gte=today)
        .select_related("slot__station")
        .order_by("-slot__day")
    ):
        assert b.talent_id is not None
        bookings[b.talent_id] = b  # the soonest
    people: list[Person] = []
    for a in assignments:
        person = Person(assignment=a)
        card = cards.get(a.talent_id)
        if card is None:
            person.steps.append(Step("尚未申请鹤才青年卡，可介绍申请"))
        else:
            step = card_step(
                state=card.state,
                valid_until=card.valid_until,
                printed=card.printed_at is not None,
                handed=card.handed_over_at is not None,
                today=today,
            )
            if step is not None:
                person.steps.append(step)
        for r in requests.get(a.talent_id, []):
            overdue = r.due_at < now
            due = timezone.localtime(r.due_at)
            person.steps.append(
                Step(
                    f"{r.service.name}办理中，时限 {due:%m-%d %H:%M}"
                    + ("（已超期）" if overdue else ""),
                    urgent=overdue,
                )
            )
        booking = bookings.get(a.talent_id)
        if booking is not None:
            person.steps.append(
                Step(f"已预约 {booking.slot.day:%m-%d} 在{booking.slot.station.name}体检")
            )
        people.append(person)
    # Who needs something urgently comes first.
    people.sort(key=lambda p: not any(s.urgent for s in p.steps))
    return people


def person_of_specialist(*, viewer: User, talent_id: int) -> SpecialistAssignment:
    a = (
        SpecialistAssignment.objects.filter(specialist=viewer, active=True, talent_id=talent_id)
        .select_related("talent")
        .first()
    )
    if a is None:
        raise NotFound("没有这位服务对象")
    return a


# ---- writes ---------------------------------------------------------------------------------


def _may_assign(actor: User, talent: Talent) -> bool:
    if actor.role in (Role.HR_STAFF, Role.SYSADMIN):
        return True
    own = _own_station(actor)
    if own is None:
        return False
    return own.kind == Station.Kind.CENTRE or (
        own.town_id is not None and own.town_id == talent.town_id
    )


PEOPLE_URL = "/stations/people/"
MINE_URL = "/stations/specialist/"


@transaction.atomic
def specialist_assign(
    *,
    actor: User,
    talent_id: int,
    specialist_id: int,
    reason: str = "",
    now: dt.datetime | None = None,
) -> SpecialistAssignment:
    """Gives a person a specialist of their grid, or another one (a reason is then required)."""
    now = now or timezone.now()
    if actor.role not in MANAGERS:
        raise PermissionDenied("只有人才驿站或人社局工作人员可以分配人才服务专员")
    talent = Talent.objects.filter(pk=talent_id, merged_into__isnull=True).first()
    if talent is None or not _may_assign(actor, talent):
        raise NotFound("没有这位人才")
    if talent.town_id is None:
        raise ApplicationError("该人才的档案没有所属镇街，无法按网格分配专员，请先补充镇街")
    grid = (
        GridAssignment.objects.filter(
            town_id=talent.town_id,
            specialist_id=specialist_id,
            specialist__is_active=True,
            specialist__role__in=SPECIALIST_ROLES,
        )
        .select_related("specialist", "station")
        .first()
    )
    if grid is None:
        raise ValidationError({"specialist": "请选择该网格的人才服务专员"})
    # One assignment changes at a time per person: the second waits, then sees the first.
    Talent.objects.select_for_update().filter(pk=talent.pk).first()
    old = (
        SpecialistAssignment.objects.filter(talent=talent, active=True)
        .select_related("specialist")
        .first()
    )
    reason = reason.strip()
    if old is not None:
        if old.specialist_id == grid.specialist_id:
            raise ValidationError({"specialist": "该人才的服务专员已是这位专员"})
        if not reason:
            raise ValidationError({"reason": "更换服务专员请填写原因"})
        SpecialistAssignment.objects.filter(pk=old.pk).update(active=False, ended_at=now)
    specialist = grid.specialist
    row = SpecialistAssignment.objects.create(
        talent=talent,
        specialist=specialist,
        station=grid.station,
        assigned_at=now,
        reason=reason[:200],
        assigned_by=actor,
    )
    who = specialist.display_name or specialist.username
    audit_record(
        action="update" if old else "create",
        actor=actor,
        target=row,
        summary=(
            f"更换人才服务专员：{old.specialist.display_name or old.specialist.username} → {who}"
            if old
            else f"分配人才服务专员：{who}"
        ),
        reason=reason,
        data={"talent": talent.pk, "station": grid.station_id, "old": old.pk if old else None},
    )
    if talent.user_id is not None:
        assert talent.user is not None
        notify(
            user=talent.user,
            channels=(Channel.INBOX, Channel.SMS),
            category=Category.SYSTEM,
            subject="你的人才服务专员" + ("已更换" if old else "已确定"),
            body=f"{grid.station.name}的{who}将作为你的人才服务专员，可在青鹤平台“我的服务专员”给专员留言。",
            key=make_key("specialist", row.pk, "person"),
            template="stations.specialist_assigned",
            data={"url": MINE_URL},
        )
    notify(
        user=specialist,
        channels=(Channel.INBOX,),
        category=Category.SYSTEM,
        subject="新的服务对象",
        body=f"{talent.name}已分配给你服务（{grid.station.name}）。",
        key=make_key("specialist", row.pk, "new"),
        template="stations.specialist_new",
        data={"url": PEOPLE_URL},
    )
    if old is not None:
        notify(
            user=old.specialist,
            channels=(Channel.INBOX,),
            category=Category.SYSTEM,
            subject="服务对象已转交",
            body=f"{talent.name}已改由{who}服务。原因：{reason}",
            key=make_key("specialist", row.pk, "old"),
            template="stations.specialist_moved",
            data={"url": PEOPLE_URL},
        )
    return row


def _text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "请填写留言内容"})
    if len(text) > MESSAGE_MAX:
        raise ValidationError({"text": f"留言不能超过 {MESSAGE_MAX} 字"})
    return text


@transaction.atomic
def specialist_message_from_person(
    *, user: User, text: str, now: dt.datetime | None = None
) -> None:
    """The person writes to their specialist (an inbox message linking to their people)."""
    now = now or timezone.now()
    assignment = specialist_for_person(viewer=user)
    if assignment is None:
        raise ApplicationError("你还没有人才服务专员")
    body = _text(text)
    sent = notify(
        user=assignment.specialist,
        channels=(Channel.INBOX,),
        category=Category.SYSTEM,
        subject=f"服务对象{assignment.talent.name}给你留言",
        body=body,
        key=make_key("specialist-msg", assignment.pk, "in", now.isoformat()),
        template="stations.specialist_message_in",
        data={"url": PEOPLE_URL, "talent": assignment.talent_id},
    )
    if not sent:
        raise ApplicationError("留言未能送达，请稍后再试")


@transaction.atomic
def specialist_message_to_person(
    *, actor: User, talent_id: int, text: str, now: dt.datetime | None = None
) -> None:
    """The specialist writes to one of their people: a liaison message, so it reaches them only
    while their liaison consent is in force (refused otherwise, nothing written)."""
    now = now or timezone.now()
    assignment = person_of_specialist(viewer=actor, talent_id=talent_id)
    body = _text(text)
    person = assignment.talent.user
    if person is None:
        raise ApplicationError("该人才还没有平台账号，请通过驿站联系")
    sent = notify(
        user=person,
        channels=(Channel.INBOX,),
        category=Category.LIAISON,
        subject=f"人才服务专员{actor.display_name or actor.username}给你留言",
        body=body,
        key=make_key("specialist-msg", assignment.pk, "out", now.isoformat()),
        template="stations.specialist_message_out",
        data={"url": MINE_URL},
    )
    if not sent:
        raise ApplicationError("对方未同意接收服务专员的联络消息，请通过驿站联系")
    audit_record(
        action="create",
        actor=actor,
        target=assignment,
        summary="人才服务专员给服务对象留言",
        data={"talent": assignment.talent_id},
    )


# ---- the grid's specialists -------------------------------------------------------------------


def grid_candidates(*, station: Station) -> list[User]:
    """Who may be added to the station's grid: active liaisons and the station's own staff not
    in it yet."""
    if station.town_id is None:
        return []
    inside = GridAssignment.objects.filter(town_id=station.town_id).values("specialist_id")
    return list(
        User.objects.filter(is_active=True)
        .filter(
            Q(role=Role.LIAISON)
            | Q(role=Role.STATION_STAFF, organisation_id=station.organisation_id)
        )
        .exclude(pk__in=inside)
        .order_by("display_name", "pk")
    )


@transaction.atomic
def grid_specialist_set(
    *, actor: User, station_id: int, user_id: int, add: bool, now: dt.datetime | None = None
) -> None:
    """Adds a specialist to a station's grid, or takes one out (refused while they still serve
    people of that grid: reassign them first)."""
    now = now or timezone.now()
    if actor.role not in MANAGERS:
        raise PermissionDenied("只有人才驿站或人社局工作人员可以调整网格专员")
    station = grid_station_get(viewer=actor, station_id=station_id)
    town_id = station.town_id
    if town_id is None:
        raise NotFound("没有这个网格")
    row = GridAssignment.objects.filter(town_id=town_id, specialist_id=user_id).first()
    if add:
        person = next((u for u in grid_candidates(station=station) if u.pk == user_id), None)
        if person is None:
            raise ValidationError({"specialist": "请选择在岗的服务专员或本驿站工作人员"})
        row = GridAssignment.objects.create(
            specialist=person, town_id=town_id, station=station, assigned_at=now
        )
        summary = f"{station.name}网格加入专员：{person.display_name or person.username}"
        notify(
            user=person,
            channels=(Channel.INBOX,),
            category=Category.SYSTEM,
            subject="你已加入人才驿站网格",
            body=f"你已成为{station.name}网格的人才服务专员。",
            key=make_key("grid", row.pk, "add"),
            template="stations.grid_added",
            data={"url": PEOPLE_URL},
        )
    else:
        if row is None:
            raise NotFound("该专员不在这个网格")
        serving = SpecialistAssignment.objects.filter(
            specialist_id=user_id, active=True, talent__town_id=town_id
        ).count()
        if serving:
            raise ApplicationError(f"该专员仍在服务本网格的 {serving} 人，请先为他们更换专员")
        person = row.specialist
        row.delete()
        summary = f"{station.name}网格移出专员：{person.display_name or person.username}"
    audit_record(
        action="update",
        actor=actor,
        target=station,
        summary=summary,
        data={"specialist": user_id, "add": add},
    )
