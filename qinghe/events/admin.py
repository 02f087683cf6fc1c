from django.contrib import admin

from .models import Event, EventChange, Registration


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("title", "type", "state", "organiser", "starts_at", "capacity")
    list_filter = ("state", "type", "audience")
    search_fields = ("title",)
    raw_id_fields = ("organiser", "created_by", "postings")
    filter_horizontal = ("enterprises",)
    readonly_fields = ("published_at",)


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    list_display = ("event", "user", "status", "registered_at", "attended_at")
    list_filter = ("status",)
    raw_id_fields = ("event", "user", "checked_in_by")


@admin.register(EventChange)
class EventChangeAdmin(admin.ModelAdmin):
    list_display = ("event", "action", "from_state", "to_state", "actor", "created_at")
    raw_id_fields = ("event", "actor")
