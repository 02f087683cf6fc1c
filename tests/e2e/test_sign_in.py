from __future__ import annotations

from typing import Any

import pytest

from qinghe.accounts.demo import DEMO_PASSWORD
from qinghe.accounts.demo import personas_ensure as make_persona_users
from tests.e2e.conftest import go_to_menu, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_every_demo_persona_signs_in_and_sees_only_their_menu(page: Any) -> None:
    make_persona_users()
    expectations = {
        "xuezi": ("李晓彤", False, False),
        "renshe": ("梁志强", True, False),
        "shenji": ("罗文静", False, True),
        "admin": ("系统管理员", True, True),
    }
    for username, (name, sees_reference, sees_audit) in expectations.items():
        sign_in(page, username, DEMO_PASSWORD)
        nav = page.locator("#mainnav")
        assert name in page.get_by_test_id("user-menu").inner_text()
        assert (
            nav.get_by_role("link", name="参考数据", include_hidden=True).count() == 1
        ) is sees_reference
        assert (
            nav.get_by_role("link", name="审计日志", include_hidden=True).count() == 1
        ) is sees_audit
        page.get_by_test_id("user-menu").click()
        page.get_by_role("button", name="退出登录").click()
        page.wait_for_url("**/accounts/login/")
    assert page.console_errors == []


def test_a_wrong_password_shows_a_chinese_error(page: Any) -> None:
    make_persona_users()
    page.goto("/accounts/login/")
    page.get_by_label("用户名或手机号").fill("xuezi")
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    assert "用户名/手机号或密码不正确" in page.locator("main form").inner_text()


def test_phone_layout_collapses_the_menu(page: Any) -> None:
    make_persona_users()
    page.set_viewport_size({"width": 375, "height": 740})
    sign_in(page, "renshe", DEMO_PASSWORD)
    assert page.locator(".navbar-toggler").is_visible()
    go_to_menu(page, "参考数据")
    page.wait_for_url("**/reference/")
