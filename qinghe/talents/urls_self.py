"""The student's own record, mounted at /me/ (config/urls.py). Every route acts on the record
linked to the signed-in account; none takes a talent id."""

from django.urls import path

from . import views_education, views_resume, views_self

app_name = "me"

urlpatterns = [
    path("", views_self.home, name="home"),
    path("claim/", views_self.claim, name="claim"),
    path("claim/verify/", views_self.claim_verify, name="claim_verify"),
    path("edit/", views_self.edit, name="edit"),
    path("export.json", views_self.export_json, name="export_json"),
    path("export.xlsx", views_self.export_xlsx, name="export_xlsx"),
    path("consent/", views_self.consent, name="consent"),
    path("confirm/", views_self.confirm, name="confirm"),
    path("delete/", views_self.delete_account, name="delete"),
    path("education/", views_education.education, name="education"),
    path("resume/", views_resume.resume_page, name="resume"),
    path("resume/download/", views_resume.resume_download, name="resume_download"),
    path("resume/delete/", views_resume.resume_delete, name="resume_delete"),
    path(
        "education/universities.json",
        views_education.suggest_universities,
        name="suggest_universities",
    ),
    path("education/majors.json", views_education.suggest_majors, name="suggest_majors"),
]
