from django.contrib import admin
from django.db import models

from .models import (
    Application,
    ApplicationEvent,
    Favourite,
    Interview,
    InterviewEvent,
    InterviewSlot,
    PipelineStage,
    Posting,
    PostingEvent,
    YearTarget,
)


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


@admin.register(YearTarget)
class YearTargetAdmin(admin.ModelAdmin):
    list_display = ("year", "quality_jobs", "internship_bases", "internship_posts", "native_hires")


@admin.register(PipelineStage)
class PipelineStageAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "code",
        "enterprise",
        "kind",
        "position",
        "is_terminal",
        "counts_as_hire",
    )
    list_filter = ("kind",)


class HttpsLinksAdmin(admin.ModelAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


admin.site.register(Favourite)
admin.site.register(Application)
admin.site.register(ApplicationEvent)
admin.site.register(Interview, HttpsLinksAdmin)
admin.site.register(InterviewSlot, HttpsLinksAdmin)
admin.site.register(InterviewEvent)
