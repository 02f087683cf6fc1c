"""The student's PDF résumé: checked by content, encrypted at rest, replaced and deleted, and
opened by an enterprise only through an application to it or an accepted invitation."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from qinghe.core.crypto import decrypt_file
from qinghe.core.models import AuditLog
from qinghe.matching.models import Invitation
from qinghe.talents.models import Resume
from qinghe.talents.resume import resume_upload
from qinghe.testing.files import PDF_MARKER, make_pdf
from qinghe.testing.recruiting import X_PHONE, apply_to, claim_talent
from qinghe.testing.world import World

MARKER = PDF_MARKER


@pytest.fixture(autouse=True)
def fresh_storage(settings: Any) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }


def stored_files() -> list[str]:
    found: list[str] = []

    def walk(folder: str) -> None:
        if not default_storage.exists(folder):
            return
        dirs, files = default_storage.listdir(folder)
        found.extend(f"{folder}/{f}" for f in files)
        for d in dirs:
            walk(f"{folder}/{d}")

    walk("resumes")
    return sorted(found)


def post_resume(client: Client, data: bytes, name: str = "简历.pdf") -> Any:
    return client.post(
        "/me/resume/", {"file": SimpleUploadedFile(name, data, content_type="application/pdf")}
    )


def page_messages(response: Any) -> list[str]:
    from django.contrib.messages import get_messages

    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def student(world: World) -> Any:
    claim_talent(world.x, name="李晓彤", seq="102", phone=X_PHONE)
    return world.x


@pytest.fixture
def student_client(student: Any) -> Client:
    client = Client()
    client.force_login(student)
    return client


def test_a_student_uploads_a_pdf_stored_encrypted(
    student: Any, student_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    pdf = make_pdf(pages=2)
    response = post_resume(student_client, pdf)
    assert response.status_code == 302 and response["Location"] == "/me/resume/"
    assert page_messages(response) == ["简历已保存（2 页）。"]
    resume = Resume.objects.get()
    assert (resume.user_id, resume.pages, resume.size, resume.original_name) == (
        student.pk,
        2,
        len(pdf),
        "简历.pdf",
    )
    [name] = stored_files()
    assert name == resume.storage_name and name.endswith(".pdf.enc")
    with default_storage.open(name, "rb") as handle:
        blob = handle.read()
    assert not blob.startswith(b"%PDF") and pdf not in blob and MARKER.encode() not in blob
    assert decrypt_file(blob, name=name) == pdf
    own = student_client.get("/me/resume/download/")
    assert own.status_code == 200 and own.content == pdf
    assert own["Content-Disposition"].startswith("attachment;")
    assert "2 页" in student_client.get("/me/resume/").content.decode()
    assert AuditLog.objects.filter(action="create", summary="上传简历（PDF，2 页）").count() == 1


def test_the_file_on_a_real_disk_is_ciphertext_and_owner_only(
    student: Any, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    old_umask = os.umask(0o022)
    try:
        pdf = make_pdf()
        resume = resume_upload(user=student, upload=SimpleUploadedFile("cv.pdf", pdf))
    finally:
        os.umask(old_umask)
    path = tmp_path / resume.storage_name
    raw = path.read_bytes()
    assert raw[:4] == b"QHF1" and b"%PDF" not in raw and MARKER.encode() not in raw
    assert path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "resumes").stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"just some text, not a PDF", "简历.pdf", "请上传 PDF 格式的简历（文件内容不是 PDF）"),
        (
            b"\x89PNG\r\n\x1a\n" + b"0" * 100,
            "photo.pdf",
            "请上传 PDF 格式的简历（文件内容不是 PDF）",
        ),
        (b"PK\x03\x04" + b"0" * 100, "简历.docx", "请上传 PDF 格式的简历（文件内容不是 PDF）"),
        (
            b"%PDF-1.7\n garbage that no parser can read",
            "简历.pdf",
            "无法读取该 PDF 文件（文件可能已损坏），请重新导出后上传",
        ),
    ],
)
def test_a_file_that_is_not_a_readable_pdf_is_refused(
    student_client: Client, data: bytes, name: str, message: str
) -> None:
    response = post_resume(student_client, data, name)
    assert page_messages(response) == [message]
    assert Resume.objects.count() == 0 and stored_files() == []
    assert not AuditLog.objects.filter(target_type="talents.resume").exists()


def test_a_password_protected_pdf_is_refused(student_client: Client) -> None:
    response = post_resume(student_client, make_pdf(password="secret"))
    assert page_messages(response) == ["简历 PDF 设有密码，企业无法打开；请上传未加密的 PDF"]
    assert Resume.objects.count() == 0 and stored_files() == []


def test_a_file_over_the_limit_is_refused(student_client: Client, settings: Any) -> None:
    pdf = make_pdf()
    too_big = pdf + b"%" * (5 * 1024 * 1024 + 1 - len(pdf))
    assert settings.QINGHE_RESUME_MAX_BYTES == 5 * 1024 * 1024
    response = post_resume(student_client, too_big)
    assert page_messages(response) == ["简历不能超过 5 MB（当前约 5.0 MB）"]
    assert Resume.objects.count() == 0 and stored_files() == []


def test_an_empty_form_is_refused(student_client: Client) -> None:
    response = student_client.post("/me/resume/", {})
    assert page_messages(response) == ["请选择要上传的 PDF 简历"]
    assert Resume.objects.count() == 0


def test_replacing_keeps_one_resume_and_removes_the_old_file(
    student: Any, student_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        post_resume(student_client, make_pdf(pages=1), "旧.pdf")
    [old] = stored_files()
    with django_capture_on_commit_callbacks(execute=True):
        post_resume(student_client, make_pdf(pages=3), "新.pdf")
    resume = Resume.objects.get()
    assert (resume.original_name, resume.pages) == ("新.pdf", 3)
    assert stored_files() == [resume.storage_name] and old not in stored_files()
    assert AuditLog.objects.filter(action="update", summary="更换简历（PDF，3 页）").count() == 1


def test_deleting_removes_the_row_and_the_file(
    student: Any, student_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    post_resume(student_client, make_pdf())
    with django_capture_on_commit_callbacks(execute=True):
        response = student_client.post("/me/resume/delete/")
    assert page_messages(response)[-1] == "简历已删除；企业不能再查看。"
    assert Resume.objects.count() == 0 and stored_files() == []
    again = student_client.post("/me/resume/delete/")
    assert page_messages(again)[-1] == "你还没有上传简历"
    assert student_client.get("/me/resume/download/").status_code == 404


def test_the_enterprise_applied_to_opens_the_resume_audited(
    world: World, student: Any, student_client: Client
) -> None:
    pdf = make_pdf()
    post_resume(student_client, pdf)
    application = apply_to(student, world.posting_a)
    hr = Client()
    hr.force_login(world.hr_a)
    page = hr.get(f"/jobs/mine/applicants/{application.pk}/").content.decode()
    link = f"/jobs/mine/applicants/{application.pk}/resume/"
    assert f'href="{link}"' in page and "下载简历（PDF，1 页）" in page
    response = hr.get(link)
    assert response.status_code == 200 and response.content == pdf
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response["Cache-Control"]
    [view] = AuditLog.objects.filter(action="view", target_type="talents.resume")
    assert (view.actor_id, view.summary) == (
        world.hr_a.pk,
        f"企业查看应聘者简历：申请 #{application.pk}",
    )


def test_another_enterprise_gets_404_and_nothing_is_audited(
    world: World, student: Any, student_client: Client
) -> None:
    post_resume(student_client, make_pdf())
    application = apply_to(student, world.posting_a)
    other = Client()
    other.force_login(world.hr_b)
    assert other.get(f"/jobs/mine/applicants/{application.pk}/resume/").status_code == 404
    assert not AuditLog.objects.filter(action="view", target_type="talents.resume").exists()


def test_without_an_application_there_is_no_resume_to_open(
    world: World, student: Any, student_client: Client
) -> None:
    """Applied to B only: A cannot reach the résumé through any application id."""
    post_resume(student_client, make_pdf())
    to_b = apply_to(student, world.posting_b)
    hr_a = Client()
    hr_a.force_login(world.hr_a)
    assert hr_a.get(f"/jobs/mine/applicants/{to_b.pk}/resume/").status_code == 404
    assert hr_a.get("/jobs/mine/applicants/999999/resume/").status_code == 404
    assert not AuditLog.objects.filter(action="view", target_type="talents.resume").exists()


def test_an_applicant_without_a_resume_is_404(world: World, student: Any) -> None:
    application = apply_to(student, world.posting_a)
    hr = Client()
    hr.force_login(world.hr_a)
    page = hr.get(f"/jobs/mine/applicants/{application.pk}/").content.decode()
    assert "下载简历" not in page
    assert hr.get(f"/jobs/mine/applicants/{application.pk}/resume/").status_code == 404


def test_an_accepted_invitation_shares_the_resume_a_pending_one_does_not(
    world: World, student: Any, student_client: Client
) -> None:
    pdf = make_pdf()
    post_resume(student_client, pdf)
    from qinghe.talents.models import Talent

    talent = Talent.objects.get(user=student)
    invitation = Invitation.objects.create(
        posting=world.posting_a, talent=talent, enterprise=world.a, invited_by=world.hr_a
    )
    hr_a = Client()
    hr_a.force_login(world.hr_a)
    url = f"/matching/invitations/{invitation.pk}/resume/"
    assert hr_a.get(url).status_code == 404
    assert not AuditLog.objects.filter(action="view", target_type="talents.resume").exists()
    Invitation.objects.filter(pk=invitation.pk).update(state=Invitation.State.ACCEPTED)
    response = hr_a.get(url)
    assert response.status_code == 200 and response.content == pdf
    assert "no-store" in response["Cache-Control"]
    assert AuditLog.objects.filter(action="view", target_type="talents.resume").count() == 1
    hr_b = Client()
    hr_b.force_login(world.hr_b)
    assert hr_b.get(url).status_code == 404
    assert AuditLog.objects.filter(action="view", target_type="talents.resume").count() == 1


def test_only_students_upload_and_only_enterprises_open(
    world: World, student: Any, client_as: Any
) -> None:
    assert client_as("hr_staff").get("/me/resume/").status_code == 403
    assert client_as("enterprise_hr").get("/me/resume/").status_code == 403
    application = apply_to(student, world.posting_a)
    other_student = Client()
    other_student.force_login(world.y)
    url = f"/jobs/mine/applicants/{application.pk}/resume/"
    assert other_student.get(url).status_code == 403
    assert client_as("hr_staff").get(url).status_code == 403


def test_closing_the_account_removes_the_resume(
    student: Any, student_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    from qinghe.accounts.demo import DEMO_PASSWORD
    from qinghe.talents.services_self import DELETE_CONFIRMATION, account_delete

    post_resume(student_client, make_pdf())
    with django_capture_on_commit_callbacks(execute=True):
        account_delete(user=student, password=DEMO_PASSWORD, confirmation=DELETE_CONFIRMATION)
    assert Resume.objects.count() == 0 and stored_files() == []
