from typing import Any

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.models import Group, Permission
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _lazy

from .models import AuditLog
from .roles import Role


class RoleFilter(admin.SimpleListFilter):
    """The actor's role by its Chinese name (the column stores the role's code)."""

    title = "角色"
    parameter_name = "actor_role"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(str(value), str(label)) for value, label in Role.choices]

    def queryset(self, request: HttpRequest, queryset: QuerySet[AuditLog]) -> QuerySet[AuditLog]:
        value = self.value()
        return queryset.filter(actor_role=value) if value else queryset


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    # Roles and targets as people read them (AuditLog.role_label, target_label), not the
    # stored codes (``sysadmin``, ``accounts.user``).
    list_display = ("created_at", "actor_label", "role", "action", "target", "count")
    list_filter = ("action", RoleFilter)
    search_fields = ("actor_label", "target_id", "summary")

    @admin.display(description="角色", ordering="actor_role")
    def role(self, entry: AuditLog) -> str:
        return entry.role_label

    @admin.display(description="对象")
    def target(self, entry: AuditLog) -> str:
        return entry.target_label

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# The default permissions' names are stored in English when their table is created ("Can add
# access attempt"); the back office names them from the model's (translated) name instead.
PERMISSION_ACTIONS = {"add": "可添加", "change": "可修改", "delete": "可删除", "view": "可查看"}


def permission_label(permission: Permission) -> str:
    model = permission.content_type.model_class()
    if model is None:
        return str(permission.name)
    opts = model._meta
    action, _, model_name = permission.codename.partition("_")
    name = (
        PERMISSION_ACTIONS[action]
        if model_name == opts.model_name and action in PERMISSION_ACTIONS
        else str(permission.name)
    )
    return f"{opts.app_config.verbose_name} | {opts.verbose_name} | {name}"


class PermissionChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return permission_label(obj)


admin.site.unregister(Group)


@admin.register(Group)
class ChineseGroupAdmin(GroupAdmin):
    def formfield_for_manytomany(
        self, db_field: Any, request: HttpRequest | None = None, **kwargs: Any
    ) -> forms.ModelMultipleChoiceField | None:
        if db_field.name == "permissions":
            kwargs["form_class"] = PermissionChoiceField
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class UnknownInChinese:
    """django-axes stores "<unknown>" for a request without a User-Agent, path or Accept
    header; the back office's lists say 未知."""

    def get_list_display(self, request: HttpRequest) -> Any:
        shown = {"user_agent": user_agent_shown, "path_info": path_shown}
        return [shown.get(name, name) for name in super().get_list_display(request)]  # type: ignore[misc]

    def get_list_filter(self, request: HttpRequest) -> Any:
        return [
            ("path_info", UnknownAllValuesFilter) if name == "path_info" else name
            for name in super().get_list_filter(request)  # type: ignore[misc]
        ]


class UnknownAllValuesFilter(admin.AllValuesFieldListFilter):
    def choices(self, changelist: Any) -> Any:
        for choice in super().choices(changelist):
            if choice.get("display") == "<unknown>":
                choice = {**choice, "display": "未知"}
            yield choice


def _unknown(value: str) -> str:
    return "未知" if value == "<unknown>" else value


@admin.display(description=_lazy("User Agent"), ordering="user_agent")
def user_agent_shown(entry: Any) -> str:
    return _unknown(entry.user_agent)


@admin.display(description=_lazy("Path"), ordering="path_info")
def path_shown(entry: Any) -> str:
    return _unknown(entry.path_info)


# axes.admin registers these when AXES_ENABLE_ADMIN is on (importing it above made sure it ran).
for _model, _base in (
    (AccessAttempt, AccessAttemptAdmin),
    (AccessLog, AccessLogAdmin),
    (AccessFailureLog, AccessFailureLogAdmin),
):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
        admin.site.register(_model, type(_base.__name__, (UnknownInChinese, _base), {}))
