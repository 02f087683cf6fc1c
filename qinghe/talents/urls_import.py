"""Survey import pages, included under /talents/imports/ in the "talents" namespace."""

from django.urls import path

from . import views_import

urlpatterns = [
    path("", views_import.import_list, name="import_list"),
    path("<int:batch_id>/", views_import.import_detail, name="import_detail"),
    path("<int:batch_id>/progress/", views_import.import_progress, name="import_progress"),
    path("<int:batch_id>/rejected.xlsx", views_import.import_rejected, name="import_rejected"),
]
