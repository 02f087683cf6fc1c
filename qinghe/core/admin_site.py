"""The back office's admin site: Chinese titles, and Chinese names for third-party models in
the index and sidebar (their models' own verbose names are part of their migrations, so they
are renamed only where the admin lists them)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

# (app label, model name) -> the name the back office shows for a third-party model.
THIRD_PARTY_MODEL_NAMES: dict[tuple[str, str], str] = {
    ("axes", "accessattempt"): "登录失败记录",
    ("axes", "accesslog"): "登录记录",
    ("axes", "accessfailurelog"): "登录失败明细",
    ("django_tasks_database", "dbtaskresult"): "后台任务结果",
    ("otp_totp", "totpdevice"): "动态口令设备",
}


class QingheAdminSite(admin.AdminSite):
    site_header = "青鹤 Qinghe 后台管理"
    site_title = "青鹤后台"
    index_title = "后台管理"

    def get_app_list(
        self, request: HttpRequest, app_label: str | None = None
    ) -> list[dict[str, Any]]:
        apps = super().get_app_list(request, app_label)
        for app in apps:
            for model in app["models"]:
                name = THIRD_PARTY_MODEL_NAMES.get((app["app_label"], model["object_name"].lower()))
                if name:
                    model["name"] = name
        return apps
