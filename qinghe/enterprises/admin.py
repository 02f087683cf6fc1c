from django.contrib import admin

from .models import Enterprise, EnterpriseEvent, InternshipBase


@admin.register(Enterprise)
class EnterpriseAdmin(admin.ModelAdmin):
    list_display = ("name", "uscc", "industry", "town", "state", "is_key")
    list_filter = ("state", "is_key", "park", "size")
    search_fields = ("name", "uscc")
    raw_id_fields = ("organisation", "industry", "town", "verified_by")
    # The contact phone is encrypted at rest; the admin shows the masked value only.
    exclude = ("contact_phone",)
    readonly_fields = ("contact_phone_shown",)

    @admin.display(description="联系电话（已脱敏）")
    def contact_phone_shown(self, enterprise: Enterprise) -> str:
        return enterprise.contact_phone_masked


@admin.register(InternshipBase)
class InternshipBaseAdmin(admin.ModelAdmin):
    list_display = ("enterprise", "state", "valid_from", "valid_to", "capacity")
    list_filter = ("state",)
    raw_id_fields = ("enterprise", "applied_by", "certified_by")


@admin.register(EnterpriseEvent)
class EnterpriseEventAdmin(admin.ModelAdmin):
    list_display = ("enterprise", "action", "from_state", "to_state", "actor", "created_at")
    raw_id_fields = ("enterprise", "internship_base", "actor")
