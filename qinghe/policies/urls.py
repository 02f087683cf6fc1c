from django.urls import path

from . import views

app_name = "policies"

urlpatterns = [
    path("", views.library, name="library"),
    path("<int:policy_id>/", views.policy_detail, name="policy_detail"),
    path("<int:policy_id>/attachments/", views.attachment_upload, name="attachment_upload"),
    path(
        "<int:policy_id>/attachments/<int:attachment_id>/",
        views.attachment_download,
        name="attachment_download",
    ),
    path(
        "<int:policy_id>/attachments/<int:attachment_id>/delete/",
        views.attachment_remove,
        name="attachment_remove",
    ),
    path("compare/", views.compare, name="compare"),
    path("for-me/", views.for_me, name="for_me"),
    path("programmes/", views.programmes, name="programmes"),
    path("programmes/<slug:code>/check/", views.check, name="check"),
    path("programmes/<slug:code>/apply/", views.apply, name="apply"),
    path("applications/", views.my_applications, name="my_applications"),
    path("applications/<int:application_id>/", views.application, name="application"),
    path(
        "applications/<int:application_id>/move/", views.application_move, name="application_move"
    ),
    path(
        "applications/<int:application_id>/files/<int:file_id>/",
        views.material_download,
        name="material_download",
    ),
    path("applications/<int:application_id>/pay/", views.payment_record, name="payment_record"),
    path("staff/applications/", views.staff_applications, name="staff_applications"),
    path("staff/programmes/", views.staff_programmes, name="staff_programmes"),
    path("staff/programmes/<slug:code>/", views.staff_programme, name="staff_programme"),
    path("staff/batch/", views.batch_check, name="batch"),
    path("staff/figures/", views.figures, name="figures"),
    path("staff/new/", views.staff_policy_new, name="policy_new"),
]
