from django.urls import path

from . import views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("workbench/", views.dashboard, name="dashboard"),
    path("healthz", views.healthz, name="healthz"),
    path("audit/", views.audit_log, name="audit_list"),
]
