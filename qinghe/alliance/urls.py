from django.urls import path

from . import views

app_name = "alliance"

urlpatterns = [
    path("", views.chapter_list, name="list"),
    path("mine/", views.mine, name="mine"),
    path("figures/", views.figures, name="figures"),
    path("<int:chapter_id>/", views.chapter_detail, name="detail"),
    path("<int:chapter_id>/join/", views.join, name="join"),
    path("<int:chapter_id>/leave/", views.leave, name="leave"),
    path("invitations/<int:membership_id>/respond/", views.respond, name="respond"),
    path("manage/", views.manage, name="manage"),
    path("manage/new/", views.create, name="create"),
    path("manage/<int:chapter_id>/", views.manage_detail, name="manage_detail"),
    path("manage/<int:chapter_id>/edit/", views.edit, name="edit"),
    path("manage/<int:chapter_id>/invite/", views.invite, name="invite"),
    path("manage/<int:chapter_id>/merge/", views.merge, name="merge"),
    path("manage/<int:chapter_id>/retire/", views.retire, name="retire"),
    path("manage/memberships/<int:membership_id>/decide/", views.decide, name="decide"),
    path("manage/memberships/<int:membership_id>/leader/", views.set_leader, name="leader"),
]
