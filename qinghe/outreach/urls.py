from django.urls import path

from . import views

app_name = "outreach"

urlpatterns = [
    path("", views.workspace, name="workspace"),
    path("students/<int:talent_id>/contact/", views.contact_log, name="contact_log"),
    path("assignments/", views.assignments, name="assignments"),
    path("figures/", views.figures, name="figures"),
    path("consult/", views.my_consultations, name="my_consultations"),
    path("consult/<int:consultation_id>/rate/", views.consultation_rate, name="consultation_rate"),
    path("consultations/", views.consultations, name="consultations"),
    path(
        "consultations/<int:consultation_id>/answer/",
        views.consultation_answer,
        name="consultation_answer",
    ),
    path("campaigns/", views.campaigns, name="campaigns"),
    path("campaigns/<int:campaign_id>/", views.campaign_detail, name="campaign_detail"),
    path("campaigns/<int:campaign_id>/send/", views.campaign_send, name="campaign_send"),
]
