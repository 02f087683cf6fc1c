"""Student self-service pages. Thin: parse, find the student's own record, call one service,
render. A student without a record is sent to claim one."""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qinghe.accounts.models import User
from qinghe.core.errorhandling import redirect_on_error
from qinghe.core.errors import ApplicationError
from qinghe.core.http import AuthedRequest

from . import claims, services_self
from .models import Talent
from .resume import resume_get_own
from .services_self import SELF_EDITABLE


class ClaimForm(forms.Form):
    id_number = forms.CharField(
        label="身份证号", max_length=30, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    name = forms.CharField(
        label="姓名", max_length=40, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )


class ProfileForm(forms.Form):
    wechat = forms.CharField(label="微信号", max_length=64, required=False)
    email = forms.EmailField(
        label="电子邮箱", required=False, error_messages={"invalid": "请输入有效的电子邮箱"}
    )
    hukou_text = forms.CharField(
        label="户籍地", max_length=200, required=False, help_text="例如：广东省鹤山市沙坪街道"
    )
    high_school = forms.CharField(label="高中", max_length=100, required=False)
    phone = forms.CharField(
        label="手机号",
        max_length=20,
        required=False,
        help_text="服务专员联系你时使用的号码；填写新号码后，旧号码保留为历史号码。",
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    confirm = forms.BooleanField(label="保存的同时确认我的信息仍然准确", required=False)


class DeleteForm(forms.Form):
    password = forms.CharField(
        label="当前密码",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirmation = forms.CharField(
        label=f"请输入“{services_self.DELETE_CONFIRMATION}”二字确认", max_length=10
    )


def _add_errors(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def _own(request: AuthedRequest) -> Talent | None:
    return services_self.own_talent(user=request.user)


@require_GET
def home(request: AuthedRequest) -> HttpResponse:
    talent = _own(request)
    if talent is None:
        return redirect("me:claim")
    return render(
        request,
        "talents/self_home.html",
        {
            "talent": talent,
            "data": services_self.self_data(talent=talent, user=request.user),
            "consents": services_self.consent_overview(talent=talent),
            "confirmation_due": services_self.confirmation_due(talent),
            "resume": resume_get_own(user=request.user),
        },
    )


@require_http_methods(["GET", "POST"])
def claim(request: AuthedRequest) -> HttpResponse:
    if _own(request) is not None:
        messages.info(request, "你已认领档案。")
        return redirect("me:home")
    form = ClaimForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = services_self.talent_claim(
                user=request.user,
                id_number=form.cleaned_data["id_number"],
                name=form.cleaned_data["name"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            if result.claim is not None:
                # A record the city holds: nothing of it is shown before the second factor.
                return redirect("me:claim_verify")
            messages.success(request, services_self.CLAIM_DONE)
            return redirect("me:home")
    used = services_self.claim_attempts_today(user=request.user)
    return render(
        request,
        "talents/self_claim.html",
        {
            "form": form,
            "attempts_left": max(services_self.CLAIM_DAILY_LIMIT - used, 0),
            "open_claim": claims.claim_open(user=request.user),
        },
    )


class ClaimCodeForm(forms.Form):
    code = forms.CharField(
        label="验证码",
        max_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


@require_http_methods(["GET", "POST"])
def claim_verify(request: AuthedRequest) -> HttpResponse:
    """The second step of claiming a record the city holds: a code to a phone on file, or
    staff. Shows the masked phones only, never anything else from the record."""
    if _own(request) is not None:
        return redirect("me:home")
    claim = claims.claim_open(user=request.user)
    if claim is None:
        return redirect("me:claim")
    form = ClaimCodeForm(request.POST if request.POST.get("action") == "confirm" else None)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    try:
        if action == "send":
            choice = request.POST.get("phone", "")
            masked = claims.claim_code_send(
                user=request.user, choice=int(choice) if choice.isdigit() else -1
            )
            messages.success(request, f"验证码已发送至 {masked}，10 分钟内有效。")
            return redirect("me:claim_verify")
        if action == "staff":
            claims.claim_ask_staff(user=request.user)
            return redirect("me:claim_verify")
        if action == "confirm" and form.is_valid():
            claims.claim_code_confirm(user=request.user, code=form.cleaned_data["code"])
            messages.success(request, claims.CLAIM_APPROVED)
            return redirect("me:home")
    except ValidationError as exc:
        if action == "confirm":
            _add_errors(form, exc)
        else:
            messages.error(request, "；".join(exc.messages))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return render(
        request,
        "talents/self_claim_verify.html",
        {
            "claim": claim,
            "phones": claims.claim_phone_choices(claim=claim)
            if claim.state == claim.State.AWAITING_CODE
            else [],
            "form": form,
            "choose_text": claims.CLAIM_CHOOSE_PHONE,
            "staff_text": claims.CLAIM_SENT_TO_STAFF,
        },
    )


@require_http_methods(["GET", "POST"])
def edit(request: AuthedRequest) -> HttpResponse:
    talent = _own(request)
    if talent is None:
        return redirect("me:claim")
    current = talent.phones.filter(is_current=True).first()
    initial = {field: getattr(talent, field) for field in SELF_EDITABLE}
    initial["phone"] = current.number if current else ""
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            changed = services_self.self_profile_update(
                talent=talent,
                user=request.user,
                data={field: data[field].strip() for field in SELF_EDITABLE},
                phone=data["phone"],
                confirm=data["confirm"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            if changed:
                messages.success(request, f"已保存 {len(changed)} 项修改，来源记为“学生本人”。")
            else:
                messages.info(request, "没有修改。")
            if data["confirm"]:
                messages.success(request, "已记录你对信息的确认。")
            return redirect("me:home")
    return render(request, "talents/self_edit.html", {"form": form, "talent": talent})


def _download(content: bytes, content_type: str, extension: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    stamp = timezone.localtime().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="qinghe-my-data-{stamp}.{extension}"'
    return response


@require_GET
def export_json(request: AuthedRequest) -> HttpResponse:
    talent = _own(request)
    if talent is None:
        return redirect("me:claim")
    content = services_self.self_export_json(talent=talent, user=request.user)
    return _download(content, "application/json; charset=utf-8", "json")


@require_GET
def export_xlsx(request: AuthedRequest) -> HttpResponse:
    talent = _own(request)
    if talent is None:
        return redirect("me:claim")
    content = services_self.self_export_xlsx(talent=talent, user=request.user)
    return _download(
        content, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"
    )


@require_POST
@redirect_on_error("me:home")
def consent(request: AuthedRequest) -> HttpResponse:
    talent = _own(request)
    if talent is None:
        return redirect("me:claim")
    enterprise = request.POST.get("enterprise", "")
    if enterprise and not enterprise.isdigit():
        raise Http404("未找到该记录")
    recorded = services_self.self_consent_set(
        talent=talent,
        user=request.user,
        purpose=request.POST.get("purpose", ""),
        granted=request.POST.get("granted") == "1",
        enterprise_id=int(enterprise) if enterprise else None,
    )
    if recorded is None:
        messages.info(request, "授权状态没有变化。")
    else:
        verb = "同意" if recorded.granted else "撤回"
        messages.success(
            request,
            f"已{verb}：{recorded.get_purpose_display()}（告知书版本 {recorded.notice_version}）。",
        )
    return redirect("me:home")


@require_POST
def confirm(request: AuthedRequest) -> HttpResponse:
    talent = _own(request)
    if talent is None:
        return redirect("me:claim")
    services_self.self_confirm(talent=talent, user=request.user)
    messages.success(request, "已记录：你确认信息仍然准确。谢谢！")
    return redirect("me:home")


@require_http_methods(["GET", "POST"])
def delete_account(request: AuthedRequest) -> HttpResponse:
    form = DeleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services_self.account_delete(
                user=cast(User, request.user),
                password=form.cleaned_data["password"],
                confirmation=form.cleaned_data["confirmation"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            logout(request)
            messages.success(request, "你的账号已注销。感谢你对“青鹤归巢”的关注。")
            return redirect("core:home")
    return render(
        request,
        "talents/self_delete.html",
        {
            "form": form,
            "talent": _own(request),
            "retention_days": services_self.audit_retention_days(),
        },
    )
