from django.urls import include, path

from . import urls_import, views, views_education, views_unmasking

app_name = "talents"

urlpatterns = [
    path("", views.talent_list, name="list"),
    path("export/", views.talent_export, name="export"),
    path("duplicates/", views.duplicate_list, name="duplicates"),
    path("merge/", views.talent_merge, name="merge"),
    path("unmasking/", views_unmasking.unmask_report, name="unmasking"),
    path("segments/", views.segment_list, name="segment_list"),
    path("segments/new/", views.segment_create, name="segment_create"),
    path("segments/<int:segment_id>/", views.segment_detail, name="segment_detail"),
    path("<int:talent_id>/", views.talent_detail, name="detail"),
    path("<int:talent_id>/unmask/", views.talent_unmask, name="unmask"),
    path("<int:talent_id>/verify/", views.talent_verify, name="verify"),
    path(
        "<int:talent_id>/changes/<int:change_id>/resolve/",
        views.value_change_resolve,
        name="resolve",
    ),
    path(
        "<int:talent_id>/educations/<int:education_id>/verify/",
        views_education.education_verify,
        name="education_verify",
    ),
    path("imports/", include(urls_import.urlpatterns)),
]
