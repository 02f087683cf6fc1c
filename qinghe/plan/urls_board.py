from django.urls import path

from . import views

app_name = "board"

# The leaders' pages of the plan, under /plan/ (the targets stay under /jobs/targets/).
urlpatterns = [
    path("", views.board, name="board"),
    path("funnel/", views.funnel, name="funnel"),
]
