from django.urls import path

from . import views

app_name = "video"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("<uuid:room_uuid>/", views.room, name="room"),
    path("<uuid:room_uuid>/observers/", views.room_observers, name="room_observers"),
]
