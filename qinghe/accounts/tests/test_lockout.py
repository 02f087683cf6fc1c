"""The sign-in lockout counts per account, whatever spelling of the phone is typed, and per
real client address, taken from X-Forwarded-For only when a trusted proxy sent the request."""

from __future__ import annotations

from typing import Any

import pytest
from axes.models import AccessAttempt
from django.test import Client, override_settings

from qinghe.accounts.demo import DEMO_PASSWORD
from qinghe.core.models import AuditLog

pytestmark = pytest.mark.django_db

# The student persona xuezi's phone, five ways.
SPELLINGS = [
    "13800138001",
    "+86 138 0013 8001",
    "138-0013-8001",
    "１３８００１３８００１",
    "+8613800138001",
]


def _sign_in(client: Client, username: str, password: str = "wrong-guess", **extra: Any) -> Any:
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


def test_five_bad_guesses_with_five_spellings_of_the_phone_lock_the_account(
    personas: Any,
) -> None:
    client = Client()
    for typed in SPELLINGS:
        response = _sign_in(client, typed)
    assert response.status_code == 429
    # one account, one counter, under the account's name (the phone is not stored)
    assert list(AccessAttempt.objects.values_list("username", "failures_since_start")) == [
        ("xuezi", 5)
    ]
    # locked for the account: its username and any spelling are refused, even with the password
    assert _sign_in(client, "xuezi", DEMO_PASSWORD).status_code == 429
    assert _sign_in(client, "13800138001", DEMO_PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session


def test_guesses_at_the_username_and_the_phone_count_together(personas: Any) -> None:
    client = Client()
    for typed in ["xuezi", "13800138001", "xuezi", "+86 138 0013 8001"]:
        _sign_in(client, typed)
    assert _sign_in(client, "138 0013 8001").status_code == 429


def test_another_account_is_not_locked_by_guesses_at_this_one(personas: Any) -> None:
    client = Client()
    for typed in SPELLINGS:
        _sign_in(client, typed)
    assert _sign_in(client, "renshe", DEMO_PASSWORD).status_code == 302


PROXY = "10.0.0.5"


@override_settings(QINGHE_TRUSTED_PROXIES=["10.0.0.0/24", "192.0.2.7"])
def test_behind_a_trusted_proxy_the_forwarded_client_is_locked_and_recorded(
    personas: Any,
) -> None:
    attacker = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.9, 192.0.2.7")
    for _ in range(5):
        response = _sign_in(attacker, "renshe")
    assert response.status_code == 429
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["203.0.113.9"]
    assert set(
        AuditLog.objects.filter(action="login_failed").values_list("ip_address", flat=True)
    ) == {"203.0.113.9"}
    # another client behind the same proxy is not locked out of the same account
    colleague = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.20")
    assert _sign_in(colleague, "renshe", DEMO_PASSWORD).status_code == 302
    assert AuditLog.objects.filter(action="login").get().ip_address == "198.51.100.20"


@override_settings(QINGHE_TRUSTED_PROXIES=["10.0.0.0/24"])
def test_from_an_untrusted_peer_the_forwarded_header_is_ignored(personas: Any) -> None:
    # rotating the header does not escape the lockout, and the peer address is recorded
    for n in range(5):
        client = Client(REMOTE_ADDR="198.51.100.66", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
        response = _sign_in(client, "renshe")
    assert response.status_code == 429
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["198.51.100.66"]
    assert set(
        AuditLog.objects.filter(action="login_failed").values_list("ip_address", flat=True)
    ) == {"198.51.100.66"}


def test_without_trusted_proxies_the_header_is_ignored(personas: Any) -> None:
    client = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.9")
    _sign_in(client, "renshe")
    assert AuditLog.objects.filter(action="login_failed").get().ip_address == PROXY
