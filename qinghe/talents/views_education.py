"""The student's own education (/me/education/), its search suggestions, and the staff's 核实
of a row a student entered. Thin: parse, call one service, render."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qinghe.core.errorhandling import redirect_on_error
from qinghe.core.errors import ApplicationError
from qinghe.core.http import AuthedRequest
from qinghe.reference.models import MajorCategory
from qinghe.reference.selectors import dataset_get, reference_list

from . import selectors, services_self
from .models import Level

SUGGEST_LIMIT = 12


class EducationForm(forms.Form):
    university = forms.CharField(
        label="就读院校",
        max_length=120,
        help_text="输入校名、简称或拼音首字母，从列表中选择全称",
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "list": "university-options", "data-suggest": "u"}
        ),
    )
    level = forms.ChoiceField(label="学历层次", choices=[("", "请选择"), *Level.choices])
    major = forms.CharField(
        label="所学专业",
        max_length=120,
        help_text="本科及以上选专业名称；专科可选专业大类（如“电子与信息大类”）",
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "list": "major-options", "data-suggest": "m"}
        ),
    )
    enrolment = forms.CharField(
        label="入学时间",
        max_length=7,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "2021-09"}),
    )
    graduation = forms.CharField(
        label="毕业时间（预计）",
        max_length=7,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "2025-06"}),
    )


def _add_errors(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


@require_http_methods(["GET", "POST"])
def education(request: AuthedRequest) -> HttpResponse:
    talent = services_self.own_talent(user=request.user)
    if talent is None:
        return redirect("me:claim")
    current = services_self.self_education_current(user=request.user)
    initial = {}
    if current is not None:
        initial = {
            "university": current.university_name,
            "level": current.level,
            "major": current.major_name,
            "enrolment": f"{current.enrolment_year}-09" if current.enrolment_year else "",
            "graduation": f"{current.graduation_year}-06" if current.graduation_year else "",
        }
    form = EducationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = services_self.self_education_save(
                user=request.user,
                university=data["university"],
                level=data["level"],
                major=data["major"],
                enrolment=data["enrolment"],
                graduation=data["graduation"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "教育经历已保存，来源记为“学生本人”，待服务专员核实。")
            if saved.matching_consent:
                return redirect("matching:for_me")
            messages.info(
                request,
                "你还没有同意“岗位匹配与推荐”，所以暂时没有推荐。"
                "在“授权管理”中点“同意”后，即可看到为你推荐的岗位。",
            )
            return redirect(reverse("me:home") + "#consents")
    return render(
        request,
        "talents/self_education.html",
        {
            "form": form,
            "talent": talent,
            "educations": talent.educations.select_related("major_category"),
        },
    )


def _hits(slug: str, q: str, **only: str) -> list[dict[str, str]]:
    dataset = dataset_get(slug)
    assert dataset is not None
    rows = reference_list(dataset=dataset, q=q).filter(**only)[:SUGGEST_LIMIT]
    return [{"name": row.name, "extra": dataset.describe(row)} for row in rows]


@require_GET
def suggest_universities(request: HttpRequest) -> JsonResponse:
    """Universities whose name, former name or pinyin match ``q`` (at most 12)."""
    q = request.GET.get("q", "").strip()[:40]
    return JsonResponse({"results": _hits("universities", q) if q else []})


@require_GET
def suggest_majors(request: HttpRequest) -> JsonResponse:
    """Undergraduate majors and vocational 专业大类 matching ``q`` (at most 12 of each)."""
    q = request.GET.get("q", "").strip()[:40]
    if not q:
        return JsonResponse({"results": []})
    majors = _hits("majors", q)
    categories = _hits("categories", q, kind=MajorCategory.Kind.VOCATIONAL)
    return JsonResponse({"results": (majors + categories)[: SUGGEST_LIMIT * 2]})


@require_POST
@redirect_on_error("talents:detail", "talent_id")
def education_verify(request: AuthedRequest, talent_id: int, education_id: int) -> HttpResponse:
    """核实 of an education row a student entered; refusals come back as a message."""
    talent = selectors.talent_get_for_viewer(viewer=request.user, talent_id=talent_id)
    row = services_self.education_verify(
        viewer=request.user, talent=talent, education_id=education_id
    )
    messages.success(request, f"已核实教育经历：{row.university_name} {row.major_name}。")
    return redirect("talents:detail", talent_id=talent.pk)
