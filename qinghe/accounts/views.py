from __future__ import annotations

import base64
import io
from typing import Any

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from qinghe.core.audit import audit_record
from qinghe.core.http import AuthedRequest

from . import wechat
from .forms import LoginForm, OTPTokenForm
from .services_wechat import WECHAT_ROLES, wechat_binding_get


def in_wechat(request: HttpRequest) -> bool:
    """WeChat's built-in browser names itself in the User-Agent (MicroMessenger)."""
    return "micromessenger" in request.headers.get("User-Agent", "").lower()


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    form_class = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["wechat_enabled"] = wechat.enabled()
        context["in_wechat"] = in_wechat(self.request)
        return context


class LogoutView(auth_views.LogoutView):
    http_method_names = ["post", "options"]


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:password_change_done")

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        response = super().form_valid(form)
        # The form's user is the signed-in user whose password just changed.
        audit_record(action="password_change", target=form.user)
        return response


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"


def profile(request: AuthedRequest) -> HttpResponse:
    may_bind = request.user.role in WECHAT_ROLES and wechat.enabled()
    return render(
        request,
        "accounts/profile.html",
        {
            "may_bind_wechat": may_bind,
            "wechat_binding": wechat_binding_get(user=request.user) if may_bind else None,
            "in_wechat": in_wechat(request),
        },
    )


def _safe_next(request: AuthedRequest) -> str:
    target = request.GET.get("next") or request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return str(settings.LOGIN_REDIRECT_URL)


def otp_setup(request: AuthedRequest) -> HttpResponse:
    """Binds a TOTP authenticator: shows the secret and a QR code, then checks one code."""
    user = request.user
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            return redirect("accounts:otp_verify")
        device = TOTPDevice.objects.create(user=user, name="验证器", confirmed=False)
    form = OTPTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"].strip()):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            audit_record(action="otp_setup", target=user, summary="绑定 TOTP 验证器")
            messages.success(request, "双因素认证已启用。")
            return redirect(_safe_next(request))
        form.add_error("token", "验证码不正确或已过期，请重试")
    uri = device.config_url
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    qr_data = "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return render(
        request, "accounts/otp_setup.html", {"form": form, "qr_data": qr_data, "secret": secret}
    )


def otp_verify(request: AuthedRequest) -> HttpResponse:
    user = request.user
    devices = list(TOTPDevice.objects.filter(user=user, confirmed=True))
    if not devices:
        return redirect("accounts:otp_setup")
    form = OTPTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["token"].strip()
        for device in devices:
            if device.verify_token(token):
                otp_login(request, device)
                return redirect(_safe_next(request))
        form.add_error("token", "验证码不正确或已过期，请重试")
    return render(request, "accounts/otp_verify.html", {"form": form})
