"""Forms parse input; the rules live in the services (qinghe.jobs.services)."""

from __future__ import annotations

import re
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError

from qinghe.enterprises.forms import heshan_towns
from qinghe.reference.models import Major, MajorCategory, Town

from .models import MinLevel, Posting
from .services import PostingData
from .workflow import QUALITY_CRITERIA

_SPLIT = re.compile(r"[\s,，、;；]+")


def category_choices() -> list[Any]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for row in MajorCategory.objects.order_by("kind", "code").only("code", "name", "kind"):
        label = "本科专业类" if row.kind == MajorCategory.Kind.UNDERGRAD else "高职专科专业大类"
        groups.setdefault(label, []).append((row.code, f"{row.code} {row.name}"))
    return list(groups.items())


class MajorListField(forms.CharField):
    """Majors typed as codes or exact names, separated by commas or spaces."""

    def to_python(self, value: Any) -> list[Major]:  # type: ignore[override]
        text = super().to_python(value) or ""
        words = [w for w in _SPLIT.split(text) if w]
        majors: list[Major] = []
        unknown: list[str] = []
        for word in dict.fromkeys(words):
            major = (
                Major.objects.filter(code=word.upper()).first()
                or Major.objects.filter(name=word).first()
            )
            if major is None:
                unknown.append(word)
            elif major not in majors:
                majors.append(major)
        if unknown:
            raise ValidationError(
                f"未找到这些专业：{'、'.join(unknown)}（请填写本科专业代码或规范名称）"
            )
        if len(majors) > 30:
            raise ValidationError("最多填写 30 个专业")
        return majors


class PostingForm(forms.Form):
    kind = forms.ChoiceField(label="类型", choices=Posting.Kind.choices)
    title = forms.CharField(label="岗位名称", max_length=120)
    description = forms.CharField(
        label="岗位描述", widget=forms.Textarea(attrs={"rows": 5}), max_length=10000, required=False
    )
    majors = MajorListField(
        label="专业要求：专业",
        required=False,
        help_text="填写本科专业代码或名称，多个用逗号分隔，如 080901, 软件工程。专业和专业类都不填即“不限”。",
    )
    categories = forms.MultipleChoiceField(
        label="专业要求：专业类",
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text="可多选（按住 Ctrl 或在手机上逐个点选）。",
    )
    min_level = forms.ChoiceField(label="最低学历", choices=MinLevel.choices, required=False)
    headcount = forms.IntegerField(label="招聘人数", min_value=1, max_value=10000, initial=1)
    salary_min = forms.IntegerField(
        label="月薪下限（元）", min_value=0, max_value=1_000_000, required=False
    )
    salary_max = forms.IntegerField(
        label="月薪上限（元）", min_value=0, max_value=1_000_000, required=False
    )
    town = forms.ModelChoiceField(
        label="工作镇街", queryset=Town.objects.none(), empty_label="请选择镇街"
    )
    start_date = forms.DateField(
        label="到岗日期", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    closing_date = forms.DateField(
        label="截止日期",
        required=False,
        help_text="过了这一天岗位自动下线，不再接收投递。",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    working_hours = forms.CharField(
        label="工作时间",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="如：8:30–17:30，双休；旺季每周加班不超过 9 小时，按规定支付加班费",
    )
    housing = forms.CharField(
        label="住宿",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="如：提供四人间宿舍，免费；或每月住房补贴 500 元",
    )
    meals = forms.CharField(
        label="餐食",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="如：免费工作餐两餐",
    )
    social_insurance = forms.CharField(
        label="社会保险",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="如：入职即缴五险一金，公积金比例 5%",
    )
    leave = forms.CharField(
        label="休假",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="如：法定节假日、年休假 5 天起、春节假 10 天",
    )
    safety = forms.CharField(
        label="劳动安全",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="如：岗前安全培训，配发劳保用品，无粉尘噪声岗位",
    )
    natives_first = forms.BooleanField(label="同等条件下鹤山籍学子优先", required=False)

    FACT_NAMES = ("working_hours", "housing", "meals", "social_insurance", "leave", "safety")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["town"]).queryset = heshan_towns()
        cast(forms.MultipleChoiceField, self.fields["categories"]).choices = category_choices()

    def facts(self) -> list[Any]:
        return [self[name] for name in self.FACT_NAMES]

    def basics(self) -> list[Any]:
        return [self[name] for name in self.fields if name not in self.FACT_NAMES]

    def posting_data(self) -> PostingData:
        data = self.cleaned_data
        categories = list(MajorCategory.objects.filter(code__in=data.get("categories") or []))
        return PostingData(
            kind=data["kind"],
            title=data["title"],
            description=data.get("description") or "",
            town=data["town"],
            headcount=data["headcount"],
            min_level=data.get("min_level") or "",
            salary_min=data.get("salary_min"),
            salary_max=data.get("salary_max"),
            start_date=data.get("start_date"),
            closing_date=data.get("closing_date"),
            working_hours=data.get("working_hours") or "",
            housing=data.get("housing") or "",
            meals=data.get("meals") or "",
            social_insurance=data.get("social_insurance") or "",
            leave=data.get("leave") or "",
            safety=data.get("safety") or "",
            natives_first=bool(data.get("natives_first")),
            majors=data.get("majors") or [],
            categories=categories,
        )

    @staticmethod
    def initial_for(posting: Posting) -> dict[str, Any]:
        initial: dict[str, Any] = {
            name: getattr(posting, name)
            for name in (
                "kind",
                "title",
                "description",
                "min_level",
                "headcount",
                "salary_min",
                "salary_max",
                "start_date",
                "closing_date",
                "working_hours",
                "housing",
                "meals",
                "social_insurance",
                "leave",
                "safety",
                "natives_first",
            )
        }
        initial["town"] = posting.town_id
        initial["majors"] = ", ".join(m.code for m in posting.required_majors.order_by("code"))
        initial["categories"] = [c.code for c in posting.required_categories.all()]
        return initial


class QualityForm(forms.Form):
    criteria = forms.MultipleChoiceField(
        label="核实的标准",
        choices=[(c.code, c.text) for c in QUALITY_CRITERIA if not c.auto],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    note = forms.CharField(label="认定说明", max_length=300, required=False)
