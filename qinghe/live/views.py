"""直播带岗 pages: the list, the watch page (player, featured postings with one-click
application, the live question box), and the staff pages (schedule, start, end, figures)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qinghe.core.errorhandling import redirect_on_error
from qinghe.core.errors import ApplicationError, NotFound, PermissionDenied
from qinghe.core.http import AuthedRequest
from qinghe.recruitment.services.applications import NOT_SHARED
from qinghe.talents.selectors import talent_for_student

from . import rules, selectors, services
from .forms import StreamForm
from .models import Stream

CONSENT_KEY = "live_consent"


def _consented(request: AuthedRequest, stream: Stream) -> bool:
    return stream.pk in request.session.get(CONSENT_KEY, [])


def _allow_source(response: HttpResponse, url: str) -> HttpResponse:
    """The watch page may fetch and play its own stream's origin (and MSE blobs), nothing else."""
    parts = urlsplit(url)
    sources = ["'self'", "blob:"]
    origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
    update: dict[str, list[str]] = {"media-src": [*sources, *([origin] if origin else [])]}
    if origin:
        update["connect-src"] = [origin]
    response._csp_update = update  # type: ignore[attr-defined]
    return response


@require_GET
def stream_list(request: AuthedRequest) -> HttpResponse:
    show = "upcoming" if request.GET.get("show") == "upcoming" else ""
    streams = selectors.streams_for_viewer(viewer=request.user, show=show)[:50]
    return render(
        request,
        "live/list.html",
        {"streams": streams, "show": show, "organiser": rules.is_organiser(request.user)},
    )


@require_GET
def watch(request: AuthedRequest, stream_id: int) -> HttpResponse:
    stream = selectors.stream_get_for_viewer(viewer=request.user, stream_id=stream_id)
    student = request.user.role in rules.VIEWER_ROLES
    applied: set[int] = set()
    if student:
        from qinghe.recruitment.models import Application

        applied = set(
            Application.objects.filter(
                applicant=request.user, posting__in=stream.postings.all()
            ).values_list("posting_id", flat=True)
        )
    source = stream.replay_url if stream.state == Stream.State.ENDED else stream.hls_url
    enterprises = list(stream.enterprises.order_by("name").values_list("name", flat=True))
    response = render(
        request,
        "live/watch.html",
        {
            "stream": stream,
            "source": source,
            "postings": selectors.featured_postings(stream=stream),
            "applied": applied,
            "student": student,
            "has_talent": student and talent_for_student(user=request.user) is not None,
            "consented": _consented(request, stream),
            "consent_label": "同意向本场直播中我投递的企业（"
            + "、".join(enterprises)
            + "）提供我的求职信息（用途：招聘）",
            "not_shared": NOT_SHARED,
            "team": selectors.viewer_is_team(viewer=request.user, stream=stream),
            "moderator": rules.is_organiser(request.user),
            "figures": selectors.stream_figures(stream)
            if stream.state == Stream.State.ENDED
            else None,
        },
    )
    return _allow_source(response, source) if source else response


@require_POST
def apply(request: AuthedRequest, stream_id: int, posting_id: int) -> JsonResponse:
    """One click from the watch page (fetch): applies and answers JSON; the first time asks for
    the consent, which the page then sends once and the session remembers for this stream."""
    try:
        stream = selectors.stream_get_for_viewer(viewer=request.user, stream_id=stream_id)
    except NotFound as exc:
        return JsonResponse({"ok": False, "message": str(exc)}, status=404)
    consent = _consented(request, stream) or request.POST.get("consent") == "1"
    if not consent:
        # Not an error: the page asks for the consent and sends it with the same click.
        return JsonResponse({"ok": False, "need_consent": True})
    if talent_for_student(user=request.user) is None:
        return JsonResponse(
            {"ok": False, "message": "投递前请先认领你的人才档案（我的档案 → 认领）"}, status=400
        )
    try:
        application = services.apply_from_stream(
            actor=request.user, stream=stream, posting_id=posting_id, consent=True
        )
    except ValidationError as exc:
        return JsonResponse({"ok": False, "message": "；".join(exc.messages)}, status=400)
    except (ApplicationError, PermissionDenied, NotFound) as exc:
        return JsonResponse({"ok": False, "message": str(exc)}, status=400)
    if not _consented(request, stream):
        request.session[CONSENT_KEY] = [*request.session.get(CONSENT_KEY, []), stream.pk]
    return JsonResponse(
        {"ok": True, "message": f"已投递“{application.posting.title}”", "id": application.pk}
    )


# --- staff ---------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def manage(request: AuthedRequest) -> HttpResponse:
    form = StreamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            stream = services.stream_create(
                actor=request.user,
                title=data["title"],
                host=data["host"],
                enterprises=data["enterprises"],
                postings=data["postings"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                hls_url=data["hls_url"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(request, f"已安排直播“{stream.title}”。")
            return redirect("live:manage_detail", stream_id=stream.pk)
    return render(
        request,
        "live/manage.html",
        {"form": form, "streams": selectors.streams_for_viewer(viewer=request.user)[:50]},
    )


@require_GET
def manage_detail(request: AuthedRequest, stream_id: int) -> HttpResponse:
    stream = selectors.stream_get_for_viewer(viewer=request.user, stream_id=stream_id)
    return render(
        request,
        "live/manage_detail.html",
        {"stream": stream, "figures": selectors.stream_figures(stream)},
    )


@require_POST
@redirect_on_error("live:manage_detail", "stream_id")
def start(request: AuthedRequest, stream_id: int) -> HttpResponse:
    stream = selectors.stream_get_for_viewer(viewer=request.user, stream_id=stream_id)
    services.stream_start(actor=request.user, stream=stream)
    messages.success(request, "直播已开始。")
    return redirect("live:manage_detail", stream_id=stream.pk)


@require_POST
@redirect_on_error("live:manage_detail", "stream_id")
def replay(request: AuthedRequest, stream_id: int) -> HttpResponse:
    stream = selectors.stream_get_for_viewer(viewer=request.user, stream_id=stream_id)
    try:
        services.stream_set_replay(
            actor=request.user, stream=stream, replay_url=request.POST.get("replay_url", "")
        )
    except ValidationError as exc:
        raise ApplicationError("；".join(exc.messages)) from exc
    messages.success(request, "回放地址已保存。")
    return redirect("live:manage_detail", stream_id=stream.pk)


@require_POST
@redirect_on_error("live:manage_detail", "stream_id")
def end(request: AuthedRequest, stream_id: int) -> HttpResponse:
    stream = selectors.stream_get_for_viewer(viewer=request.user, stream_id=stream_id)
    services.stream_end(
        actor=request.user, stream=stream, replay_url=request.POST.get("replay_url", "")
    )
    messages.success(request, "直播已结束。")
    return redirect("live:manage_detail", stream_id=stream.pk)
