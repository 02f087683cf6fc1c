from django.urls import path

from . import views

app_name = "matching"

urlpatterns = [
    path("for-me/", views.for_me, name="for_me"),
    path("for-me/preferences/", views.preferences, name="preferences"),
    path(
        "invitations/<int:invitation_id>/respond/",
        views.invitation_respond,
        name="invitation_respond",
    ),
    path("postings/mine/", views.ent_postings, name="ent_postings"),
    path("postings/<int:posting_id>/talents/", views.candidates, name="candidates"),
    path("postings/<int:posting_id>/talents/<int:talent_id>/invite/", views.invite, name="invite"),
    path(
        "invitations/<int:invitation_id>/resume/",
        views.invitation_resume,
        name="invitation_resume",
    ),
    path("tags/", views.tags, name="tags"),
    path("tags/review/", views.occupation_review, name="occupation_review"),
    path(
        "tags/review/<int:posting_id>/pick/",
        views.occupation_review_pick,
        name="occupation_review_pick",
    ),
    path("tags/<int:posting_id>/", views.posting_tags, name="posting_tags"),
    path("tags/<int:posting_id>/edit/", views.posting_tags_edit, name="posting_tags_edit"),
    path("majors/", views.majors, name="majors"),
    path("majors/<int:category_id>/", views.major_detail, name="major_detail"),
    path("majors/<int:category_id>/edit/", views.major_edit, name="major_edit"),
    path("gap/", views.gap, name="gap"),
    path("gap/export/", views.gap_export, name="gap_export"),
    path("fairness/", views.fairness, name="fairness"),
]
