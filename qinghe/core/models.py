from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True


class AppendOnlyError(Exception):
    pass


class AuditQuerySet(models.QuerySet["AuditLog"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("审计日志只能追加，不能修改")

    def delete(self) -> NoReturn:  # type: ignore[override]
        raise AppendOnlyError("审计日志只能追加，不能删除；过期条目由 purge_audit 命令清理")


class AuditLog(models.Model):
    """Who did what to which record. Append-only: the model refuses updates and deletes, and
    database triggers (migration 0002) refuse them too, except deleting entries older than the
    retention period through ``purge_audit``."""

    class Action(models.TextChoices):
        LOGIN = "login", _("登录")
        LOGIN_FAILED = "login_failed", _("登录失败")
        LOGOUT = "logout", _("退出")
        PASSWORD_CHANGE = "password_change", _("修改密码")
        OTP_SETUP = "otp_setup", _("绑定双因素认证")
        CREATE = "create", _("新建")
        UPDATE = "update", _("修改")
        DELETE = "delete", _("删除")
        VIEW = "view", _("查看")
        UNMASK = "unmask", _("查看完整个人信息")
        EXPORT = "export", _("导出")
        IMPORT = "import", _("导入")
        BULK = "bulk", _("批量操作")
        MERGE = "merge", _("合并")
        TRANSITION = "transition", _("状态变更")

    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    actor_label = models.CharField(_("操作人账号"), max_length=150, blank=True)
    actor_role = models.CharField(_("角色"), max_length=32, blank=True)
    action = models.CharField(_("动作"), max_length=32, choices=Action.choices)
    target_type = models.CharField(_("对象类型"), max_length=64, blank=True)
    target_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    summary = models.CharField(_("摘要"), max_length=500, blank=True)
    reason = models.CharField(_("事由"), max_length=300, blank=True)
    count = models.PositiveIntegerField(_("涉及条数"), default=1)
    ip_address = models.GenericIPAddressField(_("IP"), null=True, blank=True)
    data = models.JSONField(_("详情"), default=dict, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.target_type}#{self.target_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("审计日志只能追加，不能修改")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("审计日志只能追加，不能删除")

    @property
    def role_label(self) -> str:
        """The actor's role as people read it (the stored code otherwise)."""
        from .roles import Role

        return str(dict(Role.choices).get(self.actor_role, self.actor_role))

    @property
    def target_label(self) -> str:
        """The target as people read it: the model's name and the record's number, e.g.
        "用户 9号" for ``accounts.user#9``."""
        from django.apps import apps

        if not self.target_type:
            return ""
        try:
            name = str(apps.get_model(self.target_type)._meta.verbose_name)
        except (LookupError, ValueError):
            name = "记录"
        return f"{name} {self.target_id}号" if self.target_id else name
