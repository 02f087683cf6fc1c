"""Station pages: the network with its service points (everyone signed in), a station's day
for its staff (bookings, the 专窗 queue, open requests with their deadlines), opening a
service request for a person (station and HR bureau staff) or for oneself (a card holder),
the centre's service points, and booking the catalogue's bookable services for students."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qinghe.core.errorhandling import redirect_on_error, redirect_on_error_to
from qinghe.core.errors import NotFound
from qinghe.core.http import AuthedRequest

from . import selectors, services
from . import specialists as specialists_mod
from .models import Service, Station


@require_GET
def station_list(request: AuthedRequest) -> HttpResponse:
    return render(
        request,
        "stations/list.html",
        {"network": selectors.network(), "services": Service.objects.all()},
    )


@require_GET
def day(request: AuthedRequest) -> HttpResponse:
    raw = request.GET.get("day", "")
    try:
        when = dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        when = None
    return render(
        request,
        "stations/day.html",
        {
            "d": selectors.station_day(viewer=request.user, day=when),
            "services": Service.objects.all(),
        },
    )


@require_POST
@redirect_on_error("stations:day")
def ticket_issue(request: AuthedRequest) -> HttpResponse:
    ticket = services.ticket_issue(
        actor=request.user, service_code=request.POST.get("service", "window")
    )
    messages.success(request, f"已取号 {ticket.number:03d}")
    return redirect("stations:day")


@require_POST
@redirect_on_error("stations:day")
def ticket_serve(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    services.ticket_serve(
        actor=request.user, ticket_id=ticket_id, outcome=request.POST.get("outcome", "")
    )
    messages.success(request, "已办理")
    return redirect("stations:day")


@require_POST
@redirect_on_error("stations:day")
def request_close(request: AuthedRequest, request_id: int) -> HttpResponse:
    services.request_close(
        actor=request.user, request_id=request_id, outcome=request.POST.get("outcome", "")
    )
    messages.success(request, "已办结，结果已记入其档案的联络记录")
    return redirect("stations:day")


@require_POST
@redirect_on_error("stations:day")
def slot_set(request: AuthedRequest) -> HttpResponse:
    try:
        when = dt.date.fromisoformat(request.POST.get("day", ""))
        capacity = int(request.POST.get("capacity", ""))
    except ValueError:
        from django.core.exceptions import ValidationError

        raise ValidationError({"capacity": "请填写日期和名额"}) from None
    services.slot_set(
        actor=request.user,
        day=when,
        capacity=capacity,
        service_code=request.POST.get("service", "health_check"),
    )
    messages.success(request, "预约名额已保存")
    return redirect("stations:day")


@require_http_methods(["GET", "POST"])
@redirect_on_error("stations:book")
def book(request: AuthedRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            slot_id = int(request.POST.get("slot", ""))
        except ValueError:
            slot_id = 0
        booking = services.booking_create(user=request.user, slot_id=slot_id)
        messages.success(request, f"{booking.slot.service.name}预约成功")
        return redirect("stations:book")
    return render(
        request,
        "stations/book.html",
        {
            "bookable": selectors.bookable_services(),
            "mine": selectors.bookings_for(viewer=request.user)[:20],
        },
    )


# ---- service requests opened by staff or by a card holder -------------------------------------


@require_http_methods(["GET", "POST"])
@redirect_on_error("stations:request_new")
def request_new(request: AuthedRequest) -> HttpResponse:
    if request.method == "POST":
        talent = (
            services.request_people_for(viewer=request.user)
            .filter(pk=_int(request.POST.get("talent")) or 0)
            .first()
        )
        if talent is None:
            raise NotFound("没有这个人")
        req = services.request_open(
            actor=request.user,
            talent=talent,
            service_code=request.POST.get("service", ""),
            note=request.POST.get("note", "")[:300],
        )
        messages.success(
            request,
            f"已受理：{talent.name} · {req.service.name}，"
            f"时限 {timezone.localtime(req.due_at):%Y-%m-%d %H:%M}，已通知本人和{req.station.name}",
        )
        return redirect("stations:request_new")
    q = request.GET.get("q", "")[:30]
    return render(
        request,
        "stations/request_new.html",
        {
            "q": q,
            "hits": selectors.request_people(viewer=request.user, q=q),
            "services": Service.objects.all(),
        },
    )


@require_POST
@redirect_on_error("cards:mine")
def request_ask(request: AuthedRequest) -> HttpResponse:
    req = services.request_ask(
        user=request.user,
        service_code=request.POST.get("service", ""),
        note=request.POST.get("note", "")[:300],
    )
    messages.success(
        request,
        f"“{req.service.name}”申请已提交{req.station.name}，"
        f"将在 {timezone.localtime(req.due_at):%Y-%m-%d} 前办理",
    )
    return redirect("cards:mine")


# ---- service points ("N") -----------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@redirect_on_error("stations:points")
def points(request: AuthedRequest) -> HttpResponse:
    if request.method == "POST":
        point = services.point_create(
            actor=request.user,
            parent_id=_int(request.POST.get("parent")) or 0,
            name=request.POST.get("name", "")[:100],
            address=request.POST.get("address", "")[:200],
            hours=request.POST.get("hours", "")[:100],
            phone=request.POST.get("phone", "")[:32],
        )
        messages.success(request, f"服务点“{point.name}”已建立")
        return redirect("stations:points")
    rows, manage = selectors.points_for(viewer=request.user)
    return render(
        request,
        "stations/points.html",
        {
            "points": rows,
            "manage": manage,
            "towns": Station.objects.filter(kind=Station.Kind.TOWN, is_active=True),
        },
    )


@require_POST
@redirect_on_error("stations:points")
def point_active(request: AuthedRequest, station_id: int) -> HttpResponse:
    active = request.POST.get("active") == "1"
    point = services.point_set_active(actor=request.user, station_id=station_id, active=active)
    messages.success(request, f"服务点“{point.name}”已{'启用' if active else '停用'}")
    return redirect("stations:points")


# ---- talent service specialists -------------------------------------------------------------


def _int(raw: str | None) -> int | None:
    try:
        return int(raw or "")
    except ValueError:
        return None


@require_GET
def specialists(request: AuthedRequest) -> HttpResponse:
    station = specialists_mod.grid_station_get(
        viewer=request.user, station_id=_int(request.GET.get("station"))
    )
    q = request.GET.get("q", "")[:30]
    return render(
        request,
        "stations/specialists.html",
        {
            "station": station,
            "stations": specialists_mod.grid_stations_for(viewer=request.user),
            "specialists": specialists_mod.grid_specialists(station=station),
            "candidates": specialists_mod.grid_candidates(station=station),
            "people": specialists_mod.grid_people(viewer=request.user, station=station, q=q),
            "q": q,
        },
    )


@require_POST
def specialist_assign(request: AuthedRequest) -> HttpResponse:
    station_id = _int(request.POST.get("station"))
    back = reverse("stations:specialists") + (f"?station={station_id}" if station_id else "")
    redirect_on_error_to(request, back)
    specialists_mod.specialist_assign(
        actor=request.user,
        talent_id=_int(request.POST.get("talent")) or 0,
        specialist_id=_int(request.POST.get("specialist")) or 0,
        reason=request.POST.get("reason", "")[:200],
    )
    messages.success(request, "服务专员已分配，已通知本人和专员")
    return redirect(back)


@require_GET
def people(request: AuthedRequest) -> HttpResponse:
    return render(
        request,
        "stations/people.html",
        {"people": specialists_mod.people_of_specialist(viewer=request.user)},
    )


@require_POST
@redirect_on_error("stations:people")
def people_message(request: AuthedRequest, talent_id: int) -> HttpResponse:
    specialists_mod.specialist_message_to_person(
        actor=request.user, talent_id=talent_id, text=request.POST.get("text", "")
    )
    messages.success(request, "留言已发送")
    return redirect("stations:people")


@require_http_methods(["GET", "POST"])
@redirect_on_error("stations:my_specialist")
def my_specialist(request: AuthedRequest) -> HttpResponse:
    if request.method == "POST":
        specialists_mod.specialist_message_from_person(
            user=request.user, text=request.POST.get("text", "")
        )
        messages.success(request, "留言已发送给你的服务专员")
        return redirect("stations:my_specialist")
    return render(
        request,
        "stations/my_specialist.html",
        {"assignment": specialists_mod.specialist_for_person(viewer=request.user)},
    )


@require_POST
def grid_specialist(request: AuthedRequest) -> HttpResponse:
    station_id = _int(request.POST.get("station")) or 0
    back = reverse("stations:specialists") + f"?station={station_id}"
    redirect_on_error_to(request, back)
    add = request.POST.get("op") != "remove"
    specialists_mod.grid_specialist_set(
        actor=request.user,
        station_id=station_id,
        user_id=_int(request.POST.get("specialist")) or 0,
        add=add,
    )
    messages.success(request, "已加入网格" if add else "已移出网格")
    return redirect(back)
