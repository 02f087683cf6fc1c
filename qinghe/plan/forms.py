from __future__ import annotations

from django import forms

from .services import TARGET_FIELDS


class YearTargetForm(forms.Form):
    quality_jobs = forms.IntegerField(label="优质岗位（个）", min_value=0, max_value=100000)
    internship_bases = forms.IntegerField(label="认定实习基地（家）", min_value=0, max_value=100000)
    internship_posts = forms.IntegerField(label="实习岗位（个）", min_value=0, max_value=100000)
    native_hires = forms.IntegerField(label="鹤山籍学子录用（人）", min_value=0, max_value=100000)
    recruitment_events = forms.IntegerField(label="招聘活动（场）", min_value=0, max_value=100000)

    def values(self) -> dict[str, int]:
        return {name: self.cleaned_data[name] for name in TARGET_FIELDS}
