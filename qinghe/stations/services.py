"""Writes for the talent stations: the network and catalogue (idempotent, from the reference
towns and data/services.json), service points ("N") made and closed by the centre's staff,
places of the bookable services and their bookings (counted under the slot's row lock, with a
check constraint as the backstop), the 专窗's numbered walk-in queue (numbers taken under the
station's row lock), and service requests: opened by staff for a person within their scope or
by a card holder for themselves (the person and the station told through the outbox), closed
with an outcome written to the person's record as a contact (outreach.ContactLog)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from qinghe.accounts.models import Organisation, User
from qinghe.core.audit import audit_record
from qinghe.core.errors import ApplicationError, NotFound, PermissionDenied
from qinghe.core.roles import Role
from qinghe.notifications.models import Category, Channel
from qinghe.notifications.services import make_key, notify, notify_bulk
from qinghe.outreach.models import ContactLog
from qinghe.reference.models import Town
from qinghe.talents.models import Talent
from qinghe.talents.selectors import talent_for_student

from .models import Booking, HealthSlot, QueueTicket, Service, ServiceRequest, Station

CATALOGUE = Path(__file__).with_name("data") / "services.json"
HESHAN = "440784"
CENTRE_NAME = "鹤山市人才服务中心"


def catalogue_ensure() -> int:
    """Creates or updates the service catalogue from data/services.json; returns its size."""
    rows = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    for position, row in enumerate(rows):
        Service.objects.update_or_create(
            code=row["code"],
            defaults={
                "name": row["name"],
                "description": row["description"],
                "bookable": row["bookable"],
                "holder_may_ask": row["holder_may_ask"],
                "due_days": row["due_days"],
                "position": position,
            },
        )
    return len(rows)


def _station(name: str, **fields: object) -> Station:
    org, _ = Organisation.objects.get_or_create(kind=Organisation.Kind.STATION, name=name)
    station, _ = Station.objects.get_or_create(name=name, defaults={"organisation": org, **fields})
    return station


def network_ensure() -> list[Station]:
    """The "1+10": the centre and one station per town or street of Heshan (the reference
    towns of county 440784 with a town or street code: 001-399). Idempotent."""
    centre = _station(
        CENTRE_NAME,
        kind=Station.Kind.CENTRE,
        address="鹤山市沙坪街道人民路 1 号 人力资源市场一楼",
        hours="周一至周五 8:30-12:00，14:30-17:30",
        phone="0750-8888000",
    )
    result = [centre]
    for town in Town.objects.filter(county_code=HESHAN).order_by("code"):
        if int(town.code[-3:]) >= 400:  # a prison and a forest farm, not towns
            continue
        result.append(
            _station(
                f"{town.name}人才驿站",
                kind=Station.Kind.TOWN,
                town=town,
                parent=centre,
                address=f"鹤山市{town.name}党群服务中心",
                hours="周一至周五 8:30-12:00，14:30-17:30",
            )
        )
    return result


# ---- service points ("N") -------------------------------------------------------------------


def _centre_staff(actor: User) -> Station:
    own = Station.objects.filter(organisation_id=actor.organisation_id or 0).first()
    if actor.role != Role.STATION_STAFF or own is None or own.kind != Station.Kind.CENTRE:
        raise PermissionDenied("只有人才服务中心的工作人员可以管理服务点")
    return own


@transaction.atomic
def point_create(
    *, actor: User, parent_id: int, name: str, address: str, hours: str, phone: str = ""
) -> Station:
    """A service point attached to an active town station, in that station's town."""
    _centre_staff(actor)
    parent = Station.objects.filter(pk=parent_id, kind=Station.Kind.TOWN, is_active=True).first()
    if parent is None:
        raise ValidationError({"parent": "请选择所属的镇街人才驿站"})
    name, address, hours, phone = (x.strip() for x in (name, address, hours, phone))
    errors = {}
    if not 2 <= len(name) <= 100:
        errors["name"] = "请填写服务点名称（2 到 100 字）"
    elif Station.objects.filter(name=name).exists():
        errors["name"] = "已有同名的驿站或服务点"
    if not 4 <= len(address) <= 200:
        errors["address"] = "请填写地址"
    if not 2 <= len(hours) <= 100:
        errors["hours"] = "请填写服务时间"
    if len(phone) > 32:
        errors["phone"] = "电话过长"
    if errors:
        raise ValidationError(errors)
    org = Organisation.objects.create(kind=Organisation.Kind.STATION, name=name)
    point = Station.objects.create(
        kind=Station.Kind.POINT,
        name=name,
        organisation=org,
        town_id=parent.town_id,
        parent=parent,
        address=address,
        hours=hours,
        phone=phone,
    )
    audit_record(
        action="create", actor=actor, target=point, summary=f"新建服务点：{name}（{parent.name}）"
    )
    return point


@transaction.atomic
def point_set_active(*, actor: User, station_id: int, active: bool) -> Station:
    """Closes (or reopens) a service point; stations themselves are not touched here."""
    _centre_staff(actor)
    point = (
        Station.objects.select_for_update().filter(pk=station_id, kind=Station.Kind.POINT).first()
    )
    if point is None:
        raise NotFound("没有这个服务点")
    if point.is_active == active:
        raise ApplicationError("该服务点已启用" if active else "该服务点已停用")
    point.is_active = active
    point.save(update_fields=["is_active", "updated_at"])
    audit_record(
        action="update",
        actor=actor,
        target=point,
        summary=f"{'启用' if active else '停用'}服务点：{point.name}",
    )
    return point


def _staff_station(actor: User) -> Station:
    station = Station.objects.filter(organisation_id=actor.organisation_id or 0).first()
    if actor.role != Role.STATION_STAFF or station is None:
        raise PermissionDenied("只有人才驿站工作人员可以办理")
    return station


# ---- health-check places ----------------------------------------------------------------------


@transaction.atomic
def slot_set(
    *, actor: User, day: dt.date, capacity: int, service_code: str = "health_check"
) -> HealthSlot:
    """Sets the places of one bookable service at the staff's station on one day."""
    station = _staff_station(actor)
    service = Service.objects.filter(code=service_code, bookable=True).first()
    if service is None:
        raise ValidationError({"service": "请选择可预约的服务项目"})
    if capacity < 0 or capacity > 500:
        raise ValidationError({"capacity": "名额须在 0 到 500 之间"})
    slot, _ = HealthSlot.objects.get_or_create(
        station=station, service=service, day=day, defaults={"capacity": capacity}
    )
    slot = HealthSlot.objects.select_for_update().get(pk=slot.pk)
    if capacity < slot.booked:
        raise ValidationError({"capacity": f"已有 {slot.booked} 人预约，名额不能少于此数"})
    slot.capacity = capacity
    slot.save(update_fields=["capacity"])
    audit_record(
        action="update",
        actor=actor,
        target=slot,
        summary=f"{station.name} {day} {service.name}名额 {capacity}",
    )
    return slot


@transaction.atomic
def booking_create(*, user: User, slot_id: int, now: dt.datetime | None = None) -> Booking:
    """Books one place of a bookable service (a health check, a policy consultation…). The
    slot's row is locked while the places are counted, so simultaneous bookings queue up; the
    check constraint refuses any overbooking."""
    now = now or timezone.now()
    slot = (
        HealthSlot.objects.select_for_update()
        .select_related("station", "service")
        .filter(pk=slot_id, service__bookable=True, station__is_active=True)
        .first()
    )
    if slot is None:
        raise ApplicationError("没有这个预约日期")
    name = slot.service.name
    if slot.day < timezone.localdate(now):
        raise ApplicationError("该日期已过")
    if Booking.objects.filter(slot=slot, user=user, state=Booking.State.BOOKED).exists():
        raise ApplicationError(f"你已预约该日{name}")
    if slot.booked >= slot.capacity:
        raise ApplicationError(f"该日{name}名额已满，请选择其他日期")
    slot.booked += 1
    slot.save(update_fields=["booked"])
    booking = Booking.objects.create(
        slot=slot, user=user, talent=talent_for_student(user=user), created_at=now
    )
    audit_record(
        action="create",
        actor=user,
        target=booking,
        summary=f"预约{name}：{slot.station.name} {slot.day}",
    )
    notify(
        user=user,
        channels=(Channel.INBOX,),
        category=Category.SYSTEM,
        subject=f"{name}预约成功",
        body=f"你已预约 {slot.day:%Y-%m-%d} 在{slot.station.name}的{name}（地址：{slot.station.address}）。",
        key=make_key("station-booking", booking.pk),
        template="stations.booking",
        data={"url": "/stations/book/"},
    )
    return booking


# ---- the 专窗 queue ---------------------------------------------------------------------------


@transaction.atomic
def ticket_issue(
    *,
    actor: User,
    service_code: str = "window",
    talent: Talent | None = None,
    now: dt.datetime | None = None,
) -> QueueTicket:
    """The next number of the day at the staff's station (numbers under the station's lock)."""
    now = now or timezone.now()
    station = _staff_station(actor)
    Station.objects.select_for_update().get(pk=station.pk)
    service = Service.objects.filter(code=service_code).first()
    if service is None:
        raise ValidationError({"service": "请选择服务项目"})
    day = timezone.localdate(now)
    last = QueueTicket.objects.filter(station=station, day=day).aggregate(n=Max("number"))["n"]
    ticket = QueueTicket.objects.create(
        station=station,
        day=day,
        number=(last or 0) + 1,
        service=service,
        talent=talent,
        issued_at=now,
    )
    audit_record(
        action="create",
        actor=actor,
        target=ticket,
        summary=f"{station.name} 专窗取号 {ticket.number:03d}",
    )
    return ticket


def _contact(*, actor: User, talent: Talent, text: str, at: dt.datetime) -> ContactLog:
    return ContactLog.objects.create(
        talent=talent,
        liaison=actor,
        channel=ContactLog.Channel.VISIT,
        outcome=ContactLog.Outcome.REACHED,
        notes=text[:2000],
        contacted_at=at,
    )


@transaction.atomic
def ticket_serve(
    *, actor: User, ticket_id: int, outcome: str, now: dt.datetime | None = None
) -> QueueTicket:
    now = now or timezone.now()
    station = _staff_station(actor)
    ticket = QueueTicket.objects.select_for_update().filter(pk=ticket_id, station=station).first()
    if ticket is None:
        raise ApplicationError("没有这个号")
    if ticket.state != QueueTicket.State.WAITING:
        raise ApplicationError("该号已办理")
    outcome = (outcome or "").strip()
    if len(outcome) < 2:
        raise ValidationError({"outcome": "请填写办理结果"})
    ticket.state, ticket.served_at, ticket.served_by = QueueTicket.State.SERVED, now, actor
    ticket.save(update_fields=["state", "served_at", "served_by"])
    if ticket.talent_id:
        assert ticket.talent is not None
        _contact(
            actor=actor,
            talent=ticket.talent,
            text=f"{station.name}·{ticket.service.name}：{outcome}",
            at=now,
        )
    audit_record(
        action="update",
        actor=actor,
        target=ticket,
        summary=f"{station.name} 专窗 {ticket.number:03d} 已办理",
    )
    return ticket


# ---- service requests ---------------------------------------------------------------------


REQUEST_OPENERS = (Role.STATION_STAFF, Role.HR_STAFF, Role.SYSADMIN)


def _town_station(talent: Talent) -> Station:
    """The station that serves a person: their town's station, else the centre."""
    station = None
    if talent.town_id is not None:
        station = Station.objects.filter(
            kind=Station.Kind.TOWN, town_id=talent.town_id, is_active=True
        ).first()
    station = station or Station.objects.filter(kind=Station.Kind.CENTRE).first()
    if station is None:
        raise ApplicationError("人才驿站网络尚未建立")
    return station


def request_people_for(*, viewer: User) -> QuerySet[Talent]:
    """The people a staff member may open a request for: HR bureau staff and the centre's
    staff everyone; a town station's (or point's) staff the people of its town, the people
    whose record names no town (no other station serves them) and the holders of cards
    handled by the station; anyone else no one."""
    people = Talent.objects.filter(merged_into__isnull=True)
    if viewer.role in (Role.HR_STAFF, Role.SYSADMIN):
        return people
    if viewer.role != Role.STATION_STAFF or not viewer.organisation_id:
        return people.none()
    own = Station.objects.filter(organisation_id=viewer.organisation_id).first()
    if own is None:
        return people.none()
    if own.kind == Station.Kind.CENTRE:
        return people
    return people.filter(
        Q(town_id=own.town_id) | Q(town__isnull=True) | Q(cards__station=own)
    ).distinct()


def _tell(req: ServiceRequest, *, by_holder: bool, actor: User) -> None:
    """The person (if they have an account) and the station's staff are told, in the
    caller's transaction."""
    service, station, talent = req.service, req.station, req.talent
    due = timezone.localtime(req.due_at)
    if talent.user_id is not None and not by_holder:
        assert talent.user is not None
        notify(
            user=talent.user,
            channels=(Channel.INBOX,),
            category=Category.SYSTEM,
            subject=f"{station.name}已为你受理：{service.name}",
            body=(
                f"{station.name}已为你受理“{service.name}”，将在 {due:%Y-%m-%d %H:%M} 前办理，"
                f"地址：{station.address}，服务时间：{station.hours}。"
            ),
            key=make_key("station-request-person", req.pk),
            template="stations.request_opened",
            data={"url": "/cards/"},
        )
    elif by_holder:
        notify(
            user=actor,
            channels=(Channel.INBOX,),
            category=Category.SYSTEM,
            subject=f"你的{service.name}申请已提交",
            body=(
                f"你的“{service.name}”申请已交{station.name}，将在 {due:%Y-%m-%d %H:%M} 前办理。"
            ),
            key=make_key("station-request-person", req.pk),
            template="stations.request_opened",
            data={"url": "/cards/"},
        )
    staff = list(
        User.objects.filter(organisation_id=station.organisation_id, is_active=True)
        .exclude(pk=actor.pk)
        .values_list("pk", flat=True)
    )
    notify_bulk(
        user_ids=staff,
        channels=(Channel.INBOX,),
        category=Category.SYSTEM,
        subject=f"新的服务事项：{service.name}",
        body=f"{talent.name}的“{service.name}”须在 {due:%Y-%m-%d %H:%M} 前办理。",
        key=make_key("station-request-staff", req.pk),
        template="stations.request_new",
        data={"url": "/stations/day/"},
    )


def _create_request(
    *,
    station: Station,
    service: Service,
    talent: Talent,
    note: str,
    now: dt.datetime,
    actor: User,
    by_holder: bool,
) -> ServiceRequest:
    req = ServiceRequest.objects.create(
        station=station,
        service=service,
        talent=talent,
        note=(note or "").strip()[:300],
        opened_at=now,
        due_at=now + dt.timedelta(days=service.due_days),
    )
    who = "持卡人申请" if by_holder else "受理"
    audit_record(
        action="create", actor=actor, target=req, summary=f"{station.name} {who}：{service.name}"
    )
    _tell(req, by_holder=by_holder, actor=actor)
    return req


@transaction.atomic
def request_open(
    *,
    actor: User,
    talent: Talent,
    service_code: str,
    note: str = "",
    now: dt.datetime | None = None,
) -> ServiceRequest:
    """Staff open a request of any type of the catalogue for a person within their scope
    (``request_people_for``), due ``service.due_days`` from now. Station staff open it at
    their own station; HR bureau staff at the person's town station (else the centre)."""
    now = now or timezone.now()
    if actor.role not in REQUEST_OPENERS:
        raise PermissionDenied("只有人才驿站和人社局工作人员可以受理")
    if actor.role == Role.STATION_STAFF:
        station = _staff_station(actor)
    else:
        station = _town_station(talent)
    if not request_people_for(viewer=actor).filter(pk=talent.pk).exists():
        raise NotFound("没有这个人")
    service = Service.objects.filter(code=service_code).first()
    if service is None:
        raise ValidationError({"service": "请选择服务项目"})
    return _create_request(
        station=station,
        service=service,
        talent=talent,
        note=note,
        now=now,
        actor=actor,
        by_holder=False,
    )


@transaction.atomic
def request_ask(
    *, user: User, service_code: str, note: str = "", now: dt.datetime | None = None
) -> ServiceRequest:
    """A card holder asks for a service the catalogue lets holders ask for; the request goes
    to the station that handles their card (else their town's station, else the centre)."""
    from qinghe.cards.models import Card

    now = now or timezone.now()
    card = (
        Card.objects.filter(holder=user, state=Card.State.ACTIVE).select_related("station").first()
    )
    talent = talent_for_student(user=user)
    if card is None or talent is None:
        raise ApplicationError("持有有效的鹤才青年卡才能在线申请服务")
    service = Service.objects.filter(code=service_code, holder_may_ask=True).first()
    if service is None:
        raise ValidationError({"service": "请选择可申请的服务项目"})
    if ServiceRequest.objects.filter(
        talent=talent, service=service, state=ServiceRequest.State.OPEN
    ).exists():
        raise ApplicationError(f"你的“{service.name}”申请正在办理中")
    station = card.station if card.station and card.station.is_active else _town_station(talent)
    return _create_request(
        station=station,
        service=service,
        talent=talent,
        note=note,
        now=now,
        actor=user,
        by_holder=True,
    )


@transaction.atomic
def request_close(
    *, actor: User, request_id: int, outcome: str, now: dt.datetime | None = None
) -> ServiceRequest:
    """Logs the outcome and writes it to the person's record as a contact."""
    now = now or timezone.now()
    station = _staff_station(actor)
    req = (
        ServiceRequest.objects.select_for_update()
        .select_related("service", "talent")
        .filter(pk=request_id, station=station)
        .first()
    )
    if req is None:
        raise ApplicationError("没有这个服务事项")
    if req.state != ServiceRequest.State.OPEN:
        raise ApplicationError("该事项已办结")
    outcome = (outcome or "").strip()
    if len(outcome) < 2:
        raise ValidationError({"outcome": "请填写办理结果"})
    req.state, req.outcome, req.handled_by, req.closed_at = (
        ServiceRequest.State.DONE,
        outcome[:2000],
        actor,
        now,
    )
    req.save(update_fields=["state", "outcome", "handled_by", "closed_at"])
    _contact(
        actor=actor, talent=req.talent, text=f"{station.name}·{req.service.name}：{outcome}", at=now
    )
    audit_record(
        action="update", actor=actor, target=req, summary=f"{station.name} 办结：{req.service.name}"
    )
    return req
