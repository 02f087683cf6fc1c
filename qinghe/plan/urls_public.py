from django.urls import path

from . import views

app_name = "figures"

# Open to everyone (no sign-in): the plan's aggregate figures for the public and the press.
urlpatterns = [
    path("", views.public_figures, name="public"),
]
