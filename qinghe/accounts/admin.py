from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import Organisation, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "display_name", "role", "organisation", "is_active", "last_login")
    list_filter = ("role", "is_active")
    search_fields = ("username", "display_name")
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("青鹤", {"fields": ("role", "organisation", "display_name")}),
    )


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "bureau", "code", "is_active")
    list_filter = ("kind", "bureau", "is_active")
    search_fields = ("name", "code")


# django-otp's own admin adds a QR-code view that fails with a server error for an unknown
# device id; administrators only need to see and remove devices (to reset someone's 2FA).
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(admin.ModelAdmin):
    list_display = ("user", "name", "confirmed", "created_at", "last_used_at")
    list_filter = ("confirmed",)
    search_fields = ("user__username",)
    fields = ("user", "name", "confirmed")
    readonly_fields = ("user", "name")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False
