from django.contrib import admin

from .models import (
    Candidate,
    Invitation,
    MajorOccupation,
    MatchingProfile,
    PostingFairness,
    PostingOccupation,
    Recommendation,
)


@admin.register(PostingOccupation)
class PostingOccupationAdmin(admin.ModelAdmin):
    list_display = ("posting", "occupation", "source", "rank", "score", "corrected_by")
    list_filter = ("source",)
    raw_id_fields = ("posting", "occupation", "corrected_by")


@admin.register(MajorOccupation)
class MajorOccupationAdmin(admin.ModelAdmin):
    list_display = ("category", "rank", "occupation", "source", "removed")
    list_filter = ("source", "removed")
    raw_id_fields = ("category", "occupation", "corrected_by")


@admin.register(MatchingProfile)
class MatchingProfileAdmin(admin.ModelAdmin):
    list_display = ("talent", "expected_salary", "recommended_at")
    raw_id_fields = ("talent",)


@admin.register(Recommendation, Candidate)
class ScoreAdmin(admin.ModelAdmin):
    list_display = ("talent", "posting", "score", "computed_at")
    raw_id_fields = ("talent", "posting")


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("posting", "talent", "enterprise", "state", "created_at")
    list_filter = ("state",)
    raw_id_fields = ("posting", "talent", "enterprise", "invited_by", "consent")


@admin.register(PostingFairness)
class PostingFairnessAdmin(admin.ModelAdmin):
    list_display = (
        "posting",
        "pool",
        "top",
        "top_natives",
        "top_natives_without_boost",
        "computed_at",
    )
    raw_id_fields = ("posting",)
