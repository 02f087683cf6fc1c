from django.urls import path

from . import views

app_name = "events"

urlpatterns = [
    path("", views.event_list, name="list"),
    path("mine/", views.mine, name="mine"),
    path("<int:event_id>/", views.event_detail, name="detail"),
    path("<int:event_id>/register/", views.register, name="register"),
    path("<int:event_id>/unregister/", views.cancel_registration, name="unregister"),
    path("manage/", views.manage, name="manage"),
    path("manage/new/", views.create, name="create"),
    path("manage/<int:event_id>/", views.manage_detail, name="manage_detail"),
    path("manage/<int:event_id>/edit/", views.edit, name="edit"),
    path("manage/<int:event_id>/submit/", views.submit, name="submit"),
    path("manage/<int:event_id>/publish/", views.publish, name="publish"),
    path("manage/<int:event_id>/return/", views.return_, name="return"),
    path("manage/<int:event_id>/cancel/", views.cancel, name="cancel"),
    path("manage/<int:event_id>/finish/", views.finish, name="finish"),
    path("<int:event_id>/registrations/", views.registrations, name="registrations"),
    path("<int:event_id>/checkin/", views.checkin, name="checkin"),
    path(
        "<int:event_id>/checkin/offline.json",
        views.checkin_offline_data,
        name="checkin_offline_data",
    ),
    path("<int:event_id>/checkin/sync/", views.checkin_sync, name="checkin_sync"),
    path("checkin-sw.js", views.checkin_service_worker, name="checkin_sw"),
    path("manage/<int:event_id>/itinerary/", views.itinerary_add, name="itinerary_add"),
    path(
        "manage/<int:event_id>/itinerary/<int:stop_id>/delete/",
        views.itinerary_remove,
        name="itinerary_remove",
    ),
    path("manage/<int:event_id>/photos/", views.photo_upload, name="photo_upload"),
    path("photos/<int:photo_id>/", views.photo, name="photo"),
    path("guardian/<str:token>/", views.guardian, name="guardian"),
    path("<int:event_id>/feedback/", views.feedback, name="feedback"),
]
