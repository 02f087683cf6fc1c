"""WeChat sign-in in Chromium against the local fake of WeChat's OAuth endpoints: a student
binds WeChat from 我的账号, signs out, signs in again through WeChat; a cancelled
authorisation says so and signs nobody in."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from qinghe.accounts.demo import DEMO_PASSWORD
from qinghe.accounts.demo import personas_ensure as make_persona_users
from qinghe.notifications.fakes import FakeWechat
from qinghe.notifications.models import WechatBinding
from tests.e2e.conftest import sign_in, sign_out

pytestmark = pytest.mark.django_db(transaction=True)

WECHAT_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.50(0x1800323c) NetType/WIFI"
)


@pytest.fixture
def wechat_page(browser: Any, live_server: Any) -> Iterator[Any]:
    """A phone inside WeChat's browser (WeChat names itself in the User-Agent)."""
    context = browser.new_context(
        locale="zh-CN",
        base_url=live_server.url,
        user_agent=WECHAT_UA,
        viewport={"width": 390, "height": 844},
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.console_errors = errors
    yield page
    context.close()


def back_at(url: str, path: str) -> bool:
    """The browser keeps the authorize URL's ``#wechat_redirect`` through the redirects."""
    return urlsplit(url).path == path


def test_a_student_binds_wechat_signs_out_and_signs_in_through_wechat(
    wechat_page: Any, wechat_fake: FakeWechat
) -> None:
    page = wechat_page
    student = make_persona_users()["student"]
    sign_in(page, "xuezi", DEMO_PASSWORD)
    page.goto("/accounts/me/")
    box = page.get_by_test_id("wechat-binding")
    assert "尚未绑定微信" in box.inner_text()
    box.get_by_role("link", name="绑定微信").click()
    # The round trip starts and ends on 我的账号, so the URL alone cannot say it is over (a
    # URL wait returns at once when the URL already matches): wait for the page it ends on.
    expect(page.locator("main")).to_contain_text("已绑定微信：今后可在微信中直接登录")
    page.wait_for_load_state("load")
    assert back_at(page.url, "/accounts/me/") and "code=" not in page.url
    assert "已绑定微信（" in page.get_by_test_id("wechat-binding").inner_text()
    assert WechatBinding.objects.get().user_id == student.pk
    assert (wechat_fake.authorizations, wechat_fake.exchanges) == (1, 1)

    sign_out(page)
    page.get_by_role("link", name="微信登录").click()
    page.wait_for_url(lambda url: back_at(url, "/workbench/"))
    assert "李晓彤" in page.get_by_test_id("user-menu").inner_text()
    assert (wechat_fake.authorizations, wechat_fake.exchanges) == (2, 2)
    assert page.console_errors == []


def test_a_cancelled_wechat_sign_in_says_so_and_signs_nobody_in(
    wechat_page: Any, wechat_fake: FakeWechat
) -> None:
    page = wechat_page
    make_persona_users()
    wechat_fake.refuse = True
    page.goto("/accounts/login/")
    page.get_by_role("link", name="微信登录").click()
    expect(page.locator("main")).to_contain_text("你已取消微信授权，未登录也未绑定。")
    page.wait_for_load_state("load")
    assert back_at(page.url, "/accounts/login/") and "state=" not in page.url
    assert page.get_by_test_id("user-menu").count() == 0
    assert wechat_fake.exchanges == 0


def test_an_unbound_wechat_is_told_how_to_bind(wechat_page: Any, wechat_fake: FakeWechat) -> None:
    page = wechat_page
    make_persona_users()
    page.goto("/accounts/login/")
    page.get_by_role("link", name="微信登录").click()
    expect(page.locator("main")).to_contain_text("该微信尚未绑定青鹤账号")
    page.wait_for_load_state("load")
    assert back_at(page.url, "/accounts/login/") and "state=" not in page.url
    assert WechatBinding.objects.count() == 0
