from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from .phones import InvalidPhone, normalize_phone, phone_index


class UsernameOrPhoneBackend(ModelBackend):
    """Accepts the username or the mobile phone number in the username field."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if username is None or password is None:
            return None
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is None:
            try:
                index = phone_index(normalize_phone(username))
            except InvalidPhone:
                index = None
            if index is not None:
                user = User.objects.filter(phone_index=index).first()
        if user is None:
            # Same cost as a real check, so timing does not reveal which accounts exist.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
