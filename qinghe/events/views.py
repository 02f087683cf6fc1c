"""Event pages: the list and detail every signed-in user sees, the student's registrations,
and the organisers' pages (staff; an enterprise's HR for its own proposals). Thin: parse,
select, call one service, render."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qinghe.alliance.stories import stories_related
from qinghe.core.errorhandling import redirect_on_error
from qinghe.core.errors import ApplicationError
from qinghe.core.http import AuthedRequest
from qinghe.core.masking import mask_name

from . import selectors, services, studytours
from .checkin import make_code, public_jwks, qr_data_uri
from .forms import (
    CheckInForm,
    EventForm,
    GuardianForm,
    ItineraryStopForm,
    NoteForm,
    add_service_errors,
    initial_for,
)
from .models import Event, Feedback, Registration, TourGroup


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
            "itinerary": event.itinerary.all(),
            "groups": [(g, TourGroup(g).label) for g in event.tour_groups or []],
            "photos": selectors.photos_for_viewer(viewer=request.user, event=event),
            "stories": stories_related(
                industry_ids=[
                    i for i in event.enterprises.values_list("industry_id", flat=True) if i
                ]
            ),
        },
    )


@require_POST
@redirect_on_error("events:detail", "event_id")
def register(request: AuthedRequest, event_id: int) -> HttpResponse:
    event = selectors.event_get_for_viewer(viewer=request.user, event_id=event_id)
    result = services.registration_create(
        user=request.user, event=event, group=request.POST.get("group", "")
    )
    if result.registration.status == Registration.Status.GUARDIAN:
        messages.info(
            request,
            "已为你保留名额。你未满 18 岁，请在“我的活动”中把同意书链接发给监护人，监护人同意后报名即确认。",
        )
    elif result.position is None:
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
    upcoming = request.GET.get("show") == "upcoming"
    # One query for the feedback already given, not one per attended registration.
    rated = set(
        Feedback.objects.filter(registration__user=request.user).values_list(
            "registration_id", flat=True
        )
    )
    for item in selectors.my_registrations(user=request.user, upcoming=upcoming):
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
        guardian = (
            request.build_absolute_uri(studytours.guardian_link(reg))
            if reg.status == Registration.Status.GUARDIAN
            else ""
        )
        rows.append(
            {
                "reg": reg,
                "event": reg.event,
                "position": item.position,
                "qr": qr,
                "guardian": guardian,
                "can_rate": bool(
                    reg.attended_at and reg.event.ends_at <= timezone.now() and reg.pk not in rated
                ),
            }
        )
    return render(
        request,
        "events/mine.html",
        {"rows": rows, "filter_note": "尚未结束的报名（含候补）" if upcoming else ""},
    )


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
            "itinerary": event.itinerary.all(),
            "stop_form": ItineraryStopForm() if event.type == Event.Type.STUDY_TOUR else None,
            "photos": event.photos.all() if staff else [],
            "report": selectors.event_report(event=event) if staff else None,
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
    response = render(
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
    # The door scans students' QR codes with the phone camera (same origin only).
    response["Permissions-Policy"] = settings.PERMISSIONS_POLICY_CAMERA
    return response


def checkin_offline_data(request: AuthedRequest, event_id: int) -> JsonResponse:
    """What the door phone keeps for checking in without network: the public keys that verify
    codes and the confirmed registrations (id, masked name, already checked in)."""
    event = selectors.event_get_for_staff(viewer=request.user, event_id=event_id)
    entries = selectors.checkin_offline_list(viewer=request.user, event=event)
    response = JsonResponse(
        {
            "event": {"id": event.pk, "title": event.title},
            "keys": public_jwks()["keys"],
            "registrations": [
                {
                    "id": e.registration_id,
                    "name": e.masked_name,
                    "attended_at": e.attended_at.isoformat() if e.attended_at else None,
                }
                for e in entries
            ],
            "generated_at": timezone.now().isoformat(),
        }
    )
    response["Cache-Control"] = "no-store"
    return response


SYNC_BODY_LIMIT = 256 * 1024


def _sync_items(body: bytes) -> list[services.SyncItem]:
    """The phone's queue: ``{"checkins": [{"code": "...", "at": "ISO time"}, ...]}``."""
    if len(body) > SYNC_BODY_LIMIT:
        raise ApplicationError("同步内容过大，请分批同步")
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApplicationError("同步内容不是有效的 JSON") from exc
    rows = data.get("checkins") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise ApplicationError("同步内容缺少离线签到列表")
    items = []
    for number, row in enumerate(rows, start=1):
        code = row.get("code") if isinstance(row, dict) else None
        at_text = row.get("at") if isinstance(row, dict) else None
        at = parse_datetime(at_text) if isinstance(at_text, str) else None
        if not isinstance(code, str) or at is None or timezone.is_naive(at):
            raise ApplicationError(f"第 {number} 条离线签到缺少签到码或带时区的签到时间")
        items.append(services.SyncItem(code=code, at=at))
    return items


@require_POST
def checkin_sync(request: AuthedRequest, event_id: int) -> JsonResponse:
    """Records a door phone's offline check-ins (idempotent: see services.checkins_sync)."""
    event = selectors.event_get_for_staff(viewer=request.user, event_id=event_id)
    try:
        outcomes = services.checkins_sync(
            actor=request.user, event=event, items=_sync_items(request.body)
        )
    except ApplicationError as exc:
        return JsonResponse({"detail": exc.message}, status=400)
    counts = selectors.registration_counts(event=event)
    return JsonResponse(
        {
            "results": [
                {
                    "index": o.index,
                    "status": o.status,
                    "message": o.message,
                    "registration_id": o.registration_id,
                }
                for o in outcomes
            ],
            "attended": counts.attended,
        }
    )


@require_GET
def checkin_service_worker(request: HttpRequest) -> HttpResponse:
    """The check-in page's service worker, served from /events/ so that its scope covers the
    check-in pages (a script under /static/ could only control /static/)."""
    response = render(request, "events/checkin-sw.js", content_type="text/javascript")
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/events/"
    return response


# ---- study tours ----------------------------------------------------------------------------


@require_POST
@redirect_on_error("events:manage_detail", "event_id")
def itinerary_add(request: AuthedRequest, event_id: int) -> HttpResponse:
    event = selectors.event_get_for_staff(viewer=request.user, event_id=event_id)
    form = ItineraryStopForm(request.POST)
    if not form.is_valid():
        raise ApplicationError("请填写行程的时间、类型和地点")
    d = form.cleaned_data
    try:
        studytours.itinerary_add(
            actor=request.user,
            event=event,
            at=d["at"],
            kind=d["kind"],
            place=d["place"],
            note=d.get("note") or "",
        )
    except ValidationError as exc:
        raise ApplicationError("；".join(exc.messages)) from exc
    messages.success(request, "已加入行程。")
    return redirect("events:manage_detail", event_id=event.pk)


@require_POST
@redirect_on_error("events:manage_detail", "event_id")
def itinerary_remove(request: AuthedRequest, event_id: int, stop_id: int) -> HttpResponse:
    event = selectors.event_get_for_staff(viewer=request.user, event_id=event_id)
    studytours.itinerary_remove(actor=request.user, event=event, stop_id=stop_id)
    messages.success(request, "已删除该行程。")
    return redirect("events:manage_detail", event_id=event.pk)


@require_POST
@redirect_on_error("events:manage_detail", "event_id")
def photo_upload(request: AuthedRequest, event_id: int) -> HttpResponse:
    event = selectors.event_get_for_staff(viewer=request.user, event_id=event_id)
    upload = request.FILES.get("photo")
    if upload is None:
        raise ApplicationError("请选择照片")
    if upload.size and upload.size > studytours.PHOTO_MAX_BYTES:
        raise ApplicationError("照片不能超过 8 MB")
    try:
        studytours.photo_add(
            actor=request.user,
            event=event,
            data=upload.read(),
            caption=request.POST.get("caption", ""),
        )
    except ValidationError as exc:
        raise ApplicationError("；".join(exc.messages)) from exc
    messages.success(request, "照片已上传，仅本活动的参加者和工作人员可见。")
    return redirect("events:manage_detail", event_id=event.pk)


@require_GET
def photo(request: AuthedRequest, photo_id: int) -> HttpResponse:
    found = selectors.photo_get_for_viewer(viewer=request.user, photo_id=photo_id)
    response = HttpResponse(studytours.photo_bytes(found), content_type=found.content_type)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_http_methods(["GET", "POST"])
def guardian(request: HttpRequest, token: str) -> HttpResponse:
    """The guardian's page (no sign-in): the tour, its itinerary, and the consent form. The
    student's name is shown masked; nothing else about the student."""
    reg = studytours.guardian_registration(token)
    form = GuardianForm(request.POST or None)
    done = reg.status == Registration.Status.CONFIRMED and reg.guardian_consented_at is not None
    if request.method == "POST" and not done and form.is_valid():
        try:
            reg = studytours.guardian_consent(
                token=token, name=form.cleaned_data["name"], phone=form.cleaned_data["phone"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            done = True
    return render(
        request,
        "events/guardian.html",
        {
            "reg": reg,
            "event": reg.event,
            "itinerary": reg.event.itinerary.all(),
            "student": mask_name(reg.user.display_name or ""),
            "form": form,
            "done": done,
        },
        status=400 if request.method == "POST" and not done else 200,
    )


@require_POST
@redirect_on_error("events:mine")
def feedback(request: AuthedRequest, event_id: int) -> HttpResponse:
    event = selectors.event_get_for_viewer(viewer=request.user, event_id=event_id)
    raw = request.POST.get("rating", "")
    rating = int(raw) if raw.isdigit() else 0
    try:
        services.feedback_create(
            user=request.user, event=event, rating=rating, comment=request.POST.get("comment", "")
        )
    except ValidationError as exc:
        raise ApplicationError("；".join(exc.messages)) from exc
    messages.success(request, "感谢你的评价！")
    return redirect("events:mine")
