"""The name django-axes counts failed sign-ins under (``AXES_USERNAME_CALLABLE``).

Sign-in accepts the username or the phone in any common spelling (``+86``, spaces, dashes,
full-width digits). Counting the typed string let each spelling start a fresh count; counting
per account closes that. The key is the account's username when the typed text names an
account (as the backend resolves it), else the phone's normal form, else the text as typed."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest

from .phones import InvalidPhone, normalize_phone, phone_index


def account_key(typed: str) -> str:
    User = get_user_model()
    if User.objects.filter(username=typed).exists():
        return typed
    try:
        phone = normalize_phone(typed)
    except InvalidPhone:
        return typed
    username = (
        User.objects.filter(phone_index=phone_index(phone))
        .values_list("username", flat=True)
        .first()
    )
    return username if username is not None else phone


def axes_username(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str:
    typed: Any = None
    if credentials:
        typed = credentials.get("username")
    elif request is not None:
        typed = getattr(request, "POST", {}).get("username")
    return account_key(str(typed or ""))
