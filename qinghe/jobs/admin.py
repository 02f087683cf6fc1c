from django.contrib import admin

from .models import Favourite, Posting, PostingEvent


@admin.register(Posting)
class PostingAdmin(admin.ModelAdmin):
    list_display = ("title", "enterprise", "kind", "state", "is_quality", "closing_date")
    list_filter = ("state", "kind", "is_quality", "natives_first")
    search_fields = ("title", "enterprise__name")
    raw_id_fields = ("enterprise", "town", "created_by", "quality_certified_by")
    filter_horizontal = ("required_majors", "required_categories")
    readonly_fields = ("search_tokens", "majors_unrestricted")


@admin.register(PostingEvent)
class PostingEventAdmin(admin.ModelAdmin):
    list_display = ("posting", "action", "from_state", "to_state", "actor", "created_at")
    list_filter = ("action",)
    raw_id_fields = ("posting", "actor")


admin.site.register(Favourite)
