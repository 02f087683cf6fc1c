from django.urls import path

from . import views

app_name = "video"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("recordings/", views.recording_list, name="recording_list"),
    path("<uuid:room_uuid>/", views.room, name="room"),
    path("<uuid:room_uuid>/observers/", views.room_observers, name="room_observers"),
    path(
        "<uuid:room_uuid>/recording-consent/",
        views.room_recording_consent,
        name="room_recording_consent",
    ),
    path("<uuid:room_uuid>/recordings/", views.recording_start, name="recording_start"),
    path(
        "<uuid:room_uuid>/recordings/<uuid:recording_uuid>/",
        views.recording_download,
        name="recording_download",
    ),
    path(
        "<uuid:room_uuid>/recordings/<uuid:recording_uuid>/chunks/<int:seq>/",
        views.recording_chunk,
        name="recording_chunk",
    ),
    path(
        "<uuid:room_uuid>/recordings/<uuid:recording_uuid>/stop/",
        views.recording_stop,
        name="recording_stop",
    ),
]
