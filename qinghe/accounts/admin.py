from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import Organisation, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "display_name", "role", "organisation", "is_active", "last_login")
    list_filter = ("role", "is_active")
    search_fields = ("username", "display_name")
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("青鹤", {"fields": ("role", "organisation", "display_name")}),
    )


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "bureau", "code", "is_active")
    list_filter = ("kind", "bureau", "is_active")
    search_fields = ("name", "code")
