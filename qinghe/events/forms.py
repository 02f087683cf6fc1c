"""The organiser's event form. It only parses input; the service checks the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from qinghe.accounts.models import Organisation, User
from qinghe.core.roles import Role
from qinghe.enterprises.models import Enterprise
from qinghe.jobs.models import Posting
from qinghe.talents.models import Level

from .models import Event, ItineraryStop, TourGroup
from .selectors import is_event_staff, organiser_orgs
from .services import EventData

LOCAL_INPUT = "%Y-%m-%dT%H:%M"


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format=LOCAL_INPUT, **kwargs)


def _when(label: str, help_text: str = "") -> forms.DateTimeField:
    return forms.DateTimeField(label=label, widget=LocalDateTimeInput(), help_text=help_text)


class EventForm(forms.Form):
    type = forms.ChoiceField(label="活动类型", choices=Event.Type.choices)
    title = forms.CharField(label="活动名称", max_length=120)
    description = forms.CharField(
        label="活动介绍", required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    organiser = forms.ModelChoiceField(
        label="主办单位", queryset=Organisation.objects.none(), required=False
    )
    place = forms.CharField(label="地点", max_length=200, required=False)
    online_url = forms.CharField(
        label="线上链接", max_length=500, required=False, help_text="云招聘、直播带岗必填"
    )
    starts_at = _when("开始时间")
    ends_at = _when("结束时间")
    registration_opens_at = _when("报名开始")
    registration_closes_at = _when("报名截止")
    cancel_deadline = _when("取消报名截止", "此后学子不能自行取消报名")
    audience = forms.ChoiceField(label="报名对象", choices=Event.Audience.choices)
    audience_level = forms.ChoiceField(
        label="限定学历", choices=[("", "——"), *Level.choices], required=False
    )
    audience_chapter = forms.ModelChoiceField(
        label="限定分会", queryset=Organisation.objects.none(), required=False
    )
    audience_year = forms.IntegerField(
        label="限定毕业年份", required=False, min_value=2000, max_value=2100
    )
    capacity = forms.IntegerField(
        label="名额", required=False, min_value=1, help_text="留空表示不限名额；满额后报名进入候补"
    )
    tour_groups = forms.MultipleChoiceField(
        label="研学分组",
        choices=TourGroup.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="研学活动必选；高中生组未满 18 岁须监护人同意后才确认",
    )
    enterprises = forms.ModelMultipleChoiceField(
        label="参会企业", queryset=Enterprise.objects.none(), required=False
    )
    postings = forms.ModelMultipleChoiceField(
        label="参会岗位",
        queryset=Posting.objects.none(),
        required=False,
        help_text="招聘类活动可关联参会企业的在招岗位",
    )

    def __init__(self, *args: Any, viewer: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.viewer = viewer
        fields: dict[str, Any] = self.fields
        from qinghe.alliance.models import Chapter

        fields["audience_chapter"].queryset = Chapter.objects.filter(
            state=Chapter.State.ACTIVE
        ).order_by("kind", "name")
        if is_event_staff(viewer):
            fields["organiser"].queryset = Organisation.objects.filter(
                kind__in=(
                    Organisation.Kind.BUREAU,
                    Organisation.Kind.ENTERPRISE,
                    Organisation.Kind.CHAPTER,
                ),
                is_active=True,
            ).order_by("kind", "name")
            fields["organiser"].help_text = "留空则为你所在的单位"
            enterprises = Enterprise.objects.filter(state=Enterprise.State.VERIFIED)
        elif getattr(viewer, "role", None) == Role.AMBASSADOR:
            # a serving ambassador proposes for a chapter of theirs; staff add enterprises
            fields["organiser"].label = "主办分会"
            fields["organiser"].queryset = Organisation.objects.filter(
                pk__in=organiser_orgs(viewer)
            ).order_by("name")
            fields["organiser"].required = True
            del self.fields["enterprises"]
            del self.fields["postings"]
            return
        else:
            del self.fields["organiser"]
            enterprises = Enterprise.objects.filter(
                organisation_id=getattr(viewer, "organisation_id", 0) or 0
            )
        fields["enterprises"].queryset = enterprises.order_by("name")
        fields["postings"].queryset = (
            Posting.objects.filter(state=Posting.State.PUBLISHED, enterprise__in=enterprises)
            .select_related("enterprise")
            .order_by("enterprise__name", "title")
        )
        fields["postings"].label_from_instance = lambda p: f"{p.enterprise.name}：{p.title}"

    def event_data(self) -> EventData:
        d = self.cleaned_data
        return EventData(
            type=d["type"],
            title=d["title"],
            description=d.get("description") or "",
            organiser=d.get("organiser"),
            place=d.get("place") or "",
            online_url=d.get("online_url") or "",
            starts_at=d["starts_at"],
            ends_at=d["ends_at"],
            registration_opens_at=d["registration_opens_at"],
            registration_closes_at=d["registration_closes_at"],
            cancel_deadline=d["cancel_deadline"],
            audience=d["audience"],
            audience_level=d.get("audience_level") or "",
            audience_year=d.get("audience_year"),
            audience_chapter=d.get("audience_chapter"),
            capacity=d.get("capacity"),
            enterprises=list(d.get("enterprises") or []),
            postings=list(d.get("postings") or []),
            tour_groups=list(d.get("tour_groups") or []),
        )


def initial_for(event: Event) -> dict[str, Any]:
    return {
        "type": event.type,
        "title": event.title,
        "description": event.description,
        "organiser": event.organiser_id,
        "place": event.place,
        "online_url": event.online_url,
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "registration_opens_at": event.registration_opens_at,
        "registration_closes_at": event.registration_closes_at,
        "cancel_deadline": event.cancel_deadline,
        "audience": event.audience,
        "audience_level": event.audience_level,
        "audience_year": event.audience_year,
        "audience_chapter": event.audience_chapter_id,
        "capacity": event.capacity,
        "enterprises": list(event.enterprises.all()),
        "postings": list(event.postings.all()),
        "tour_groups": list(event.tour_groups or []),
    }


class NoteForm(forms.Form):
    note = forms.CharField(label="原因", max_length=300, required=False)


class CheckInForm(forms.Form):
    code = forms.CharField(
        label="签到码",
        max_length=300,
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "autocomplete": "off",
                "placeholder": "扫码枪扫描或粘贴签到码",
            }
        ),
    )


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


class ItineraryStopForm(forms.Form):
    at = forms.DateTimeField(label="时间", widget=LocalDateTimeInput())
    kind = forms.ChoiceField(label="类型", choices=ItineraryStop.Kind.choices)
    place = forms.CharField(label="地点", max_length=120)
    note = forms.CharField(label="说明", max_length=300, required=False)


class GuardianForm(forms.Form):
    name = forms.CharField(label="监护人姓名", max_length=32)
    phone = forms.CharField(label="监护人手机号", max_length=20)
    agree = forms.BooleanField(label="我已阅读行程安排，同意孩子参加本次研学", required=True)
