"""Alliance forms. They only parse input; the services check the rules."""

from __future__ import annotations

from typing import Any

from django import forms

from qinghe.reference.models import Industry, Town, University

from .models import Chapter, Story
from .services import ChapterData
from .stories import StoryData


class ChapterForm(forms.Form):
    name = forms.CharField(label="分会名称", max_length=120)
    kind = forms.ChoiceField(label="类型", choices=Chapter.Kind.choices)
    university_name = forms.CharField(
        label="高校", max_length=64, required=False, help_text="高校分会填写高校全称"
    )
    city = forms.CharField(
        label="所在城市或地区", max_length=32, required=False, help_text="如 广州、深圳、香港"
    )
    school_name = forms.CharField(
        label="学校名称", max_length=100, required=False, help_text="高中分会、职业院校分会填写"
    )
    description = forms.CharField(
        label="简介", required=False, max_length=3000, widget=forms.Textarea(attrs={"rows": 4})
    )

    def clean_university_name(self) -> University | None:
        name = (self.cleaned_data.get("university_name") or "").strip()
        if not name:
            return None
        university = University.objects.filter(name=name).first()
        if university is None:
            raise forms.ValidationError("未找到该高校，请填写教育部名单中的全称")
        return university

    def chapter_data(self) -> ChapterData:
        d: dict[str, Any] = self.cleaned_data
        return ChapterData(
            name=d["name"],
            kind=d["kind"],
            city=d.get("city") or "",
            university=d.get("university_name"),
            school_name=d.get("school_name") or "",
            description=d.get("description") or "",
        )


def initial_for(chapter: Chapter) -> dict[str, Any]:
    return {
        "name": chapter.name,
        "kind": chapter.kind,
        "university_name": chapter.university.name if chapter.university else "",
        "city": chapter.city,
        "school_name": chapter.school_name,
        "description": chapter.description,
    }


class InviteForm(forms.Form):
    phone = forms.CharField(label="学子手机号", max_length=20)


class ReasonForm(forms.Form):
    reason = forms.CharField(label="原因", max_length=300, required=False)


class MergeForm(forms.Form):
    target = forms.ModelChoiceField(label="并入分会", queryset=Chapter.objects.none())
    reason = forms.CharField(label="说明", max_length=300, required=False)

    def __init__(self, *args: Any, chapter: Chapter, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["target"]
        field.queryset = Chapter.objects.filter(state=Chapter.State.ACTIVE).exclude(pk=chapter.pk)


class StoryForm(forms.Form):
    title = forms.CharField(label="标题", max_length=80)
    person_name = forms.CharField(label="主人公", max_length=32)
    person_role = forms.CharField(label="现任职务", max_length=80, required=False)
    summary = forms.CharField(label="摘要", max_length=200)
    body = forms.CharField(
        label="正文", widget=forms.Textarea(attrs={"rows": 10}), max_length=20000
    )
    consent_on = forms.DateField(
        label="本人同意日期", widget=forms.DateInput(attrs={"type": "date"})
    )
    consent_note = forms.CharField(
        label="同意方式", max_length=120, help_text="如：本人签署书面同意书，存档于团市委"
    )
    industry = forms.ModelChoiceField(
        label="行业", queryset=Industry.objects.none(), required=False
    )
    university_name = forms.CharField(label="毕业院校", max_length=64, required=False)
    town = forms.ModelChoiceField(label="家乡镇街", queryset=Town.objects.none(), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        fields["industry"].queryset = Industry.objects.filter(
            level=Industry.Level.DIVISION
        ).order_by("code")
        fields["town"].queryset = Town.objects.filter(county_code="440784").order_by("code")

    def clean_university_name(self) -> University | None:
        name = (self.cleaned_data.get("university_name") or "").strip()
        if not name:
            return None
        university = University.objects.filter(name=name).first()
        if university is None:
            raise forms.ValidationError("未找到该高校，请填写教育部名单中的全称")
        return university

    def story_data(self) -> StoryData:
        d: dict[str, Any] = self.cleaned_data
        return StoryData(
            title=d["title"],
            person_name=d["person_name"],
            person_role=d.get("person_role") or "",
            summary=d["summary"],
            body=d["body"],
            consent_on=d.get("consent_on"),
            consent_note=d.get("consent_note") or "",
            industry=d.get("industry"),
            university=d.get("university_name"),
            town=d.get("town"),
        )


def story_initial(story: Story) -> dict[str, Any]:
    return {
        "title": story.title,
        "person_name": story.person_name,
        "person_role": story.person_role,
        "summary": story.summary,
        "body": story.body,
        "consent_on": story.consent_on,
        "consent_note": story.consent_note,
        "industry": story.industry_id,
        "university_name": story.university.name if story.university else "",
        "town": story.town_id,
    }
