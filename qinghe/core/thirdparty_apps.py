"""The back office speaks Chinese for third-party apps too: their AppConfigs with Chinese
names (INSTALLED_APPS points here), and the admin site of qinghe.core.admin_site.

Their models' and fields' names are English, some as plain strings (django-otp, fields named
after their attribute); ``translatable_labels`` makes each one a lazy translation of itself, and
the project's zh_Hans catalog (locale/zh_Hans) gives the Chinese. Migrations are unaffected:
``makemigrations`` and ``migrate`` run without translations, where a lazy string is its English
original, equal to what the apps' migrations hold."""

from __future__ import annotations

from axes.apps import AppConfig as AxesAppConfig
from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy
from django_otp.plugins.otp_totp.apps import DefaultConfig as TotpAppConfig
from django_tasks_db.apps import TasksAppConfig as TasksDbAppConfig


def _english(value: object) -> str:
    with translation.override(None):
        return str(value)


def translatable_labels(app_config: AppConfig) -> None:
    """Every model's verbose names and every field's verbose name and help text of the app
    become gettext_lazy of their English text."""
    for model in app_config.get_models():
        opts = model._meta
        opts.verbose_name = gettext_lazy(_english(opts.verbose_name))
        opts.verbose_name_plural = gettext_lazy(_english(opts.verbose_name_plural))
        for field in opts.get_fields(include_parents=False):
            if not isinstance(field, models.Field):
                continue
            field.verbose_name = gettext_lazy(_english(field.verbose_name))
            if field.help_text:
                field.help_text = gettext_lazy(_english(field.help_text))


class OtpTotpConfig(TotpAppConfig):
    verbose_name = "两步验证"

    def ready(self) -> None:
        super().ready()
        translatable_labels(self)


class AxesConfig(AxesAppConfig):
    verbose_name = "登录失败锁定"

    def ready(self) -> None:
        super().ready()
        translatable_labels(self)


class TasksDatabaseConfig(TasksDbAppConfig):
    verbose_name = "后台任务"

    def ready(self) -> None:
        super().ready()
        translatable_labels(self)


class QingheAdminConfig(AdminConfig):
    default_site = "qinghe.core.admin_site.QingheAdminSite"
