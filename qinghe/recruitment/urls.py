from django.urls import path

from . import views

app_name = "recruitment"

# Mounted under /jobs/ (config/urls.py), beside the postings, where the pages have always been.
urlpatterns = [
    path("<int:posting_id>/apply/", views.apply, name="apply"),
    path("applications/", views.my_applications, name="my_applications"),
    path(
        "applications/<int:application_id>/",
        views.my_application,
        name="my_application",
    ),
    path(
        "applications/<int:application_id>/withdraw/",
        views.application_withdraw,
        name="application_withdraw",
    ),
    path(
        "interviews/<int:interview_id>/confirm/",
        views.interview_confirm,
        name="interview_confirm",
    ),
    path(
        "interviews/<int:interview_id>/reschedule-request/",
        views.interview_reschedule_request,
        name="interview_reschedule_request",
    ),
    path("mine/applicants/", views.applicants, name="applicants"),
    path(
        "mine/applicants/<int:application_id>/",
        views.applicant,
        name="applicant",
    ),
    path(
        "mine/applicants/<int:application_id>/resume/",
        views.applicant_resume,
        name="applicant_resume",
    ),
    path(
        "mine/applicants/<int:application_id>/move/",
        views.applicant_move,
        name="applicant_move",
    ),
    path(
        "mine/applicants/<int:application_id>/invite/",
        views.interview_invite,
        name="interview_invite",
    ),
    path(
        "mine/interviews/<int:interview_id>/reschedule/",
        views.interview_reschedule,
        name="interview_reschedule",
    ),
    path(
        "mine/interviews/<int:interview_id>/result/",
        views.interview_result,
        name="interview_result",
    ),
    path("mine/<int:posting_id>/slots/", views.slots, name="slots"),
    path("mine/stages/", views.stages, name="stages"),
    path("mine/stages/<int:stage_id>/", views.stage_edit, name="stage_edit"),
    path(
        "staff/applications/",
        views.staff_applications,
        name="staff_applications",
    ),
    path(
        "staff/applications/<int:application_id>/",
        views.staff_application,
        name="staff_application",
    ),
]
