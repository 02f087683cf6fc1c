from django.urls import path

from . import views, views_applications

app_name = "jobs"

urlpatterns = [
    path("", views.search, name="search"),
    path("<int:posting_id>/", views.detail, name="detail"),
    path("<int:posting_id>/favourite/", views.favourite_toggle, name="favourite_toggle"),
    path("favourites/", views.favourites, name="favourites"),
    path("mine/", views.my_list, name="my_list"),
    path("mine/new/", views.create, name="create"),
    path("mine/<int:posting_id>/", views.my_detail, name="my_detail"),
    path("mine/<int:posting_id>/edit/", views.edit, name="edit"),
    path("mine/<int:posting_id>/submit/", views.submit, name="submit"),
    path("mine/<int:posting_id>/withdraw/", views.withdraw, name="withdraw"),
    path("mine/<int:posting_id>/revise/", views.revise, name="revise"),
    path("mine/<int:posting_id>/close/", views.close, name="close"),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/<int:posting_id>/", views.staff_detail, name="staff_detail"),
    path("staff/<int:posting_id>/approve/", views.approve, name="approve"),
    path("staff/<int:posting_id>/reject/", views.reject, name="reject"),
    path("staff/<int:posting_id>/close/", views.staff_close, name="staff_close"),
    path("staff/<int:posting_id>/certify/", views.certify, name="certify"),
    path("staff/<int:posting_id>/revoke-quality/", views.revoke_quality, name="revoke_quality"),
    path("targets/", views.targets, name="targets"),
    path("targets/edit/", views.targets_edit, name="targets_edit"),
    # the recruitment pipeline (qinghe.jobs.views_applications)
    path("<int:posting_id>/apply/", views_applications.apply, name="apply"),
    path("applications/", views_applications.my_applications, name="my_applications"),
    path(
        "applications/<int:application_id>/",
        views_applications.my_application,
        name="my_application",
    ),
    path(
        "applications/<int:application_id>/withdraw/",
        views_applications.application_withdraw,
        name="application_withdraw",
    ),
    path(
        "interviews/<int:interview_id>/confirm/",
        views_applications.interview_confirm,
        name="interview_confirm",
    ),
    path(
        "interviews/<int:interview_id>/reschedule-request/",
        views_applications.interview_reschedule_request,
        name="interview_reschedule_request",
    ),
    path("mine/applicants/", views_applications.applicants, name="applicants"),
    path(
        "mine/applicants/<int:application_id>/",
        views_applications.applicant,
        name="applicant",
    ),
    path(
        "mine/applicants/<int:application_id>/move/",
        views_applications.applicant_move,
        name="applicant_move",
    ),
    path(
        "mine/applicants/<int:application_id>/invite/",
        views_applications.interview_invite,
        name="interview_invite",
    ),
    path(
        "mine/interviews/<int:interview_id>/reschedule/",
        views_applications.interview_reschedule,
        name="interview_reschedule",
    ),
    path(
        "mine/interviews/<int:interview_id>/result/",
        views_applications.interview_result,
        name="interview_result",
    ),
    path("mine/<int:posting_id>/slots/", views_applications.slots, name="slots"),
    path("mine/stages/", views_applications.stages, name="stages"),
    path("mine/stages/<int:stage_id>/", views_applications.stage_edit, name="stage_edit"),
    path(
        "staff/applications/",
        views_applications.staff_applications,
        name="staff_applications",
    ),
    path(
        "staff/applications/<int:application_id>/",
        views_applications.staff_application,
        name="staff_application",
    ),
]
