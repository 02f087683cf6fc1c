"""Survey import pages: the list of batches with the upload form, a batch's page with its
progress bar (htmx polls the progress partial every second while it runs), and the download
of the rejected rows. Thin: parse, select, call one service, render."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from qinghe.core.http import AuthedRequest

from . import importing, selectors
from .models import ImportBatch, ImportRow
from .selectors import IMPORT_SHOW_LABELS
from .tasks import run_import


class SurveyUploadForm(forms.Form):
    source_name = forms.CharField(
        label="数据来源",
        max_length=120,
        help_text="如：教育局 2025 届毕业生就业情况调查。同一文件与来源再次上传时，会接着未完成的导入继续。",
    )
    file = forms.FileField(
        label="调查表文件",
        help_text=(
            f"支持 .xlsx 与 .csv（UTF-8 或 GBK 编码），不超过 {importing.MAX_UPLOAD_BYTES // (1024 * 1024)} MB。"
            "表头可在前 10 行内，上方的标题行会被跳过。"
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )

    def clean_file(self):  # type: ignore[no-untyped-def]
        upload = self.cleaned_data["file"]
        try:
            importing.file_kind(upload.name)
            importing.check_size(upload.size)
        except importing.ImportFileError as exc:
            raise forms.ValidationError(exc.message) from exc
        return upload


def _batch(request: AuthedRequest, batch_id: int) -> ImportBatch:
    return importing.import_batch_get_for_viewer(viewer=request.user, batch_id=batch_id)


@require_http_methods(["GET", "POST"])
def import_list(request: AuthedRequest) -> HttpResponse:
    form = SurveyUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            batch, resumed = importing.survey_upload(
                upload=form.cleaned_data["file"],
                source_name=form.cleaned_data["source_name"],
                created_by=request.user,
            )
        except importing.ImportFileError as exc:
            form.add_error("file", exc.message)
        else:
            run_import.enqueue(batch.pk)
            if resumed:
                messages.info(request, "该文件有未完成的导入，已接着上次的进度继续。")
            else:
                messages.success(request, "文件已上传，正在后台导入。")
            return redirect("talents:import_detail", batch_id=batch.pk)
    show = request.GET.get("show", "")
    show = show if show in IMPORT_SHOW_LABELS else ""
    page = Paginator(importing.import_batch_list(viewer=request.user, show=show), 20).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "talents/import_list.html",
        {"form": form, "page": page, "filter_note": IMPORT_SHOW_LABELS.get(show, "")},
    )


@require_GET
def import_detail(request: AuthedRequest, batch_id: int) -> HttpResponse:
    batch = _batch(request, batch_id)
    header = batch.header_map or {}
    columns = header.get("columns") or {}
    header_rows = [
        (name, columns.get(str(i), "")) for i, name in enumerate(header.get("names") or []) if name
    ]
    held = batch.rows.filter(outcome=ImportRow.Outcome.HELD).only("row_number", "held_for_id")
    rejected_page = Paginator(selectors.import_rejected_rows(batch=batch), 50).get_page(
        request.GET.get("rejected_page")
    )
    return render(
        request,
        "talents/import_detail.html",
        {
            "batch": batch,
            "header_rows": header_rows,
            "held": list(held.order_by("row_number")),
            "rejected_page": rejected_page,
            "rejected_rows": selectors.rejected_rows_shown(
                batch=batch, rows=rejected_page.object_list
            ),
        },
    )


@require_GET
def import_progress(request: AuthedRequest, batch_id: int) -> HttpResponse:
    batch = _batch(request, batch_id)
    return render(request, "talents/import_progress.html", {"batch": batch})


@require_GET
def import_rejected(request: AuthedRequest, batch_id: int) -> FileResponse:
    batch = _batch(request, batch_id)
    handle = importing.import_rejected_open(viewer=request.user, batch=batch)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=f"rejected-{batch.pk}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
