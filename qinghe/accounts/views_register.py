"""Student self-registration pages: (1) phone -> code by SMS, (2) code + account details.

Between the steps the session holds the phone encrypted, never in the clear. Both routes are
public (``qinghe/core/policies.py``); a signed-in visitor is sent home."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from qinghe.core.crypto import decrypt, encrypt
from qinghe.core.errorhandling import redirect_on_error
from qinghe.core.errors import ApplicationError
from qinghe.core.masking import mask_phone

from .models import PhoneVerification
from .phones import normalize_phone
from .registration import student_register, verification_send

SESSION_KEY = "register_phone"
BACKEND = "qinghe.accounts.backends.UsernameOrPhoneBackend"


class PhoneForm(forms.Form):
    phone = forms.CharField(
        label="手机号",
        max_length=20,
        widget=forms.TextInput(
            attrs={"inputmode": "tel", "autocomplete": "tel", "autofocus": True}
        ),
    )


class RegisterForm(forms.Form):
    code = forms.RegexField(
        label="短信验证码",
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": "请输入短信中的 6 位数字验证码"},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
    display_name = forms.CharField(label="姓名", max_length=64)
    username = forms.CharField(
        label="用户名",
        max_length=150,
        required=False,
        help_text="可不填：不填则自动生成。登录时也可以直接输入手机号。",
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
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

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("password") and data.get("password2") and data["password"] != data["password2"]:
            self.add_error("password2", "两次输入的密码不一致")
        return data


def _add_errors(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def _session_phone(request: HttpRequest) -> str | None:
    token = request.session.get(SESSION_KEY)
    if not token:
        return None
    try:
        return decrypt(token)
    except Exception:  # noqa: BLE001 - a stale or tampered value: start again
        request.session.pop(SESSION_KEY, None)
        return None


def register(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("core:home")
    form = PhoneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        raw = form.cleaned_data["phone"]
        try:
            verification_send(phone=raw, purpose=PhoneVerification.Purpose.REGISTER)
        except ValidationError as exc:
            _add_errors(form, exc)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            phone = normalize_phone(raw)
            request.session[SESSION_KEY] = encrypt(phone)
            messages.success(request, f"验证码已发送至 {mask_phone(phone)}，10 分钟内有效。")
            return redirect("accounts:register_verify")
    pending = _session_phone(request)
    return render(
        request,
        "accounts/register.html",
        {"form": form, "pending_phone": mask_phone(pending) if pending else ""},
    )


@redirect_on_error("accounts:register_verify")
def register_verify(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("core:home")
    phone = _session_phone(request)
    if phone is None:
        messages.info(request, "请先填写手机号获取验证码。")
        return redirect("accounts:register")
    if request.method == "POST" and request.POST.get("resend"):
        # A refused resend (too soon, too many) comes back as a message (DomainErrorMiddleware).
        verification_send(phone=phone, purpose=PhoneVerification.Purpose.REGISTER)
        messages.success(request, f"新的验证码已发送至 {mask_phone(phone)}。")
        return redirect("accounts:register_verify")
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = student_register(
                phone=phone,
                code=data["code"],
                password=data["password"],
                display_name=data["display_name"],
                username=data["username"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            request.session.pop(SESSION_KEY, None)
            login(request, user, backend=BACKEND)
            messages.success(
                request,
                f"注册成功。你的用户名是 {user.username}，也可以用手机号登录。请认领你的档案。",
            )
            return redirect("me:claim")
    return render(
        request, "accounts/register_verify.html", {"form": form, "phone_masked": mask_phone(phone)}
    )


# Mounted under /accounts/ in the "accounts" namespace (config/urls.py).
