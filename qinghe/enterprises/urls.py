from django.urls import path

from . import views

app_name = "enterprises"

urlpatterns = [
    path("register/", views.register, name="register"),
    path("mine/", views.mine, name="mine"),
    path("mine/edit/", views.edit, name="edit"),
    path("mine/resubmit/", views.resubmit, name="resubmit"),
    path("mine/colleagues/new/", views.colleague_add, name="colleague_add"),
    path("mine/bases/apply/", views.base_apply, name="base_apply"),
    path("review/", views.review_list, name="review_list"),
    path("<int:enterprise_id>/", views.detail, name="detail"),
    path("<int:enterprise_id>/verify/", views.verify, name="verify"),
    path("<int:enterprise_id>/reject/", views.reject, name="reject"),
    path("<int:enterprise_id>/key/", views.set_key, name="set_key"),
    path("bases/", views.base_list, name="base_list"),
    path("bases/<int:base_id>/", views.base_detail, name="base_detail"),
    path("bases/<int:base_id>/certify/", views.base_certify, name="base_certify"),
    path("bases/<int:base_id>/reject/", views.base_reject, name="base_reject"),
    path("bases/<int:base_id>/revoke/", views.base_revoke, name="base_revoke"),
]
