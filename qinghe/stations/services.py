"""Writes for the talent stations: the network and catalogue (idempotent, from the reference
towns and data/services.json), health-check places and bookings (counted under the slot's row
lock, with a check constraint as the backstop), the 专窗's numbered walk-in queue (numbers
taken under the station's row lock), and service requests whose outcome is written to the
person's record as a contact (outreach.ContactLog)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from qinghe.accounts.models import Organisation, User
from qinghe.core.audit import audit_record
from qinghe.core.errors import ApplicationError, PermissionDenied
from qinghe.core.roles import Role
from qinghe.notifications.models import Category, Channel
from qinghe.notifications.services import make_key, notify
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


def _staff_station(actor: User) -> Station:
    station = Station.objects.filter(organisation_id=actor.organisation_id or 0).first()
    if actor.role != Role.STATION_STAFF or station is None:
        raise PermissionDenied("只有人才驿站工作人员可以办理")
    return station


# ---- health-check places ----------------------------------------------------------------------


@transaction.atomic
def slot_set(*, actor: User, day: dt.date, capacity: int) -> HealthSlot:
    station = _staff_station(actor)
    if capacity < 0 or capacity > 500:
        raise ValidationError({"capacity": "名额须在 0 到 500 之间"})
    slot, _ = HealthSlot.objects.get_or_create(
        station=station, day=day, defaults={"capacity": capacity}
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
        summary=f"{station.name} {day} 体检名额 {capacity}",
    )
    return slot


@transaction.atomic
def booking_create(*, user: User, slot_id: int, now: dt.datetime | None = None) -> Booking:
    """Books one health-check place. The slot's row is locked while the places are counted,
    so simultaneous bookings queue up; the check constraint refuses any overbooking."""
    now = now or timezone.now()
    slot = (
        HealthSlot.objects.select_for_update().select_related("station").filter(pk=slot_id).first()
    )
    if slot is None:
        raise ApplicationError("没有这个体检日期")
    if slot.day < timezone.localdate(now):
        raise ApplicationError("该日期已过")
    if Booking.objects.filter(slot=slot, user=user, state=Booking.State.BOOKED).exists():
        raise ApplicationError("你已预约该日体检")
    if slot.booked >= slot.capacity:
        raise ApplicationError("该日体检名额已满，请选择其他日期")
    slot.booked += 1
    slot.save(update_fields=["booked"])
    booking = Booking.objects.create(
        slot=slot, user=user, talent=talent_for_student(user=user), created_at=now
    )
    audit_record(
        action="create",
        actor=user,
        target=booking,
        summary=f"预约体检：{slot.station.name} {slot.day}",
    )
    notify(
        user=user,
        channels=(Channel.INBOX,),
        category=Category.SYSTEM,
        subject="体检预约成功",
        body=f"你已预约 {slot.day:%Y-%m-%d} 在{slot.station.name}的健康体检（地址：{slot.station.address}）。",
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


@transaction.atomic
def request_open(
    *,
    actor: User,
    talent: Talent,
    service_code: str,
    note: str = "",
    now: dt.datetime | None = None,
) -> ServiceRequest:
    now = now or timezone.now()
    station = _staff_station(actor)
    service = Service.objects.filter(code=service_code).first()
    if service is None:
        raise ValidationError({"service": "请选择服务项目"})
    req = ServiceRequest.objects.create(
        station=station,
        service=service,
        talent=talent,
        note=(note or "").strip()[:300],
        opened_at=now,
        due_at=now + dt.timedelta(days=service.due_days),
    )
    audit_record(
        action="create", actor=actor, target=req, summary=f"{station.name} 受理：{service.name}"
    )
    return req


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
