"""Forms of the recruitment pipeline. They parse input; the rules live in the services
(qinghe.recruitment.services.applications, qinghe.recruitment.services.interviews)."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from .models import Interview, InterviewSlot, Mode, PipelineStage
from .services.interviews import When, place_text, when_text

DATETIME_INPUT = "%Y-%m-%dT%H:%M"


def _datetime_field(label: str, required: bool = True) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        input_formats=[DATETIME_INPUT, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_INPUT),
    )


class ApplyForm(forms.Form):
    # Not required here: the service refuses a missing consent with its own message, so the
    # page and the API answer alike.
    consent = forms.BooleanField(required=False)
    # Which phone to share ("account", a record phone's id, "none"; checked by the service)
    # and whether to share the e-mail (an unticked box sends nothing: not shared).
    share_phone = forms.CharField(required=False, max_length=32)
    share_email = forms.BooleanField(required=False)
    cover_letter = forms.CharField(
        label="求职说明（选填）",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label="原因", max_length=500, required=False)


class MoveForm(forms.Form):
    stage = forms.IntegerField(min_value=1)
    note = forms.CharField(label="说明（仅企业可见）", max_length=500, required=False)


class WhenFields(forms.Form):
    starts_at = _datetime_field("开始时间", required=False)
    ends_at = _datetime_field("结束时间", required=False)
    mode = forms.ChoiceField(label="方式", choices=Mode.choices, initial=Mode.ONSITE)
    location = forms.CharField(label="地点（现场面试）", max_length=200, required=False)
    meeting_url = forms.CharField(
        label="视频会议链接（线上面试，https://）",
        max_length=200,
        required=False,
        widget=forms.URLInput(attrs={"inputmode": "url"}),
    )

    def when(self) -> When | None:
        data = self.cleaned_data
        if not data.get("starts_at") and not data.get("ends_at"):
            return None
        return When(
            starts_at=data.get("starts_at"),
            ends_at=data.get("ends_at"),
            mode=data.get("mode") or Mode.ONSITE,
            location=data.get("location") or "",
            meeting_url=data.get("meeting_url") or "",
        )


class SlotForm(WhenFields):
    capacity = forms.IntegerField(label="可约人数", min_value=1, max_value=200, initial=1)


class SlotChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return (
            f"{when_text(obj.starts_at, obj.ends_at)} · "
            f"{place_text(obj.mode, obj.location, obj.meeting_url)}"
        )


class InviteForm(WhenFields):
    slot = SlotChoiceField(
        label="面试时段",
        queryset=InterviewSlot.objects.none(),
        required=False,
        empty_label="不使用时段，按下方时间",
    )
    reason = forms.CharField(label="说明", max_length=500, required=False)

    def __init__(self, *args: Any, slots: list[InterviewSlot] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["slot"])
        field.queryset = InterviewSlot.objects.filter(pk__in=[s.pk for s in slots or []])


class ConfirmForm(forms.Form):
    slot = forms.IntegerField(required=False, min_value=1)


class ResultForm(forms.Form):
    result = forms.ChoiceField(
        label="面试结果",
        choices=[
            (Interview.Result.PASSED, Interview.Result.PASSED.label),
            (Interview.Result.FAILED, Interview.Result.FAILED.label),
            (Interview.Result.NO_SHOW, Interview.Result.NO_SHOW.label),
        ],
    )
    notes = forms.CharField(
        label="面试记录（仅企业可见）",
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    stage = forms.IntegerField(required=False, min_value=1)


class StageForm(forms.Form):
    name = forms.CharField(label="阶段名称", max_length=32)
    after = forms.ModelChoiceField(label="放在此阶段之后", queryset=PipelineStage.objects.none())
    notify_student = forms.BooleanField(label="进入时通知学生", required=False)
    message_template = forms.CharField(
        label="通知内容",
        max_length=500,
        required=False,
        help_text="发送时，【岗位名称】换成岗位名称，【企业名称】换成企业名称。",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, after_choices: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["after"])
        field.queryset = (
            after_choices if after_choices is not None else PipelineStage.objects.none()
        )


class StageEditForm(forms.Form):
    name = forms.CharField(label="阶段名称", max_length=32)
    notify_student = forms.BooleanField(label="进入时通知学生", required=False)
    message_template = forms.CharField(label="通知内容", max_length=500, required=False)
    is_active = forms.BooleanField(label="启用", required=False)
