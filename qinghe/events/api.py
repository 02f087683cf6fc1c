"""Events as JSON: the published list and an event, registering and cancelling for the
signed-in student, and check-in for staff. Access rules are the pages' (policies.py); objects
come through the same scoped selectors, so an event a viewer may not see is a 404."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from qinghe.core.http import AuthedRequest
from qinghe.core.pagination import SmallPageIn

from . import selectors, services
from .models import Event, Registration

router = Router()


class EventOut(Schema):
    id: int
    type: str
    type_label: str
    title: str
    description: str
    organiser: str
    state: str
    place: str
    online: bool
    starts_at: dt.datetime
    ends_at: dt.datetime
    audience: str
    audience_level: str
    audience_year: int | None
    audience_chapter: str
    capacity: int | None
    registration_opens_at: dt.datetime
    registration_closes_at: dt.datetime
    cancel_deadline: dt.datetime


class EventDetailOut(EventOut):
    places_left: int | None
    enterprises: list[str]
    posting_ids: list[int]


def _event_out(e: Event) -> dict[str, object]:
    return {
        "id": e.pk,
        "type": e.type,
        "type_label": str(e.get_type_display()),
        "title": e.title,
        "description": e.description,
        "organiser": e.organiser.name,
        "state": e.state,
        "place": e.place,
        "online": e.is_online,
        "starts_at": e.starts_at,
        "ends_at": e.ends_at,
        "audience": e.audience,
        "audience_level": e.audience_level,
        "audience_year": e.audience_year,
        "audience_chapter": e.audience_chapter.name if e.audience_chapter else "",
        "capacity": e.capacity,
        "registration_opens_at": e.registration_opens_at,
        "registration_closes_at": e.registration_closes_at,
        "cancel_deadline": e.cancel_deadline,
    }


class EventFilterIn(SmallPageIn):
    type: str = ""
    month: str = Field("", description="YYYY-MM；不填则为尚未结束的活动")


class RegistrationOut(Schema):
    id: int
    event_id: int
    status: str
    status_label: str
    position: int | None
    registered_at: dt.datetime
    attended_at: dt.datetime | None


def _registration_out(reg: Registration, position: int | None) -> RegistrationOut:
    return RegistrationOut(
        id=reg.pk,
        event_id=reg.event_id,
        status=reg.status,
        status_label=str(reg.get_status_display()),
        position=position,
        registered_at=reg.registered_at,
        attended_at=reg.attended_at,
    )


class CheckInIn(Schema):
    code: str = Field(..., min_length=1, max_length=300)


class CheckInOut(Schema):
    registration_id: int
    already: bool
    attended_at: dt.datetime
    message: str


@router.get("", response=list[EventOut], url_name="event_list", summary="已发布的活动")
def event_list(request: AuthedRequest, filters: Query[EventFilterIn]) -> list[dict[str, object]]:
    qs = selectors.event_list_published(viewer=request.user, type=filters.type, month=filters.month)
    return [_event_out(e) for e in qs[filters.offset : filters.offset + filters.limit]]


@router.get("/{int:event_id}", response=EventDetailOut, url_name="event_detail", summary="活动详情")
def event_detail(request: AuthedRequest, event_id: int) -> dict[str, object]:
    event = selectors.event_get_for_viewer(viewer=request.user, event_id=event_id)
    return {
        **_event_out(event),
        "places_left": selectors.places_left(event=event),
        "enterprises": [e.name for e in event.enterprises.all()],
        "posting_ids": list(event.postings.values_list("pk", flat=True)),
    }


@router.post(
    "/{int:event_id}/registrations",
    response={201: RegistrationOut},
    url_name="event_register",
    summary="报名（名额已满则进入候补）",
)
def event_register(request: AuthedRequest, event_id: int) -> Status[RegistrationOut]:
    event = selectors.event_get_for_viewer(viewer=request.user, event_id=event_id)
    result = services.registration_create(user=request.user, event=event)
    return Status(201, _registration_out(result.registration, result.position))


@router.delete(
    "/{int:event_id}/registrations/me",
    response=RegistrationOut,
    url_name="event_unregister",
    summary="取消我的报名",
)
def event_unregister(request: AuthedRequest, event_id: int) -> RegistrationOut:
    event = selectors.event_get_for_viewer(viewer=request.user, event_id=event_id)
    return _registration_out(services.registration_cancel(user=request.user, event=event), None)


@router.post(
    "/{int:event_id}/checkins",
    response=CheckInOut,
    url_name="event_checkin",
    summary="现场签到（工作人员）",
)
def event_checkin(request: AuthedRequest, event_id: int, payload: CheckInIn) -> CheckInOut:
    event = selectors.event_get_for_staff(viewer=request.user, event_id=event_id)
    result = services.registration_check_in(actor=request.user, event=event, code=payload.code)
    reg = result.registration
    assert reg.attended_at is not None
    return CheckInOut(
        registration_id=reg.pk,
        already=result.already,
        attended_at=reg.attended_at,
        message=result.message,
    )
