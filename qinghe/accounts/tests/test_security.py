from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from config.settings import base as base_settings
from qinghe.accounts.demo import DEMO_PASSWORD
from qinghe.accounts.models import User
from qinghe.accounts.services import user_create
from qinghe.core.roles import Role

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[3]


def test_argon2_is_the_password_hasher_outside_tests() -> None:
    assert base_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    with override_settings(PASSWORD_HASHERS=base_settings.PASSWORD_HASHERS):
        user = user_create(username="argon", password="Heshan-Qinghe-99", role=Role.STUDENT)
        assert user.password.startswith("argon2$")


def test_weak_passwords_are_refused_and_no_account_is_created() -> None:
    from django.core.exceptions import ValidationError

    for weak in ("12345678901", "password123", "short"):
        with pytest.raises(ValidationError):
            user_create(username="weak", password=weak, role=Role.STUDENT)
    assert not User.objects.filter(username="weak").exists()


def test_sign_in_by_username_or_by_phone_in_any_common_form(personas: Any) -> None:
    for typed in ("xuezi", "13800138001", "+86 138 0013 8001", "１３８００１３８００１"):
        client = Client()
        response = client.post("/accounts/login/", {"username": typed, "password": DEMO_PASSWORD})
        assert response.status_code == 302, typed
        assert client.get("/workbench/").context["user"].username == "xuezi"


def test_five_failures_lock_that_user_and_address_for_fifteen_minutes(personas: Any) -> None:
    client = Client()
    for _ in range(5):
        response = client.post(
            "/accounts/login/", {"username": "renshe", "password": "wrong-guess"}
        )
    assert response.status_code == 429
    assert "已锁定 15 分钟" in response.content.decode()
    # even the right password is refused now, and no session is created
    response = client.post("/accounts/login/", {"username": "renshe", "password": DEMO_PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # the same user from another address is not locked
    other = Client(REMOTE_ADDR="10.20.30.40")
    assert (
        other.post(
            "/accounts/login/", {"username": "renshe", "password": DEMO_PASSWORD}
        ).status_code
        == 302
    )
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60


def test_four_failures_do_not_lock(personas: Any) -> None:
    client = Client()
    for _ in range(4):
        client.post("/accounts/login/", {"username": "xuezi", "password": "wrong-guess"})
    assert (
        client.post(
            "/accounts/login/", {"username": "xuezi", "password": DEMO_PASSWORD}
        ).status_code
        == 302
    )


def test_staff_sessions_expire_after_thirty_idle_minutes_student_sessions_do_not(
    personas: Any,
) -> None:
    staff = Client()
    staff.post("/accounts/login/", {"username": "renshe", "password": DEMO_PASSWORD})
    staff.get("/workbench/")
    assert staff.session.get_expiry_age() == 30 * 60
    student = Client()
    student.post("/accounts/login/", {"username": "xuezi", "password": DEMO_PASSWORD})
    student.get("/workbench/")
    assert student.session.get_expiry_age() == settings.SESSION_COOKIE_AGE


# The database's sessions under a mocked clock (with Redis the cached_db engine's copy expires
# by Redis's own clock, the same 30 minutes counted from the same write).
@override_settings(SESSION_ENGINE="django.contrib.sessions.backends.db")
def test_a_staff_session_is_written_at_most_once_a_minute_and_ends_after_thirty_idle_minutes(
    personas: Any,
) -> None:
    from datetime import timedelta
    from unittest import mock

    from django.contrib.sessions.models import Session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    start = timezone.now().replace(microsecond=0)
    clock = {"now": start}
    idle = timedelta(minutes=30)

    def at(seconds: int) -> None:
        clock["now"] = start + timedelta(seconds=seconds)

    with mock.patch("django.utils.timezone.now", lambda: clock["now"]):
        staff = Client()
        staff.post("/accounts/login/", {"username": "renshe", "password": DEMO_PASSWORD})
        key = staff.cookies[settings.SESSION_COOKIE_NAME].value

        def expires() -> Any:
            return Session.objects.get(session_key=key).expire_date

        def page() -> tuple[int, int]:
            """The workbench's status and how many session writes the request made."""
            with CaptureQueriesContext(connection) as queries:
                status = staff.get("/workbench/").status_code
            return status, sum(
                'UPDATE "django_session"' in query["sql"] for query in queries.captured_queries
            )

        assert page() == (200, 1)  # the first staff request sets the 30 minutes
        assert expires() == start + idle
        at(59)
        assert page() == (200, 0)  # pushed 59 s ago: not written
        assert expires() == start + idle
        at(60)
        assert page() == (200, 1)
        assert expires() == start + timedelta(seconds=60) + idle
        # Active every 50 s for ten minutes: stays signed in, written about once a minute.
        writes = 0
        for second in range(110, 660, 50):
            at(second)
            status, written = page()
            assert status == 200
            writes += written
        assert writes == 5  # at 160, 260, 360, 460 and 560: every other request
        last_push = start + timedelta(seconds=560)
        assert expires() == last_push + idle
        # The last request (610) did not push: signed out 29 min 10 s after it, within a
        # minute of the rule, never after 30 minutes.
        at(560 + 30 * 60 - 1)
        assert page() == (200, 1)  # one second before the expiry: still in, and pushed
        at(560 + 30 * 60 - 1 + 30 * 60)  # idle exactly 30 minutes since
        response = staff.get("/workbench/")
        assert response.status_code == 302
        assert response["Location"] == "/accounts/login/?next=/workbench/"
        assert not Session.objects.filter(session_key=key, expire_date__gt=clock["now"]).exists()


def test_sessions_are_kept_in_redis_only_when_it_is_configured() -> None:
    """With QINGHE_REDIS_URL (shared by every web process) the cached_db engine on its own
    Redis cache; without it the database alone (a per-process cache would keep a signed-out
    session alive in the other processes)."""
    code = (
        "import json; from config.settings import base as b; print(json.dumps(["
        "b.SESSION_ENGINE if hasattr(b, 'SESSION_ENGINE') else '', "
        "b.CACHES.get('sessions', {}).get('BACKEND', ''), "
        "b.CACHES.get('sessions', {}).get('LOCATION', '')]))"
    )
    found = []
    for url in ("redis://127.0.0.1:6399/3", ""):
        env = {**os.environ, "QINGHE_REDIS_URL": url}
        result = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        found.append(result.stdout.strip())
    assert found == [
        '["django.contrib.sessions.backends.cached_db", '
        '"django.core.cache.backends.redis.RedisCache", "redis://127.0.0.1:6399/3"]',
        '["", "", ""]',
    ]


@override_settings(
    SESSION_ENGINE="django.contrib.sessions.backends.cached_db",
    SESSION_CACHE_ALIAS="shared-sessions",
    CACHES={
        **settings.CACHES,
        # stands in for the Redis every web process shares
        "shared-sessions": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "test-shared-sessions",
        },
    },
)
def test_with_sessions_in_the_shared_cache_a_sign_out_reaches_every_copy(personas: Any) -> None:
    from django.contrib.sessions.backends.cached_db import KEY_PREFIX
    from django.contrib.sessions.models import Session
    from django.core.cache import caches

    shared = caches["shared-sessions"]
    browser = Client()
    before = browser.session  # an anonymous session, as a visitor has before signing in
    before["seen"] = True
    before.save()
    anonymous = browser.cookies[settings.SESSION_COOKIE_NAME].value
    assert shared.get(KEY_PREFIX + anonymous) == {"seen": True}
    # signing in rotates the key: the old one is gone from the cache and the database
    browser.post("/accounts/login/", {"username": "renshe", "password": DEMO_PASSWORD})
    key = browser.cookies[settings.SESSION_COOKIE_NAME].value
    assert key != anonymous
    assert shared.get(KEY_PREFIX + anonymous) is None
    assert not Session.objects.filter(session_key=anonymous).exists()
    assert browser.get("/workbench/").status_code == 200
    assert shared.get(KEY_PREFIX + key)["_auth_user_id"] == str(personas[Role.HR_STAFF].pk)
    # the same cookie through another client (another web process reading the shared cache)
    other = Client()
    other.cookies[settings.SESSION_COOKIE_NAME] = key
    assert other.get("/workbench/").status_code == 200
    # signing out in one "process" ends the session for the other at once
    assert browser.post("/accounts/logout/").status_code == 302
    assert shared.get(KEY_PREFIX + key) is None
    assert not Session.objects.filter(session_key=key).exists()
    assert other.get("/workbench/")["Location"] == "/accounts/login/?next=/workbench/"


@override_settings(QINGHE_REQUIRE_STAFF_2FA=True)
def test_staff_must_bind_and_pass_totp_when_required(personas: Any) -> None:
    client = Client()
    client.post("/accounts/login/", {"username": "renshe", "password": DEMO_PASSWORD})
    response = client.get("/workbench/")
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/setup/"
    assert client.get("/api/v1/accounts/me").status_code == 403
    client.get("/accounts/2fa/setup/")
    device = TOTPDevice.objects.get(user=personas[Role.HR_STAFF])
    wrong = client.post(
        "/accounts/2fa/setup/", {"token": "000000" if totp(device.bin_key) != 0 else "111111"}
    )
    assert "验证码不正确" in wrong.content.decode()
    device.refresh_from_db()
    assert device.confirmed is False
    device.throttle_reset()  # django-otp slows retries after a failure; not what this test is about
    response = client.post("/accounts/2fa/setup/", {"token": f"{totp(device.bin_key):06d}"})
    assert response.status_code == 302
    assert client.get("/workbench/").status_code == 200
    # next sign-in asks for the code, not a new binding
    again = Client()
    again.post("/accounts/login/", {"username": "renshe", "password": DEMO_PASSWORD})
    assert again.get("/workbench/")["Location"] == "/accounts/2fa/verify/"


@override_settings(QINGHE_REQUIRE_STAFF_2FA=True)
def test_students_and_enterprises_are_not_asked_for_totp(client_as: Any) -> None:
    assert client_as(Role.STUDENT).get("/workbench/").status_code == 200
    assert client_as(Role.ENTERPRISE_HR).get("/workbench/").status_code == 200


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/no-such-page/", "/api/v1/accounts/me"])
def test_every_response_carries_csp_and_security_headers(client: Client, path: str) -> None:
    response = client.get(path)
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Permissions-Policy"].startswith("camera=()")


def test_pages_are_chinese_first(client: Client) -> None:
    home = client.get("/").content.decode()
    assert '<html lang="zh-hans">' in home
    assert "登录" in client.get("/accounts/login/").content.decode()
    missing = client.get("/no-such-page/")
    assert missing.status_code == 404 and "页面不存在" in missing.content.decode()


def test_forbidden_page_is_chinese(client_as: Any) -> None:
    response = client_as(Role.STUDENT).get("/audit/")
    assert response.status_code == 403 and "无权访问" in response.content.decode()


def test_server_error_page_is_chinese(client: Client) -> None:
    from qinghe.core.views import error_500

    response = error_500(client.get("/").wsgi_request)
    assert response.status_code == 500 and "服务器出错了" in response.content.decode()


def test_no_cdn_anywhere_in_templates() -> None:
    offenders = []
    for template in ROOT.glob("**/templates/**/*.html"):
        if ".venv" in template.parts or "node_modules" in template.parts:
            continue
        text = template.read_text(encoding="utf-8")
        if "http://" in text or "https://" in text or "<script>" in text or 'style="' in text:
            offenders.append(str(template.relative_to(ROOT)))
    assert offenders == []


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a production start with throw-away keys and the real SMS sender
    (Aliyun; ``check --deploy`` refuses the console one). ``extra`` overrides; an empty value
    removes the variable."""
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if k != "DJANGO_ALLOW_ASYNC_UNSAFE"  # set by e2e tests
            and not k.startswith(("SMS_", "NOTIFY_SMS_"))
        },
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "k" * 20 + "-production-secret-key-for-the-deploy-check-0123456789",
        "FIELD_ENCRYPTION_KEY": "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=",
        "BLIND_INDEX_KEY": "YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXphYmNkZWY=",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        "ALLOWED_HOSTS": "qinghe.example.gov.cn",
        "SMS_SENDER": "qinghe.accounts.sms.AliyunSmsSender",
        "NOTIFY_SMS_ACCESS_KEY_ID": "LTAI-deploy-check",
        "NOTIFY_SMS_ACCESS_KEY_SECRET": "deploy-check-secret",
        "NOTIFY_SMS_CODE_TEMPLATE_CODE": "SMS_123456789",
        # a test-only e-card signing key (qinghe/cards/tokens.py)
        "QINGHE_CARD_SIGNING_KEYS": '[{"kty": "OKP", "crv": "Ed25519", "x": "LTFPXK6gc3XuRWHPXZ0BfMfU-wAwpoB1LgiNN_Mg-9M", "d": "guSU6ic-l8U-ZVhmMFBb0pOvsGW47jiQxN795i1aKDA", "kid": "deploy-check"}]',
        # a test-only event check-in signing key (qinghe/events/checkin.py)
        "QINGHE_EVENT_SIGNING_KEYS": '[{"kty": "OKP", "crv": "Ed25519", "x": "LTFPXK6gc3XuRWHPXZ0BfMfU-wAwpoB1LgiNN_Mg-9M", "d": "guSU6ic-l8U-ZVhmMFBb0pOvsGW47jiQxN795i1aKDA", "kid": "deploy-check-events"}]',
        **extra,
    }
    return {k: v for k, v in env.items() if v}


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_under_production_settings(tmp_path: Path) -> None:
    result = check_deploy(production_env(tmp_path))
    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.mark.parametrize("sender", ["qinghe.accounts.sms.ConsoleSmsSender", ""])
def test_check_deploy_fails_with_the_console_sms_sender(tmp_path: Path, sender: str) -> None:
    """Named or left to the default, the console sender would drop every sign-up code."""
    result = check_deploy(production_env(tmp_path, SMS_SENDER=sender))
    assert result.returncode != 0
    output = result.stderr + result.stdout
    assert "accounts.E001" in output and "SMS_SENDER" in output
    assert "注册验证码不会真正发送到用户手机" in output


def test_check_deploy_fails_without_the_aliyun_code_template(tmp_path: Path) -> None:
    result = check_deploy(production_env(tmp_path, NOTIFY_SMS_CODE_TEMPLATE_CODE=""))
    assert result.returncode != 0
    output = result.stderr + result.stdout
    assert "accounts.E004" in output and "NOTIFY_SMS_CODE_TEMPLATE_CODE" in output


def test_production_settings_refuse_to_start_without_keys(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "FIELD_ENCRYPTION_KEY", "BLIND_INDEX_KEY"}
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
        }
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY is required in production" in result.stderr


def test_chinese_is_the_default_whatever_the_browser_asks(client: Client) -> None:
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert '<html lang="zh-hans">' in response.content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    english = client.get("/accounts/login/").content.decode()
    assert '<html lang="en">' in english and "Log in" in english
