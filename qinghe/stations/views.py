"""Station pages: the network (everyone signed in), a station's day for its staff (bookings,
the 专窗 queue, open requests with their deadlines), and health-check booking for students."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qinghe.core.errorhandling import redirect_on_error
from qinghe.core.http import AuthedRequest

from . import selectors, services
from .models import Service


@require_GET
def station_list(request: AuthedRequest) -> HttpResponse:
    return render(
        request,
        "stations/list.html",
        {"stations": selectors.station_list(), "services": Service.objects.all()},
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
    services.slot_set(actor=request.user, day=when, capacity=capacity)
    messages.success(request, "体检名额已保存")
    return redirect("stations:day")


@require_http_methods(["GET", "POST"])
@redirect_on_error("stations:book")
def book(request: AuthedRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            slot_id = int(request.POST.get("slot", ""))
        except ValueError:
            slot_id = 0
        services.booking_create(user=request.user, slot_id=slot_id)
        messages.success(request, "预约成功")
        return redirect("stations:book")
    return render(
        request,
        "stations/book.html",
        {"slots": selectors.slots_open(), "mine": selectors.bookings_for(viewer=request.user)[:20]},
    )
