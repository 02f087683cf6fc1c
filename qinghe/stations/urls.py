from django.urls import path

from . import views

app_name = "stations"

urlpatterns = [
    path("", views.station_list, name="list"),
    path("day/", views.day, name="day"),
    path("day/tickets/", views.ticket_issue, name="ticket_issue"),
    path("day/tickets/<int:ticket_id>/serve/", views.ticket_serve, name="ticket_serve"),
    path("day/requests/<int:request_id>/close/", views.request_close, name="request_close"),
    path("day/slots/", views.slot_set, name="slot_set"),
    path("requests/new/", views.request_new, name="request_new"),
    path("requests/ask/", views.request_ask, name="request_ask"),
    path("points/", views.points, name="points"),
    path("points/<int:station_id>/active/", views.point_active, name="point_active"),
    path("book/", views.book, name="book"),
    path("specialists/", views.specialists, name="specialists"),
    path("specialists/assign/", views.specialist_assign, name="specialist_assign"),
    path("specialists/grid/", views.grid_specialist, name="grid_specialist"),
    path("people/", views.people, name="people"),
    path("people/<int:talent_id>/message/", views.people_message, name="people_message"),
    path("specialist/", views.my_specialist, name="my_specialist"),
]
