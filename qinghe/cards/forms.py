from __future__ import annotations

from typing import Any

from django import forms

from . import tiers
from .materials import MAX_BYTES, Upload
from .models import CardMaterial, DependantCard, DependantMaterial

# <input type="date"> takes ISO dates only: a localised value (e.g. the pre-filled start date)
# would be shown as an empty field.
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _tier_choices() -> list[tuple[str, str]]:
    return [(t.code, t.name) for t in tiers.scheme().tiers]


class ApplyForm(forms.Form):
    employer = forms.CharField(label="工作单位", max_length=200)
    employer_uscc = forms.CharField(label="统一社会信用代码（选填）", max_length=18, required=False)
    employer_since = forms.DateField(label="入职日期", widget=DATE)
    contract_end = forms.DateField(label="劳动合同截止日期", widget=DATE)
    requested_tier = forms.ChoiceField(label="申请类别", choices=_tier_choices)
    has_qualification = forms.BooleanField(label="我持有职业资格（技能等级）证书", required=False)
    contract = forms.FileField(label="劳动合同（PDF/JPG/PNG，不超过 5 MB）", required=False)
    employer_form = forms.FileField(label="用人单位盖章申请表", required=False)
    degree = forms.FileField(label="学历学位证书", required=False)
    qualification = forms.FileField(label="职业资格（技能等级）证书（选填）", required=False)

    def uploads(self) -> list[Upload]:
        result = []
        for kind in CardMaterial.Kind.values:
            file = self.files.get(kind)
            if file is not None:
                # One byte beyond the limit is enough to refuse an oversized file.
                result.append(
                    Upload(kind=kind, file_name=file.name or "", data=file.read(MAX_BYTES + 1))
                )
        return result


class ChangeForm(forms.Form):
    employer = forms.CharField(label="新的工作单位", max_length=200)
    employer_uscc = forms.CharField(label="统一社会信用代码（选填）", max_length=18, required=False)
    employer_since = forms.DateField(label="入职新单位日期", widget=DATE)
    contract_end = forms.DateField(label="新劳动合同截止日期", widget=DATE)


class RenewForm(forms.Form):
    contract_end = forms.DateField(label="劳动合同截止日期", widget=DATE)


class VerifyForm(forms.Form):
    t = forms.CharField(
        label="电子卡二维码内容", max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class BenefitForm(forms.Form):
    t = forms.CharField(max_length=2000, widget=forms.HiddenInput)
    benefit = forms.CharField(label="权益", max_length=32)


class DependantForm(forms.Form):
    relation = forms.ChoiceField(label="与你的关系", choices=DependantCard.Relation.choices)
    name = forms.CharField(label="家属姓名", max_length=64)
    id_number = forms.CharField(label="家属身份证号", max_length=18)
    relation_proof = forms.FileField(
        label="关系证明（结婚证、出生医学证明或户口簿；PDF/JPG/PNG，不超过 5 MB）", required=False
    )
    id_doc = forms.FileField(label="家属身份证明（身份证或户口簿本人页）", required=False)

    def __init__(self, *args: Any, relations: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["relation"] = forms.ChoiceField(
            label="与你的关系",
            choices=[(c, label) for c, label in DependantCard.Relation.choices if c in relations],
        )

    def uploads(self) -> list[Upload]:
        result = []
        for kind in DependantMaterial.Kind.values:
            file = self.files.get(kind)
            if file is not None:
                result.append(
                    Upload(kind=kind, file_name=file.name or "", data=file.read(MAX_BYTES + 1))
                )
        return result
