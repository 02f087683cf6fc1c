from django.urls import path

from . import views

app_name = "plan"

# Mounted under /jobs/ (config/urls.py), where the pages have always been.
urlpatterns = [
    path("targets/", views.targets, name="targets"),
    path("targets/edit/", views.targets_edit, name="targets_edit"),
]
