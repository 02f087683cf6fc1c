"""The student's résumé page (/me/resume/): upload or replace, download their own, delete."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qinghe.core.errorhandling import redirect_on_error
from qinghe.core.errors import validation_message
from qinghe.core.http import AuthedRequest

from . import resume as resumes


class ResumeForm(forms.Form):
    file = forms.FileField(label="PDF 简历", required=True)


@require_http_methods(["GET", "POST"])
def resume_page(request: AuthedRequest) -> HttpResponse:
    form = ResumeForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise ValidationError({"file": "请选择要上传的 PDF 简历"})
            resume = resumes.resume_upload(user=request.user, upload=upload)
        except ValidationError as exc:
            messages.error(request, validation_message(exc))
        else:
            messages.success(request, f"简历已保存（{resume.pages} 页）。")
            return redirect("me:resume")
    return render(
        request,
        "talents/self_resume.html",
        {
            "form": form,
            "resume": resumes.resume_get_own(user=request.user),
            "max_mb": settings.QINGHE_RESUME_MAX_BYTES // (1024 * 1024),
        },
    )


@require_GET
def resume_download(request: AuthedRequest) -> HttpResponse:
    return resumes.resume_response(resumes.resume_open_own(user=request.user))


@require_POST
@redirect_on_error("me:resume")
def resume_delete(request: AuthedRequest) -> HttpResponse:
    resumes.resume_delete(user=request.user)
    messages.success(request, "简历已删除；企业不能再查看。")
    return redirect("me:resume")
