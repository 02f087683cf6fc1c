from django.contrib import admin
from django.db import models

from .models import (
    Application,
    ApplicationEvent,
    Interview,
    InterviewEvent,
    InterviewSlot,
    PipelineStage,
)


@admin.register(PipelineStage)
class PipelineStageAdmin(admin.ModelAdmin):
    # The stage's code (applied, offer, ...) is an identifier for the API, not a word for the
    # back office's list; it stays on the change form.
    list_display = (
        "name",
        "enterprise",
        "kind",
        "position",
        "is_terminal",
        "counts_as_hire",
    )
    list_filter = ("kind",)


class HttpsLinksAdmin(admin.ModelAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


admin.site.register(Application)
admin.site.register(ApplicationEvent)
admin.site.register(Interview, HttpsLinksAdmin)
admin.site.register(InterviewSlot, HttpsLinksAdmin)
admin.site.register(InterviewEvent)
