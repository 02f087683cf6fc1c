"""Event pages: the list and detail every signed-in user sees, the student's registrations,
and the organisers' pages (staff; an enterprise's HR for its own proposals). Thin: parse,
select, call one service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qinghe.core.errorhandling import redirect_on_error
from qinghe.core.errors import ApplicationError
from qinghe.core.http import AuthedRequest

from . import selectors, services
from .checkin import make_code, qr_data_uri
from .forms import CheckInForm, EventForm, NoteForm, add_service_errors, initial_for
from .models import Event, Registration


def _months(now: Any) -> list[str]:
    """This month, the three before and the eight after: the month filter's choices."""
    year, month = now.year, now.month
    out = []
    for delta in range(-3, 9):
        m = month - 1 + delta
        out.append(f"{year + m // 12:04d}-{m % 12 + 1:02d}")
    return out


# ---- everyone signed in -------------------------------------------------------------------


@require_GET
def event_list(request: AuthedRequest) -> HttpResponse:
    type_ = request.GET.get("type", "")
    month = request.GET.get("month", "")
    events = selectors.event_list_published(viewer=request.user, type=type_, month=month)
    page = Paginator(events, 20).get_page(request.GET.get("page"))
    return render(
        request,
        "events/list.html",
        {
            "page": page,
            "type": type_,
            "month": month,
            "types": Event.Type.choices,
            "months": _months(timezone.localdate()),
        },
    )


@require_GET
def event_detail(request: AuthedRequest, event_id: int) -> HttpResponse:
    event = selectors.event_get_for_viewer(viewer=request.user, event_id=event_id)
    registration = selectors.registration_latest(user=request.user, event=event)
    participant = selectors.is_participant(request.user)
    now = timezone.now()
    return render(
        request,
        "events/detail.html",
        {
            "event": event,
            "registration": registration,
            "position": (
                selectors.waitlist_position(registration=registration) if registration else None
            ),
            "participant": participant,
            "refusal": (
                selectors.registration_refusal(event=event, user=request.user, now=now)
                if participant and not (registration and registration.is_active)
                else ""
            ),
            "can_cancel": bool(
                registration
                and registration.is_active
                and now <= event.cancel_deadline
                and not registration.attended_at
            ),
            "places_left": selectors.places_left(event=event),
            "enterprises": event.enterprises.all(),
            "postings": event.postings.select_related("enterprise"),
            "manager": selectors.is_manager(viewer=request.user, event=event),
        },
    )


@require_POST
@redirect_on_error("events:detail", "event_id")
def register(request: AuthedRequest, event_id: int) -> HttpResponse:
    event = selectors.event_get_for_viewer(viewer=request.user, event_id=event_id)
    result = services.registration_create(user=request.user, event=event)
    if result.position is None:
        messages.success(request, "报名成功，名额已确认。签到二维码见“我的活动”。")
    else:
        messages.info(
            request,
            f"名额已满，你已进入候补，当前排第 {result.position} 位。有人取消时将按顺序递补并通知你。",
        )
    return redirect("events:detail", event_id=event.pk)


@require_POST
@redirect_on_error("events:detail", "event_id")
def cancel_registration(request: AuthedRequest, event_id: int) -> HttpResponse:
    event = selectors.event_get_for_viewer(viewer=request.user, event_id=event_id)
    services.registration_cancel(user=request.user, event=event)
    messages.success(request, "已取消报名。")
    return redirect("events:detail", event_id=event.pk)


@require_GET
def mine(request: AuthedRequest) -> HttpResponse:
    rows = []
    for item in selectors.my_registrations(user=request.user):
        reg = item.registration
        qr = ""
        if (
            reg.status == Registration.Status.CONFIRMED
            and reg.event.state
            in (
                Event.State.PUBLISHED,
                Event.State.FINISHED,
            )
            and not reg.attended_at
        ):
            qr = qr_data_uri(make_code(registration_id=reg.pk, event_id=reg.event_id))
        rows.append({"reg": reg, "event": reg.event, "position": item.position, "qr": qr})
    return render(request, "events/mine.html", {"rows": rows})


# ---- organisers -----------------------------------------------------------------------------


@require_GET
def manage(request: AuthedRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    type_ = request.GET.get("type", "")
    events = selectors.event_manage_list(viewer=request.user, state=state, type=type_)
    page = Paginator(events, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "events/manage.html",
        {
            "page": page,
            "state": state,
            "type": type_,
            "states": Event.State.choices,
            "types": Event.Type.choices,
            "staff": selectors.is_event_staff(request.user),
        },
    )


@require_http_methods(["GET", "POST"])
@redirect_on_error("events:manage")
def create(request: AuthedRequest) -> HttpResponse:
    form = EventForm(request.POST or None, viewer=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            event = services.event_create(actor=request.user, data=form.event_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "活动已保存为草稿。")
            return redirect("events:manage_detail", event_id=event.pk)
    return render(request, "events/form.html", {"form": form, "event": None})


@require_http_methods(["GET", "POST"])
@redirect_on_error("events:manage_detail", "event_id")
def edit(request: AuthedRequest, event_id: int) -> HttpResponse:
    event = selectors.event_get_for_manager(viewer=request.user, event_id=event_id)
    if not selectors.can_edit(viewer=request.user, event=event):
        messages.error(
            request,
            "活动已提交审核或已发布，如需修改请联系工作人员"
            if event.state in (Event.State.REVIEW, Event.State.PUBLISHED)
            else f"活动{event.get_state_display()}，不能再修改",
        )
        return redirect("events:manage_detail", event_id=event.pk)
    form = EventForm(request.POST or None, viewer=request.user, initial=initial_for(event))
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.event_update(actor=request.user, event=event, data=form.event_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "已保存。" if changed else "没有修改。")
            return redirect("events:manage_detail", event_id=event.pk)
    return render(request, "events/form.html", {"form": form, "event": event})


@require_GET
def manage_detail(request: AuthedRequest, event_id: int) -> HttpResponse:
    event = selectors.event_get_for_manager(viewer=request.user, event_id=event_id)
    staff = selectors.is_event_staff(request.user)
    return render(
        request,
        "events/manage_detail.html",
        {
            "event": event,
            "staff": staff,
            "can_edit": selectors.can_edit(viewer=request.user, event=event),
            "counts": selectors.registration_counts(event=event),
            "changes": selectors.event_changes(event=event)[:30],
            "enterprises": event.enterprises.all(),
            "postings": event.postings.select_related("enterprise"),
            "note_form": NoteForm(),
        },
    )


def _transition(request: AuthedRequest, event_id: int, action: str, done: str) -> HttpResponse:
    event = selectors.event_get_for_manager(viewer=request.user, event_id=event_id)
    services.event_transition(
        actor=request.user,
        event=event,
        action=action,
        note=request.POST.get("note", ""),
    )
    messages.success(request, done)
    return redirect("events:manage_detail", event_id=event.pk)


@require_POST
@redirect_on_error("events:manage_detail", "event_id")
def submit(request: AuthedRequest, event_id: int) -> HttpResponse:
    return _transition(request, event_id, "submit", "已提交审核，工作人员审核通过后发布。")


@require_POST
@redirect_on_error("events:manage_detail", "event_id")
def publish(request: AuthedRequest, event_id: int) -> HttpResponse:
    return _transition(request, event_id, "publish", "活动已发布，学子现在可以看到并报名。")


@require_POST
@redirect_on_error("events:manage_detail", "event_id")
def return_(request: AuthedRequest, event_id: int) -> HttpResponse:
    return _transition(request, event_id, "return", "已退回主办单位修改。")


@require_POST
@redirect_on_error("events:manage_detail", "event_id")
def cancel(request: AuthedRequest, event_id: int) -> HttpResponse:
    return _transition(request, event_id, "cancel", "活动已取消，已通知报名的学子。")


@require_POST
@redirect_on_error("events:manage_detail", "event_id")
def finish(request: AuthedRequest, event_id: int) -> HttpResponse:
    return _transition(request, event_id, "finish", "活动已结束。")


@require_GET
def registrations(request: AuthedRequest, event_id: int) -> HttpResponse:
    event = selectors.event_get_for_staff(viewer=request.user, event_id=event_id)
    status = request.GET.get("status", "")
    regs = selectors.event_registrations(viewer=request.user, event=event, status=status)
    page = Paginator(regs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "events/registrations.html",
        {
            "event": event,
            "page": page,
            "status": status,
            "statuses": Registration.Status.choices,
            "counts": selectors.registration_counts(event=event),
        },
    )


@require_http_methods(["GET", "POST"])
def checkin(request: AuthedRequest, event_id: int) -> HttpResponse:
    event = selectors.event_get_for_staff(viewer=request.user, event_id=event_id)
    form = CheckInForm(request.POST or None)
    result = None
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            result = services.registration_check_in(
                actor=request.user, event=event, code=form.cleaned_data["code"]
            )
        except ApplicationError as exc:
            error = exc.message
        form = CheckInForm()  # an empty field, ready for the next scan
    return render(
        request,
        "events/checkin.html",
        {
            "event": event,
            "form": form,
            "result": result,
            "error": error,
            "counts": selectors.registration_counts(event=event),
        },
        status=400 if error else 200,
    )
