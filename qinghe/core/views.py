from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from .http import AuthedRequest
from .models import AuditLog
from .selectors import audit_list, parse_day


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("core:dashboard")
    return render(request, "core/home.html")


@require_GET
def dashboard(request: AuthedRequest) -> HttpResponse:
    """The 工作台 of the viewer's role (qinghe.workbench)."""
    from qinghe.workbench.selectors import workbench_for

    workbench = workbench_for(viewer=request.user)
    unread = next((f.value for f in workbench.figures if f.key == "unread"), None)
    if isinstance(unread, int):
        request._inbox_unread = unread  # type: ignore[attr-defined]  # the menu badge: counted once
    return render(
        request, "workbench/workbench.html", {"workbench": workbench, "todos": workbench.todos}
    )


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@require_GET
def audit_log(request: AuthedRequest) -> HttpResponse:
    entries = audit_list(
        viewer=request.user,
        action=request.GET.get("action", ""),
        actor=request.GET.get("actor", ""),
        target_type=request.GET.get("target_type", ""),
        day=parse_day(request.GET.get("day", "")),
    )
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "core/audit_list.html",
        {"page": page, "actions": AuditLog.Action.choices, "filters": request.GET},
    )


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def error_500(request: HttpRequest) -> HttpResponse:
    """Rendered without the request's context processors: the error may be the database itself
    being down, and the menu, the unread badge and the session all read it."""
    from django.template import loader

    return HttpResponse(loader.render_to_string("500.html"), status=500)
