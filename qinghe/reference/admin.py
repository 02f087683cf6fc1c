"""Reference data is written by ``load_reference`` only: the back office shows it, read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import Discipline, Industry, Major, MajorCategory, Occupation, Region, Town, University


class ReadOnlyAdmin(admin.ModelAdmin):
    list_per_page = 50

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Discipline)
class DisciplineAdmin(ReadOnlyAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name", "search_text")


@admin.register(MajorCategory)
class MajorCategoryAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "kind", "discipline", "edition")
    list_filter = ("kind",)
    list_select_related = ("discipline",)
    search_fields = ("code", "name", "search_text")


@admin.register(Major)
class MajorAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "category", "is_special", "is_controlled", "note")
    list_filter = ("is_special", "is_controlled")
    list_select_related = ("category",)
    search_fields = ("code", "name", "search_text")


@admin.register(University)
class UniversityAdmin(ReadOnlyAdmin):
    list_display = (
        "name",
        "province",
        "city",
        "school_type",
        "education_type",
        "is_double_first_class",
        "is_985",
        "is_211",
    )
    list_filter = ("is_double_first_class", "is_985", "is_211", "province")
    search_fields = ("name", "former_names", "source_id", "search_text")


@admin.register(Region)
class RegionAdmin(ReadOnlyAdmin):
    list_display = (
        "code",
        "name",
        "province",
        "prefecture",
        "level",
        "status",
        "start_year",
        "end_year",
        "successor_code",
    )
    list_filter = ("level", "status")
    search_fields = ("code", "name", "search_text")


@admin.register(Town)
class TownAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "county_code")
    search_fields = ("code", "name", "search_text")


@admin.register(Occupation)
class OccupationAdmin(ReadOnlyAdmin):
    list_display = ("code", "level", "name", "flags", "parent_code")
    list_filter = ("level", "flags")
    search_fields = ("code", "name", "aliases", "search_text")


@admin.register(Industry)
class IndustryAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    list_select_related = ("parent",)
    search_fields = ("code", "name", "search_text")
