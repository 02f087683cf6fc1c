from django.urls import path

from . import views

app_name = "cards"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("apply/", views.apply, name="apply"),
    path("ecard/", views.ecard, name="ecard"),
    path("mine/<slug:action>/", views.holder_act, name="holder_act"),
    path("manage/", views.manage, name="manage"),
    path("manage/<int:card_id>/", views.manage_detail, name="manage_detail"),
    path("manage/<int:card_id>/act/", views.act, name="act"),
    path("manage/<int:card_id>/materials/<int:material_id>/", views.material, name="material"),
    path("partner/", views.partner, name="partner"),
    path("dependants/", views.dependants_page, name="dependants"),
    path("dependants/<int:dependant_id>/ecard/", views.dependant_ecard, name="dependant_ecard"),
    path("dependants/<int:dependant_id>/void/", views.dependant_void, name="dependant_void"),
    path("manage/dependants/<int:dependant_id>/act/", views.dependant_act, name="dependant_act"),
    path(
        "manage/dependants/<int:dependant_id>/materials/<int:material_id>/",
        views.dependant_material,
        name="dependant_material",
    ),
]
