"""Forms of the matching pages (parsing only; rules live in the services)."""

from __future__ import annotations

from django import forms

from qinghe.enterprises.forms import heshan_towns
from qinghe.reference.models import Industry


class PreferencesForm(forms.Form):
    towns = forms.ModelMultipleChoiceField(
        label="意向镇街（最多 5 个）",
        queryset=heshan_towns(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    industries = forms.ModelMultipleChoiceField(
        label="意向行业（最多 5 个）",
        queryset=Industry.objects.order_by("position"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    expected_salary = forms.IntegerField(
        label="期望月薪（元）", required=False, min_value=1, max_value=200_000
    )
    skills = forms.CharField(
        label="技能与关键词",
        required=False,
        max_length=300,
        help_text="例如：Python、CAD、数据分析、英语六级（用顿号或逗号分隔）",
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # Querysets evaluated per form, not at import.
        self.fields["towns"].queryset = heshan_towns()  # type: ignore[attr-defined]
        self.fields["industries"].queryset = Industry.objects.order_by("position")  # type: ignore[attr-defined]
        self.fields["industries"].label_from_instance = (  # type: ignore[attr-defined]
            lambda i: (
                f"{i.code} {i.name}"
                if i.level == "division"
                else f"【{i.code}】{i.name}（整个门类）"
            )
        )


class CodeForm(forms.Form):
    code = forms.CharField(label="职业代码", max_length=12)
