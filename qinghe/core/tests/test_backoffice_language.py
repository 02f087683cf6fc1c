"""The back office and the development server speak Chinese: third-party apps' names in the
admin, and the project's 404 page under DEBUG."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.test import Client, override_settings

from qinghe.core.roles import Role

ENGLISH = re.compile(r"[A-Za-z]{3,}")


def test_every_app_shown_in_the_back_office_has_a_chinese_name() -> None:
    from django.contrib import admin

    shown = {model._meta.app_label for model in admin.site._registry}
    english = [
        (label, str(apps.get_app_config(label).verbose_name))
        for label in sorted(shown)
        if ENGLISH.search(str(apps.get_app_config(label).verbose_name))
    ]
    assert english == []
    assert {"otp_totp", "axes", "django_tasks_database"} <= shown


@pytest.mark.django_db
def test_the_admin_index_lists_third_party_models_in_chinese(client_as: Any) -> None:
    page = client_as(Role.SYSADMIN).get("/backoffice/")
    assert page.status_code == 200
    text = page.content.decode()
    for name in ("两步验证", "动态口令设备", "登录失败锁定", "登录失败记录", "后台任务结果"):
        assert name in text, name
    for english in ("TOTP devices", "Access attempts", "Task Results", "Tasks Database"):
        assert english not in text, english


DEV_MIDDLEWARE = ["qinghe.core.middleware.DevelopmentNotFoundPageMiddleware", *settings.MIDDLEWARE]


@pytest.mark.django_db
@override_settings(DEBUG=True, MIDDLEWARE=DEV_MIDDLEWARE)
def test_development_answers_a_missing_page_with_the_chinese_404_page() -> None:
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    text = response.content.decode()
    assert "Page not found" not in text
    assert "页面不存在，或您无权查看该记录。" in text


def test_the_development_settings_use_it() -> None:
    import importlib

    dev = importlib.import_module("config.settings.dev")
    assert dev.MIDDLEWARE[0] == "qinghe.core.middleware.DevelopmentNotFoundPageMiddleware"


@pytest.mark.django_db
def test_third_party_lists_and_the_permission_names_read_in_chinese(
    client_as: Any, personas: Any
) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    admin = client_as(Role.SYSADMIN)
    TOTPDevice.objects.create(user=personas[Role.SYSADMIN], name="手机验证器", confirmed=True)
    devices = admin.get("/backoffice/otp_totp/totpdevice/").content.decode()
    for header in (
        "用户",
        "名称",
        "创建时间",
        "最近使用时间",
        "已确认",
        "选择 动态口令设备 来修改",
    ):
        assert header in devices, header
    tasks = admin.get("/backoffice/django_tasks_database/dbtaskresult/").content.decode()
    for header in ("以 状态", "以 优先级", "以 队列"):
        assert header in tasks, header
    group = admin.get("/backoffice/auth/group/add/").content.decode()
    assert "登录失败锁定 | 登录失败记录 | 可添加" in group
    assert "后台任务 | 后台任务结果 | 可查看" in group
    assert "Can add" not in group and "access attempt" not in group


@pytest.mark.django_db
def test_their_chinese_names_need_no_migration_of_the_third_party_apps() -> None:
    from django.core.management import call_command

    # --check exits with status 1 when a migration would be written.
    call_command(
        "makemigrations", "axes", "otp_totp", "django_tasks_database", check=True, dry_run=True
    )
