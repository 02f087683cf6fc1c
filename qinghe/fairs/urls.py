from django.urls import path

from . import views

app_name = "fairs"

urlpatterns = [
    path("", views.fair_list, name="list"),
    path("<int:fair_id>/", views.hall, name="hall"),
    path("<int:fair_id>/apply/", views.apply, name="apply"),
    path("<int:fair_id>/manage/", views.manage, name="manage"),
    path("booths/<int:booth_id>/", views.booth, name="booth"),
    path("booths/<int:booth_id>/join/", views.join, name="join"),
    path("booths/<int:booth_id>/leave/", views.leave, name="leave"),
    path("booths/<int:booth_id>/decide/", views.decide, name="decide"),
    path("booths/<int:booth_id>/queue/", views.queue, name="queue"),
    path("booths/<int:booth_id>/next/", views.take_next, name="take_next"),
    path("booths/<int:booth_id>/invite/", views.invite, name="invite"),
    path("entries/<int:entry_id>/finish/", views.finish, name="finish"),
]
