from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label="用户名或手机号",
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )

    error_messages = {
        "invalid_login": "用户名/手机号或密码不正确。连续失败 5 次将锁定 15 分钟。",
        "inactive": "该账号已停用。",
    }


class OTPTokenForm(forms.Form):
    token = forms.RegexField(
        label="动态验证码",
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": "请输入验证器应用显示的 6 位数字"},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
