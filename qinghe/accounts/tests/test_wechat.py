"""WeChat sign-in and binding (official-account web authorisation) against the local fake of
WeChat's OAuth endpoints: the journey, and every refusal with nothing bound or signed in."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from qinghe.accounts import wechat
from qinghe.accounts.models import User
from qinghe.accounts.services_wechat import (
    ALREADY_BOUND,
    NOT_A_STUDENT,
    TAKEN,
    UNKNOWN_OPENID,
    wechat_bind,
)
from qinghe.core.models import AuditLog
from qinghe.core.roles import Role
from qinghe.notifications.fakes import FakeWechat
from qinghe.notifications.models import WechatBinding, openid_index

from .test_security import ROOT, production_env

OPENID = "oFakeWechatUser0000000000001"


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def start(client: Client, url: str) -> str:
    """Follows our start page to WeChat's authorize URL; returns that URL."""
    response = client.get(url)
    assert response.status_code == 302
    return str(response["Location"])


def at_wechat(authorize_url: str) -> str:
    """What the phone does at open.weixin.qq.com: returns where WeChat sends it back."""
    answer = requests.get(authorize_url.split("#")[0], allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    return str(answer.headers["Location"])


def back(client: Client, callback_url: str) -> Any:
    parts = urlsplit(callback_url)
    return client.get(f"{parts.path}?{parts.query}")


def through_wechat(client: Client, url: str) -> Any:
    return back(client, at_wechat(start(client, url)))


@pytest.fixture
def student(personas: dict[str, User]) -> User:
    return personas[Role.STUDENT]


@pytest.fixture
def student_client(student: User) -> Client:
    client = Client()
    client.force_login(student)
    return client


def test_the_authorize_url_carries_what_wechat_asks_for(
    wechat_fake: FakeWechat, student_client: Client
) -> None:
    url = start(student_client, "/accounts/wechat/bind/")
    base, _, fragment = url.partition("#")
    parts = urlsplit(base)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        f"{wechat_fake.url}/connect/oauth2/authorize"
    )
    assert fragment == "wechat_redirect"
    assert sorted(query) == ["appid", "redirect_uri", "response_type", "scope", "state"]
    assert query["appid"] == "wx-test"
    assert query["redirect_uri"] == "http://testserver/accounts/wechat/callback/"
    assert (query["response_type"], query["scope"]) == ("code", "snsapi_base")
    # WeChat passes back only a-zA-Z0-9, at most 128 bytes
    assert query["state"].isalnum() and len(query["state"]) <= 128


def test_a_student_binds_wechat_once_and_the_openid_is_stored_encrypted(
    wechat_fake: FakeWechat, student: User, student_client: Client, caplog: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    response = through_wechat(student_client, "/accounts/wechat/bind/")
    assert response.status_code == 302 and response["Location"] == "/accounts/me/"
    assert messages_of(response) == ["已绑定微信：今后可在微信中直接登录，并通过公众号接收通知。"]
    binding = WechatBinding.objects.get()
    assert (binding.user_id, binding.openid) == (student.pk, OPENID)
    assert binding.openid_index == openid_index(OPENID)
    with connection.cursor() as cursor:
        cursor.execute("SELECT openid FROM notifications_wechatbinding")
        [(raw,)] = cursor.fetchall()
    assert raw.startswith("v1:") and OPENID not in raw
    audit = AuditLog.objects.filter(summary="绑定微信公众号").get()
    assert (audit.actor_id, audit.target_id) == (student.pk, str(student.pk))
    assert not any(OPENID in str(row) for row in AuditLog.objects.values_list())
    assert OPENID not in caplog.text
    page = student_client.get("/accounts/me/").content.decode()
    assert "已绑定微信" in page and "解除微信绑定" in page
    assert (wechat_fake.authorizations, wechat_fake.exchanges) == (1, 1)


def test_a_bound_student_signs_in_with_wechat(
    wechat_fake: FakeWechat, student: User, caplog: Any
) -> None:
    wechat_bind(user=student, openid=OPENID)
    caplog.set_level(logging.DEBUG)
    client = Client()
    response = through_wechat(client, "/accounts/wechat/login/?next=/me/")
    assert response.status_code == 302 and response["Location"] == "/me/"
    assert int(client.session["_auth_user_id"]) == student.pk
    login = AuditLog.objects.filter(action="login").latest("pk")
    assert (login.actor_id, login.summary) == (student.pk, "微信登录成功")
    assert OPENID not in caplog.text


def test_signing_in_ignores_a_next_on_another_host(wechat_fake: FakeWechat, student: User) -> None:
    wechat_bind(user=student, openid=OPENID)
    response = through_wechat(Client(), "/accounts/wechat/login/?next=https://evil.example/")
    assert response["Location"] == "/"


def test_a_cancelled_authorisation_binds_nothing(
    wechat_fake: FakeWechat, student_client: Client
) -> None:
    wechat_fake.refuse = True
    callback = at_wechat(start(student_client, "/accounts/wechat/bind/"))
    assert "code=" not in callback
    response = back(student_client, callback)
    assert response["Location"] == "/accounts/me/"
    assert messages_of(response) == [wechat.CANCELLED]
    assert WechatBinding.objects.count() == 0 and wechat_fake.exchanges == 0


def test_a_cancelled_sign_in_signs_nobody_in(wechat_fake: FakeWechat, student: User) -> None:
    wechat_bind(user=student, openid=OPENID)
    wechat_fake.refuse = True
    client = Client()
    response = through_wechat(client, "/accounts/wechat/login/")
    assert response["Location"] == "/accounts/login/"
    assert messages_of(response) == [wechat.CANCELLED]
    assert "_auth_user_id" not in client.session


def test_a_tampered_state_is_refused_before_wechat_is_asked(
    wechat_fake: FakeWechat, student_client: Client
) -> None:
    callback = at_wechat(start(student_client, "/accounts/wechat/bind/"))
    state = parse_qs(urlsplit(callback).query)["state"][0]
    forged = callback.replace(state, state[:-1] + ("0" if state[-1] != "0" else "1"))
    response = back(student_client, forged)
    assert messages_of(response) == [wechat.BAD_STATE]
    assert WechatBinding.objects.count() == 0 and wechat_fake.exchanges == 0


def test_a_state_is_good_once(wechat_fake: FakeWechat, student_client: Client) -> None:
    callback = at_wechat(start(student_client, "/accounts/wechat/bind/"))
    assert back(student_client, callback).status_code == 302
    WechatBinding.objects.all().delete()
    replay = back(student_client, callback)
    assert messages_of(replay)[-1] == wechat.BAD_STATE
    assert WechatBinding.objects.count() == 0 and wechat_fake.exchanges == 1


def test_an_expired_state_is_refused(
    wechat_fake: FakeWechat, student_client: Client, monkeypatch: Any, settings: Any
) -> None:
    callback = at_wechat(start(student_client, "/accounts/wechat/bind/"))
    later = wechat.time.time() + settings.QINGHE_WECHAT_STATE_MAX_AGE + 1
    monkeypatch.setattr(wechat.time, "time", lambda: later)
    response = back(student_client, callback)
    assert messages_of(response) == [wechat.BAD_STATE]
    assert WechatBinding.objects.count() == 0 and wechat_fake.exchanges == 0


def test_a_callback_from_another_browser_binds_nothing(
    wechat_fake: FakeWechat, student_client: Client, personas: dict[str, User]
) -> None:
    """Login CSRF: a callback link made in the attacker's browser finds no pending
    authorisation in the victim's session."""
    callback = at_wechat(start(student_client, "/accounts/wechat/bind/"))
    victim = Client()
    victim.force_login(personas[Role.AMBASSADOR])
    response = back(victim, callback)
    assert messages_of(response) == [wechat.BAD_STATE]
    assert WechatBinding.objects.count() == 0 and wechat_fake.exchanges == 0


def test_a_callback_without_any_state_is_refused(
    wechat_fake: FakeWechat, student_client: Client
) -> None:
    response = student_client.get("/accounts/wechat/callback/?code=abc")
    assert messages_of(response) == [wechat.BAD_STATE]
    assert WechatBinding.objects.count() == 0 and wechat_fake.exchanges == 0


def test_an_errcode_from_the_token_endpoint_binds_nothing(
    wechat_fake: FakeWechat, student_client: Client, settings: Any
) -> None:
    settings.QINGHE_WECHAT_SECRET = "not-the-secret"
    response = through_wechat(student_client, "/accounts/wechat/bind/")
    assert messages_of(response) == ["公众号配置有误（AppSecret 无效），请联系平台管理员"]
    assert WechatBinding.objects.count() == 0 and wechat_fake.exchanges == 1


@pytest.mark.parametrize(
    ("code_of", "message"),
    [
        (lambda codes: "never-issued", "微信授权码无效或已过期，请重新点击“微信登录”"),
        (lambda codes: codes[0], "微信授权码已被使用，请重新点击“微信登录”"),
    ],
)
def test_token_endpoint_error_codes_have_chinese_messages(
    wechat_fake: FakeWechat, code_of: Any, message: str
) -> None:
    callback = at_wechat(
        f"{wechat_fake.url}/connect/oauth2/authorize?appid=wx-test&response_type=code"
        "&scope=snsapi_base&state=s&redirect_uri=http://testserver/cb/"
    )
    code = parse_qs(urlsplit(callback).query)["code"][0]
    assert wechat.exchange_code(code) == OPENID
    with pytest.raises(wechat.WechatAuthError) as refused:
        wechat.exchange_code(code_of([code]))
    assert str(refused.value) == message


def test_an_unknown_errcode_still_reads_as_chinese(wechat_fake: FakeWechat, settings: Any) -> None:
    settings.QINGHE_WECHAT_APPID = "wx-other"
    with pytest.raises(wechat.WechatAuthError) as refused:
        wechat.exchange_code("abc")
    assert str(refused.value) == "公众号配置有误（AppID 无效），请联系平台管理员"
    wechat_fake.codes.clear()
    settings.QINGHE_WECHAT_APPID = "wx-test"
    with pytest.raises(wechat.WechatAuthError) as refused:
        wechat.exchange_code("abc")
    assert "微信授权码无效" in str(refused.value)


def test_a_network_failure_binds_nothing(
    wechat_fake: FakeWechat, student_client: Client, settings: Any
) -> None:
    authorize = start(student_client, "/accounts/wechat/bind/")
    callback = at_wechat(authorize)
    wechat_fake.stop()
    response = back(student_client, callback)
    assert messages_of(response) == [wechat.UNREACHABLE]
    assert WechatBinding.objects.count() == 0


@pytest.mark.parametrize(
    ("status", "body"),
    [(502, b"<html>Bad Gateway</html>"), (200, b"not json"), (200, b"[1, 2]"), (200, b"{}")],
)
def test_an_unusable_answer_is_a_clear_refusal(
    wechat_fake: FakeWechat, monkeypatch: Any, status: int, body: bytes
) -> None:
    class Answer:
        status_code = status
        content = body

        def json(self) -> Any:
            import json

            return json.loads(body)

    monkeypatch.setattr(wechat.requests, "get", lambda *a, **k: Answer())
    with pytest.raises(wechat.WechatAuthError) as refused:
        wechat.exchange_code("abc")
    assert str(refused.value) in (wechat.UNREACHABLE, "微信没有返回用户标识，请稍后再试")


def test_the_token_request_has_a_timeout(wechat_fake: FakeWechat, monkeypatch: Any) -> None:
    seen: dict[str, Any] = {}
    real_get = requests.get

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.update(kwargs)
        return real_get(*args, **kwargs)

    monkeypatch.setattr(wechat.requests, "get", spy)
    with pytest.raises(wechat.WechatAuthError):
        wechat.exchange_code("abc")
    assert seen["timeout"] == (5, 10) and seen["params"]["grant_type"] == "authorization_code"


def test_an_openid_bound_to_another_account_cannot_be_bound_again(
    wechat_fake: FakeWechat, personas: dict[str, User]
) -> None:
    first = personas[Role.AMBASSADOR]
    wechat_bind(user=first, openid=OPENID)
    client = Client()
    client.force_login(personas[Role.STUDENT])
    response = through_wechat(client, "/accounts/wechat/bind/")
    assert messages_of(response) == [TAKEN]
    assert list(WechatBinding.objects.values_list("user_id", flat=True)) == [first.pk]


def test_an_account_binds_one_wechat_only(
    wechat_fake: FakeWechat, student: User, student_client: Client
) -> None:
    wechat_bind(user=student, openid="oSomeEarlierWechat")
    response = through_wechat(student_client, "/accounts/wechat/bind/")
    assert messages_of(response) == [ALREADY_BOUND]
    assert [b.openid for b in WechatBinding.objects.all()] == ["oSomeEarlierWechat"]


def test_an_unbound_wechat_signs_nobody_in(wechat_fake: FakeWechat, student: User) -> None:
    client = Client()
    response = through_wechat(client, "/accounts/wechat/login/")
    assert response["Location"] == "/accounts/login/"
    assert messages_of(response) == [UNKNOWN_OPENID]
    assert "_auth_user_id" not in client.session
    assert not AuditLog.objects.filter(action="login").exists()


def test_staff_cannot_bind_nor_sign_in_with_wechat(
    wechat_fake: FakeWechat, personas: dict[str, User], client_as: Any
) -> None:
    assert client_as(Role.HR_STAFF).get("/accounts/wechat/bind/").status_code == 403
    assert client_as(Role.ENTERPRISE_HR).get("/accounts/wechat/bind/").status_code == 403
    staff = personas[Role.HR_STAFF]
    with pytest.raises(Exception, match=NOT_A_STUDENT):
        wechat_bind(user=staff, openid=OPENID)
    # A binding left over from when the account was a student's does not sign staff in.
    WechatBinding.objects.create(user=staff, openid=OPENID, openid_index=openid_index(OPENID))
    client = Client()
    response = through_wechat(client, "/accounts/wechat/login/")
    assert messages_of(response) == [NOT_A_STUDENT]
    assert "_auth_user_id" not in client.session


def test_an_inactive_account_does_not_sign_in(wechat_fake: FakeWechat, student: User) -> None:
    wechat_bind(user=student, openid=OPENID)
    User.objects.filter(pk=student.pk).update(is_active=False)
    client = Client()
    response = through_wechat(client, "/accounts/wechat/login/")
    assert messages_of(response) == [UNKNOWN_OPENID]
    assert "_auth_user_id" not in client.session


def test_unbinding_ends_wechat_sign_in(
    wechat_fake: FakeWechat, student: User, student_client: Client
) -> None:
    wechat_bind(user=student, openid=OPENID)
    response = student_client.post("/accounts/wechat/unbind/")
    assert response["Location"] == "/accounts/me/"
    assert WechatBinding.objects.count() == 0
    assert AuditLog.objects.filter(summary="解除微信公众号绑定", actor=student).count() == 1
    again = student_client.post("/accounts/wechat/unbind/")
    assert messages_of(again)[-1] == "你的账号尚未绑定微信。"
    client = Client()
    through_wechat(client, "/accounts/wechat/login/")
    assert "_auth_user_id" not in client.session


def test_unbinding_is_a_post(student_client: Client) -> None:
    assert student_client.get("/accounts/wechat/unbind/").status_code == 405


def test_switched_off_wechat_sends_nobody_to_wechat(client: Client, settings: Any) -> None:
    settings.QINGHE_WECHAT_ENABLED = False
    response = client.get("/accounts/wechat/login/")
    assert response["Location"] == "/accounts/login/"
    assert messages_of(response) == [wechat.DISABLED]
    page = client.get("/accounts/login/", HTTP_USER_AGENT="MicroMessenger/8.0").content.decode()
    assert "/accounts/wechat/login/" not in page and "在微信中打开本页" not in page


def test_the_sign_in_button_shows_inside_wechat(wechat_fake: FakeWechat, client: Client) -> None:
    inside = client.get(
        "/accounts/login/", HTTP_USER_AGENT="Mozilla/5.0 (iPhone) MicroMessenger/8.0.50"
    ).content.decode()
    outside = client.get("/accounts/login/", HTTP_USER_AGENT="Mozilla/5.0").content.decode()
    assert 'href="/accounts/wechat/login/"' in inside
    assert 'href="/accounts/wechat/login/"' not in outside and "在微信中打开本页" in outside


def test_signing_in_looks_the_openid_up_by_its_blind_index(
    wechat_fake: FakeWechat, student: User
) -> None:
    wechat_bind(user=student, openid=OPENID)
    with CaptureQueriesContext(connection) as queries:
        from qinghe.accounts.services_wechat import wechat_user_for_login

        assert wechat_user_for_login(openid=OPENID) == student
    assert any(openid_index(OPENID) in q["sql"] for q in queries.captured_queries)
    assert not any(OPENID in q["sql"] for q in queries.captured_queries)


def test_production_refuses_wechat_switched_on_without_its_secret(tmp_path: Path) -> None:
    env = production_env(tmp_path, QINGHE_WECHAT_ENABLED="1", QINGHE_WECHAT_APPID="wx123")
    env.pop("QINGHE_WECHAT_SECRET", None)
    env.pop("NOTIFY_WECHAT_APP_SECRET", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "QINGHE_WECHAT_APPID and QINGHE_WECHAT_SECRET are required" in result.stderr
    env["QINGHE_WECHAT_SECRET"] = "s"
    ok = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr


def test_a_bound_student_receives_recruitment_messages_as_template_messages(
    wechat_fake: FakeWechat, world: Any, settings: Any
) -> None:
    from qinghe.notifications.delivery import deliver_pending
    from qinghe.testing.recruiting import (
        X_PHONE,
        apply_to,
        claim_talent,
        invite,
        last_outbox_id,
        outbox_rows,
    )

    settings.SITE_URL = "https://qinghe.example.gov.cn"
    claim_talent(world.x, name="李晓彤", seq="102", phone=X_PHONE)
    application = apply_to(world.x, world.posting_a)
    wechat_bind(user=world.x, openid=OPENID)
    before = last_outbox_id()
    invite(world.hr_a, application)
    rows = [r for r in outbox_rows(after=before) if r[0] == world.x.username]
    link = f"/jobs/applications/{application.pk}/"
    assert [(channel, link_) for _, channel, _, link_ in rows] == [
        ("inbox", link),
        ("email", link),
        ("wechat", link),
    ]
    # the other applicant, never bound, gets no WeChat row
    other = claim_talent(world.y, name="王子涵", seq="103", phone="13512340002")
    assert other.user == world.y
    apply_to(world.y, world.posting_a)
    assert not [r for r in outbox_rows(after=before) if r[0] == "xuezi_y" and r[1] == "wechat"]
    deliver_pending()
    [payload] = wechat_fake.bodies
    assert payload["touser"] == OPENID and payload["template_id"] == "TPL-1"
    assert payload["url"] == "https://qinghe.example.gov.cn" + link
    assert wechat_fake.token_requests == 1 and wechat_fake.posts == 1


def test_closing_the_account_removes_the_wechat_binding(
    wechat_fake: FakeWechat, student: User
) -> None:
    from qinghe.accounts.demo import DEMO_PASSWORD
    from qinghe.talents.services_self import DELETE_CONFIRMATION, account_delete

    wechat_bind(user=student, openid=OPENID)
    account_delete(user=student, password=DEMO_PASSWORD, confirmation=DELETE_CONFIRMATION)
    assert WechatBinding.objects.count() == 0
    client = Client()
    through_wechat(client, "/accounts/wechat/login/")
    assert "_auth_user_id" not in client.session
