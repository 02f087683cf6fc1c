from django.contrib import admin

from .models import YearTarget


@admin.register(YearTarget)
class YearTargetAdmin(admin.ModelAdmin):
    list_display = ("year", "quality_jobs", "internship_bases", "internship_posts", "native_hires")
