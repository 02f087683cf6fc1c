"""Student self-registration with an SMS code: the happy path and every refusal, each with
proof that nothing was created."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client, override_settings
from django.utils import timezone

from qinghe.accounts.models import PhoneVerification, User
from qinghe.accounts.phones import phone_index
from qinghe.accounts.registration import (
    CODE_EXHAUSTED,
    CODE_EXPIRED,
    PHONE_TAKEN,
    code_hash,
    student_register,
    verification_send,
)
from qinghe.accounts.services import user_create
from qinghe.accounts.sms import ConsoleSmsSender, MemorySmsSender, get_sms_sender
from qinghe.core.errors import ApplicationError
from qinghe.core.models import AuditLog
from qinghe.core.roles import Role

pytestmark = pytest.mark.django_db

PHONE = "13800139001"
PASSWORD = "Heshan-home-2026"


@pytest.fixture(autouse=True)
def sms() -> Iterator[type[MemorySmsSender]]:
    MemorySmsSender.clear()
    with override_settings(SMS_SENDER="qinghe.accounts.sms.MemorySmsSender"):
        yield MemorySmsSender
    MemorySmsSender.clear()


def last_code() -> str:
    match = re.search(r"\b(\d{6})\b", MemorySmsSender.outbox[-1].text)
    assert match is not None
    return match.group(1)


def verification() -> PhoneVerification:
    return PhoneVerification.objects.get(phone_index=phone_index(PHONE))


def register_form(code: str, **overrides: str) -> dict[str, str]:
    return {
        "code": code,
        "display_name": "谭嘉琪",
        "username": "",
        "password": PASSWORD,
        "password2": PASSWORD,
        **overrides,
    }


def test_a_student_registers_with_a_code_read_from_the_outbox_and_lands_on_the_claim_page(
    client: Client,
) -> None:
    response = client.post("/accounts/register/", {"phone": "138 0013 9001"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/register/verify/"
    assert len(MemorySmsSender.outbox) == 1
    assert MemorySmsSender.outbox[0].phone == PHONE
    code = last_code()
    assert (
        MemorySmsSender.outbox[0].text
        == f"【青鹤】你的注册验证码是 {code}，10 分钟内有效。请勿告诉他人。"
    )
    # Neither the phone nor the code is stored in the clear, in the table or in the session.
    row = verification()
    assert row.code_hash == code_hash(row.phone_index, code)
    assert code not in row.code_hash
    assert PHONE not in str(client.session.get("register_phone"))

    page = client.get("/accounts/register/verify/")
    assert "138****9001" in page.content.decode()

    response = client.post("/accounts/register/verify/", register_form(code))
    assert response.status_code == 302
    assert response["Location"] == "/me/claim/"
    user = User.objects.get(phone_index=phone_index(PHONE))
    assert user.role == Role.STUDENT
    assert user.phone == PHONE
    assert user.display_name == "谭嘉琪"
    assert re.fullmatch(r"qh9001_[0-9a-f]{6}", user.username)
    assert user.check_password(PASSWORD)
    assert verification().used_at is not None
    assert "register_phone" not in client.session
    assert client.get("/me/claim/").status_code == 200
    assert (
        AuditLog.objects.filter(
            action="create", target_type="accounts.user", target_id=str(user.pk)
        ).count()
        == 1
    )
    # The phone signs in as well as the username.
    signed_in = Client().post("/accounts/login/", {"username": PHONE, "password": PASSWORD})
    assert signed_in.status_code == 302


def test_a_chosen_username_is_kept(client: Client) -> None:
    client.post("/accounts/register/", {"phone": PHONE})
    client.post("/accounts/register/verify/", register_form(last_code(), username="tanjiaqi"))
    assert User.objects.get(phone_index=phone_index(PHONE)).username == "tanjiaqi"


def test_a_wrong_code_is_refused_counts_one_try_and_creates_nothing(client: Client) -> None:
    client.post("/accounts/register/", {"phone": PHONE})
    wrong = "000000" if last_code() != "000000" else "111111"
    users_before = User.objects.count()
    response = client.post("/accounts/register/verify/", register_form(wrong))
    assert response.status_code == 200
    assert "验证码不正确，还可尝试 4 次" in response.content.decode()
    assert User.objects.count() == users_before
    assert verification().attempts == 1
    assert verification().used_at is None


def test_an_expired_code_is_refused_and_creates_nothing() -> None:
    sent_at = timezone.now() - timedelta(minutes=11)
    verification_send(phone=PHONE, now=sent_at)
    users_before = User.objects.count()
    with pytest.raises(ValidationError) as refused:
        student_register(phone=PHONE, code=last_code(), password=PASSWORD, display_name="谭嘉琪")
    assert refused.value.message_dict == {"code": [CODE_EXPIRED]}
    assert User.objects.count() == users_before
    assert verification().used_at is None
    assert verification().attempts == 0


def test_after_five_wrong_codes_even_the_right_code_is_refused() -> None:
    verification_send(phone=PHONE)
    code = last_code()
    wrong = "000000" if code != "000000" else "111111"
    messages = []
    for _ in range(5):
        with pytest.raises(ValidationError) as refused:
            student_register(phone=PHONE, code=wrong, password=PASSWORD, display_name="谭嘉琪")
        messages.append(refused.value.message_dict["code"][0])
    assert messages == [
        "验证码不正确，还可尝试 4 次",
        "验证码不正确，还可尝试 3 次",
        "验证码不正确，还可尝试 2 次",
        "验证码不正确，还可尝试 1 次",
        CODE_EXHAUSTED,
    ]
    with pytest.raises(ValidationError) as refused:
        student_register(phone=PHONE, code=code, password=PASSWORD, display_name="谭嘉琪")
    assert refused.value.message_dict == {"code": [CODE_EXHAUSTED]}
    assert not User.objects.filter(phone_index=phone_index(PHONE)).exists()
    assert verification().attempts == 5


def test_a_new_code_replaces_an_exhausted_one() -> None:
    start = timezone.now() - timedelta(minutes=5)
    verification_send(phone=PHONE, now=start)
    for _ in range(5):
        with pytest.raises(ValidationError):
            student_register(
                phone=PHONE,
                code="999999" if last_code() != "999999" else "888888",
                password=PASSWORD,
                display_name="谭嘉琪",
            )
    verification_send(phone=PHONE)
    user = student_register(phone=PHONE, code=last_code(), password=PASSWORD, display_name="谭嘉琪")
    assert user.phone == PHONE


def test_codes_are_limited_to_one_a_minute_and_five_an_hour() -> None:
    t0 = timezone.now()
    verification_send(phone=PHONE, now=t0)
    with pytest.raises(ApplicationError) as refused:
        verification_send(phone=PHONE, now=t0 + timedelta(seconds=30))
    assert refused.value.message == "验证码发送过于频繁，请 30 秒后再试"
    assert PhoneVerification.objects.count() == 1
    assert len(MemorySmsSender.outbox) == 1
    for minute in (1, 2, 3, 4):
        verification_send(phone=PHONE, now=t0 + timedelta(seconds=61 * minute))
    assert PhoneVerification.objects.count() == 5
    with pytest.raises(ApplicationError) as refused:
        verification_send(phone=PHONE, now=t0 + timedelta(minutes=10))
    assert refused.value.message == "该手机号 1 小时内已获取 5 次验证码，请稍后再试"
    assert PhoneVerification.objects.count() == 5
    assert len(MemorySmsSender.outbox) == 5
    # An hour after the first, one slot is free again.
    verification_send(phone=PHONE, now=t0 + timedelta(seconds=3601))
    assert PhoneVerification.objects.count() == 6


def test_the_page_shows_the_rate_limit_in_chinese(client: Client) -> None:
    client.post("/accounts/register/", {"phone": PHONE})
    response = client.post("/accounts/register/", {"phone": PHONE})
    assert response.status_code == 200
    assert re.search(r"验证码发送过于频繁，请 \d+ 秒后再试", response.content.decode())
    assert PhoneVerification.objects.count() == 1
    assert len(MemorySmsSender.outbox) == 1


def test_a_registered_phone_gets_no_code_and_nothing_is_created(
    client: Client, personas: Any
) -> None:
    taken = personas[Role.STUDENT].phone
    users_before = User.objects.count()
    response = client.post("/accounts/register/", {"phone": taken})
    assert response.status_code == 200
    assert PHONE_TAKEN in response.content.decode()
    assert PhoneVerification.objects.count() == 0
    assert MemorySmsSender.outbox == []
    assert User.objects.count() == users_before


def test_a_phone_registered_between_the_two_steps_is_refused_at_the_second() -> None:
    verification_send(phone=PHONE)
    code = last_code()
    user_create(
        username="someone", password=PASSWORD, role=Role.STUDENT, phone=PHONE, validate=False
    )
    users_before = User.objects.count()
    with pytest.raises(ValidationError) as refused:
        student_register(phone=PHONE, code=code, password=PASSWORD, display_name="谭嘉琪")
    assert refused.value.message_dict == {"phone": [PHONE_TAKEN]}
    assert User.objects.count() == users_before
    assert verification().used_at is None


def test_a_weak_password_is_refused_before_the_code_is_tried(client: Client) -> None:
    client.post("/accounts/register/", {"phone": PHONE})
    response = client.post(
        "/accounts/register/verify/",
        register_form(last_code(), password="12345678", password2="12345678"),
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "密码" in body and "is-invalid" in body
    assert not User.objects.filter(phone_index=phone_index(PHONE)).exists()
    assert verification().attempts == 0
    # The same code still works once the password is fixed.
    response = client.post("/accounts/register/verify/", register_form(last_code()))
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("username", "error"),
    [
        ("13912345678", "用户名不能是手机号或纯数字"),
        ("deleted-7", "该用户名不可使用"),
        ("xuezi", "该用户名已被使用"),
    ],
)
def test_usernames_that_would_confuse_sign_in_are_refused(
    client: Client, personas: Any, username: str, error: str
) -> None:
    client.post("/accounts/register/", {"phone": PHONE})
    users_before = User.objects.count()
    response = client.post(
        "/accounts/register/verify/", register_form(last_code(), username=username)
    )
    assert response.status_code == 200
    assert error in response.content.decode()
    assert User.objects.count() == users_before
    assert verification().attempts == 0


def test_mismatched_passwords_are_refused(client: Client) -> None:
    client.post("/accounts/register/", {"phone": PHONE})
    response = client.post(
        "/accounts/register/verify/", register_form(last_code(), password2="Other-pass-2026")
    )
    assert "两次输入的密码不一致" in response.content.decode()
    assert not User.objects.filter(phone_index=phone_index(PHONE)).exists()


def test_the_second_step_without_a_phone_sends_back_to_the_first(client: Client) -> None:
    response = client.get("/accounts/register/verify/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/register/"


def test_resend_on_the_second_step_honours_the_rate_limit(client: Client) -> None:
    client.post("/accounts/register/", {"phone": PHONE})
    response = client.post("/accounts/register/verify/", {"resend": "1"}, follow=True)
    assert re.search(r"验证码发送过于频繁，请 \d+ 秒后再试", response.content.decode())
    assert len(MemorySmsSender.outbox) == 1


def test_a_signed_in_user_is_sent_home_from_registration(client_as: Any) -> None:
    response = client_as(Role.STUDENT).get("/accounts/register/")
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_the_console_sender_logs_only_a_masked_phone(caplog: Any) -> None:
    caplog.set_level(logging.INFO, logger="qinghe.accounts.sms")
    ConsoleSmsSender().send(PHONE, "【青鹤】你的注册验证码是 123456")
    assert [r.getMessage() for r in caplog.records if r.name == "qinghe.accounts.sms"] == [
        "短信 → 138****9001：【青鹤】你的注册验证码是 123456"
    ]
    assert PHONE not in caplog.text


def test_registration_through_the_console_sender_never_logs_the_raw_phone(
    client: Client, caplog: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    with override_settings(SMS_SENDER="qinghe.accounts.sms.ConsoleSmsSender"):
        assert isinstance(get_sms_sender(), ConsoleSmsSender)
        client.post("/accounts/register/", {"phone": PHONE})
        client.post("/accounts/register/verify/", register_form("000000"))
    assert "138****9001" in caplog.text
    assert PHONE not in caplog.text


def test_the_default_sender_is_the_console() -> None:
    with override_settings(SMS_SENDER=""):
        assert isinstance(get_sms_sender(), ConsoleSmsSender)
