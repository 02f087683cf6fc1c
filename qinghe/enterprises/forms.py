"""Forms parse input; the rules live in the services (qinghe.enterprises.services)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.core.exceptions import ValidationError

from qinghe.core.errors import validation_message
from qinghe.reference.models import Industry, Town

from .models import Enterprise
from .services import ProfileData

HESHAN_COUNTY = "440784"


def heshan_towns() -> Any:
    # The 10 towns and sub-districts; codes from 400 up are a prison and a forest farm.
    return Town.objects.filter(county_code=HESHAN_COUNTY, code__lt=HESHAN_COUNTY + "400").order_by(
        "code"
    )


def industry_choices() -> list[Any]:
    """GB/T 4754 divisions grouped under their sections, for a <select> with optgroups."""
    groups: dict[str, list[tuple[str, str]]] = {}
    labels: dict[str, str] = {}
    for row in Industry.objects.select_related("parent").order_by("position"):
        if row.level == Industry.Level.SECTION:
            labels[row.code] = f"{row.code} {row.name}"
            groups.setdefault(row.code, [])
        elif row.parent is not None:
            groups.setdefault(row.parent.code, []).append((row.code, f"{row.code} {row.name}"))
    return [("", "请选择行业")] + [(labels.get(k, k), v) for k, v in groups.items() if v]


class IndustryField(forms.ChoiceField):
    def to_python(self, value: Any) -> Industry | None:
        code = super().to_python(value)
        if not code:
            return None
        industry = Industry.objects.filter(code=code, level=Industry.Level.DIVISION).first()
        if industry is None:
            raise ValidationError("请选择行业大类")
        return industry

    def valid_value(self, value: Any) -> bool:
        return True  # to_python already checked it against the table


class ProfileForm(forms.Form):
    industry = IndustryField(label="所属行业（国民经济行业分类大类）")
    town = forms.ModelChoiceField(
        label="所在镇街", queryset=Town.objects.none(), empty_label="请选择镇街"
    )
    park = forms.ChoiceField(label="所在园区", choices=Enterprise.Park.choices, required=False)
    size = forms.ChoiceField(
        label="企业规模", choices=[("", "请选择规模"), *Enterprise.Size.choices]
    )
    address = forms.CharField(label="地址", max_length=200, required=False)
    description = forms.CharField(
        label="企业简介", required=False, widget=forms.Textarea(attrs={"rows": 4}), max_length=5000
    )
    contact_name = forms.CharField(label="招聘联系人", max_length=64)
    contact_phone = forms.CharField(
        label="联系电话",
        max_length=30,
        help_text="手机号或固定电话，加密保存，页面上只显示部分号码。",
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(IndustryField, self.fields["industry"]).choices = industry_choices()
        cast(forms.ModelChoiceField, self.fields["town"]).queryset = heshan_towns()

    def profile(self) -> ProfileData:
        data = self.cleaned_data
        return ProfileData(
            industry=data["industry"],
            town=data["town"],
            size=data["size"],
            park=data.get("park") or "",
            address=data.get("address") or "",
            description=data.get("description") or "",
            contact_name=data["contact_name"],
            contact_phone=data["contact_phone"],
        )


class AccountFields(forms.Form):
    username = forms.CharField(
        label="登录用户名",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    display_name = forms.CharField(label="姓名", max_length=64)
    phone = forms.CharField(
        label="本人手机号",
        max_length=20,
        required=False,
        help_text="可不填；填写后也可以用手机号登录。",
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )
    password = forms.CharField(
        label="密码",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="再次输入密码",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("password2") and data["password"] != data["password2"]:
            self.add_error("password2", "两次输入的密码不一致")
        return data


class RegistrationForm(ProfileForm, AccountFields):
    uscc = forms.CharField(
        label="统一社会信用代码",
        max_length=40,
        help_text="18 位，见营业执照；全角、小写、空格都可以，系统会自动规范。",
    )
    name = forms.CharField(label="企业名称（与营业执照一致）", max_length=200)

    field_order = [
        "uscc",
        "name",
        "industry",
        "town",
        "park",
        "size",
        "address",
        "description",
        "contact_name",
        "contact_phone",
        "username",
        "display_name",
        "phone",
        "password",
        "password2",
    ]


class ColleagueForm(AccountFields):
    pass


class BaseApplyForm(forms.Form):
    description = forms.CharField(
        label="基地简介",
        help_text="实习岗位、带教导师、食宿与交通安排、安全保障。",
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=5000,
    )
    capacity = forms.IntegerField(label="每年可接收实习生人数", min_value=1, max_value=2000)
    requested_from = forms.DateField(
        label="申请期限自", widget=forms.DateInput(attrs={"type": "date"})
    )
    requested_to = forms.DateField(
        label="申请期限至", widget=forms.DateInput(attrs={"type": "date"})
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label="原因", max_length=300, required=False)


class CertifyBaseForm(forms.Form):
    valid_from = forms.DateField(label="有效期自", widget=forms.DateInput(attrs={"type": "date"}))
    valid_to = forms.DateField(label="有效期至", widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label="审核意见", max_length=300, required=False)


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Puts a service's ValidationError on the form's fields (or on the form as a whole)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def error_text(exc: ValidationError) -> str:
    return validation_message(exc)
