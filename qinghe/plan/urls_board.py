from django.urls import path

from . import views

app_name = "board"

# The leaders' pages of the plan, under /plan/ (the targets stay under /jobs/targets/).
urlpatterns = [
    path("", views.board, name="board"),
    path("mine/", views.mine, name="mine"),
    path("mine/<str:code>/", views.mine_list, name="mine_list"),
    path("funnel/", views.funnel, name="funnel"),
    path("reports/", views.reports, name="reports"),
    path("reports/generate/", views.report_generate, name="report_generate"),
    path("reports/<int:report_id>/<str:kind>/", views.report_download, name="report_download"),
]
