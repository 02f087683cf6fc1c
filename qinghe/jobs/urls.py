from django.urls import path

from . import views

app_name = "jobs"

urlpatterns = [
    path("", views.search, name="search"),
    path("<int:posting_id>/", views.detail, name="detail"),
    path("<int:posting_id>/favourite/", views.favourite_toggle, name="favourite_toggle"),
    path("favourites/", views.favourites, name="favourites"),
    path("mine/", views.my_list, name="my_list"),
    path("mine/new/", views.create, name="create"),
    path("mine/<int:posting_id>/", views.my_detail, name="my_detail"),
    path("mine/<int:posting_id>/edit/", views.edit, name="edit"),
    path("mine/<int:posting_id>/submit/", views.submit, name="submit"),
    path("mine/<int:posting_id>/withdraw/", views.withdraw, name="withdraw"),
    path("mine/<int:posting_id>/revise/", views.revise, name="revise"),
    path("mine/<int:posting_id>/close/", views.close, name="close"),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/<int:posting_id>/", views.staff_detail, name="staff_detail"),
    path("staff/<int:posting_id>/approve/", views.approve, name="approve"),
    path("staff/<int:posting_id>/reject/", views.reject, name="reject"),
    path("staff/<int:posting_id>/close/", views.staff_close, name="staff_close"),
    path("staff/<int:posting_id>/certify/", views.certify, name="certify"),
    path("staff/<int:posting_id>/revoke-quality/", views.revoke_quality, name="revoke_quality"),
]
