"""Public, without sign-in: the e-card's JWK Set and the online check."""

from django.urls import path

from . import views

app_name = "cardpublic"

urlpatterns = [
    path(".well-known/jwks.json", views.jwks, name="jwks"),
    path("card/verify", views.verify, name="verify"),
]
