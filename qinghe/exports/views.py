"""Export pages: my exports, one export's page with its progress bar (htmx polls the partial
every second while it runs) and the download. Thin: parse, select, call one service."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from qinghe.core.http import AuthedRequest

from . import selectors, services


@require_GET
def export_list(request: AuthedRequest) -> HttpResponse:
    page = Paginator(selectors.export_list(viewer=request.user), 20).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "exports/export_list.html",
        {"page": page, "threshold": services.background_threshold()},
    )


@require_GET
def export_detail(request: AuthedRequest, export_id: int) -> HttpResponse:
    export = selectors.export_get_for_viewer(viewer=request.user, export_id=export_id)
    return render(request, "exports/export_detail.html", {"export": export})


@require_GET
def export_progress(request: AuthedRequest, export_id: int) -> HttpResponse:
    export = selectors.export_get_for_viewer(viewer=request.user, export_id=export_id)
    return render(request, "exports/_export_progress.html", {"export": export})


@require_GET
def export_download(request: AuthedRequest, export_id: int) -> HttpResponse:
    export = selectors.export_get_for_viewer(viewer=request.user, export_id=export_id)
    download = services.export_download(viewer=request.user, export=export)
    response = HttpResponse(download.content, content_type=download.content_type)
    response["Content-Disposition"] = f'attachment; filename="{download.filename}"'
    response["X-Row-Count"] = str(export.rows_done)
    return response
