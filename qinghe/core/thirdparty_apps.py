"""The back office speaks Chinese for third-party apps too: their AppConfigs with Chinese
names (INSTALLED_APPS points here), and the admin site of qinghe.core.admin_site."""

from __future__ import annotations

from axes.apps import AppConfig as AxesAppConfig
from django.contrib.admin.apps import AdminConfig
from django_otp.plugins.otp_totp.apps import DefaultConfig as TotpAppConfig
from django_tasks_db.apps import TasksAppConfig as TasksDbAppConfig


class OtpTotpConfig(TotpAppConfig):
    verbose_name = "两步验证"


class AxesConfig(AxesAppConfig):
    verbose_name = "登录失败锁定"


class TasksDatabaseConfig(TasksDbAppConfig):
    verbose_name = "后台任务"


class QingheAdminConfig(AdminConfig):
    default_site = "qinghe.core.admin_site.QingheAdminSite"
