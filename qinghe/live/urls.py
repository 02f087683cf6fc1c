from __future__ import annotations

from django.urls import path

from . import views

app_name = "live"

urlpatterns = [
    path("", views.stream_list, name="list"),
    path("<int:stream_id>/", views.watch, name="watch"),
    path("<int:stream_id>/apply/<int:posting_id>/", views.apply, name="apply"),
    path("manage/", views.manage, name="manage"),
    path("manage/<int:stream_id>/", views.manage_detail, name="manage_detail"),
    path("manage/<int:stream_id>/start/", views.start, name="start"),
    path("manage/<int:stream_id>/end/", views.end, name="end"),
    path("manage/<int:stream_id>/replay/", views.replay, name="replay"),
]
