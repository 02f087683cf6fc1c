"""Policy attachments: HR bureau staff attach PDF/Word/Excel/image files to a policy version,
typed by content and limited in size; anyone downloads them from the public policy page; a
refused upload changes nothing."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from qinghe.core.models import AuditLog
from qinghe.core.roles import ALL_ROLES, Role
from qinghe.policies.models import Policy, PolicyAttachment
from qinghe.policies.services import builtin_ensure

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% annex\n"
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 32
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def ooxml(main: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(main, "<x/>")
    return buffer.getvalue()


@pytest.fixture
def policy(db: Any) -> Policy:
    builtin_ensure()
    found = Policy.objects.filter(status=Policy.Status.PUBLISHED).first()
    assert found is not None
    return found


def upload(client: Client, policy: Policy, name: str, data: bytes, title: str = "") -> Any:
    return client.post(
        f"/policies/{policy.pk}/attachments/",
        {"title": title, "file": SimpleUploadedFile(name, data)},
        follow=True,
    )


def state() -> tuple[int, int, list[str]]:
    names = list(PolicyAttachment.objects.values_list("storage_name", flat=True))
    return (
        PolicyAttachment.objects.count(),
        AuditLog.objects.filter(summary__contains="附件").count(),
        names,
    )


def test_staff_attach_each_allowed_type_and_anyone_downloads_it(
    policy: Policy, client_as: Any
) -> None:
    hr = client_as(Role.HR_STAFF)
    files = [
        ("申报表.pdf", PDF, "application/pdf"),
        ("申报表.doc", OLE, "application/msword"),
        (
            "承诺书.docx",
            ooxml("word/document.xml"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("名册.xls", OLE, "application/vnd.ms-excel"),
        (
            "名册.xlsx",
            ooxml("xl/workbook.xml"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        ("流程图.png", PNG, "image/png"),
    ]
    for name, data, _type in files:
        page = upload(hr, policy, name, data)
        assert "附件已上传。" in page.content.decode()
    rows = list(PolicyAttachment.objects.order_by("id"))
    assert [(a.title, a.filename, a.content_type, a.size) for a in rows] == [
        (name.rsplit(".", 1)[0], name, ctype, len(data)) for name, data, ctype in files
    ]
    assert AuditLog.objects.filter(summary__contains="添加附件").count() == 6
    detail = Client().get(f"/policies/{policy.pk}/").content.decode()
    assert "名册.xlsx" in detail and "上传附件" not in detail  # anonymous: no upload form
    first = rows[0]
    answer = Client().get(f"/policies/{policy.pk}/attachments/{first.pk}/")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/pdf"
    assert answer.getvalue() == PDF
    assert "attachment; filename*=UTF-8''" in answer["Content-Disposition"]
    # another policy's id in the path: 404
    other = Policy.objects.exclude(pk=policy.pk).filter(status="published").first()
    assert other is not None
    assert Client().get(f"/policies/{other.pk}/attachments/{first.pk}/").status_code == 404


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("病毒.exe", b"MZ\x90\x00", "“病毒.exe”不是 PDF、Word、Excel 或图片（JPG、PNG）文件"),
        ("改名.pdf", b"MZ\x90\x00", "“改名.pdf”的内容不是 PDF 文件，请上传原始文件"),
        (
            "假表格.xlsx",
            ooxml("word/document.xml"),
            "“假表格.xlsx”的内容不是 Excel 文件，请上传原始文件",
        ),
        ("压缩包.docx", b"PK\x03\x04broken", "“压缩包.docx”的内容不是 Word 文件，请上传原始文件"),
        ("空.pdf", b"", "“空.pdf”是空文件"),
        ("太大.pdf", b"%PDF-" + b"0" * (20 * 1024 * 1024), "“太大.pdf”超过 20 MB"),
    ],
)
def test_a_refused_upload_says_why_in_chinese_and_changes_nothing(
    policy: Policy, client_as: Any, name: str, data: bytes, message: str
) -> None:
    before = state()
    page = upload(client_as(Role.HR_STAFF), policy, name, data)
    assert message in page.content.decode()
    assert state() == before


def test_only_hr_bureau_staff_attach_and_remove(policy: Policy, client_as: Any) -> None:
    for role in sorted(ALL_ROLES - {Role.HR_STAFF, Role.SYSADMIN}):
        response = client_as(role).post(
            f"/policies/{policy.pk}/attachments/",
            {"file": SimpleUploadedFile("a.pdf", PDF)},
        )
        assert response.status_code in (302, 403, 404)
    assert PolicyAttachment.objects.count() == 0
    upload(client_as(Role.SYSADMIN), policy, "a.pdf", PDF)
    attachment = PolicyAttachment.objects.get()
    assert default_storage.exists(attachment.storage_name)
    refused = client_as(Role.STUDENT).post(
        f"/policies/{policy.pk}/attachments/{attachment.pk}/delete/"
    )
    assert refused.status_code in (302, 403)
    assert PolicyAttachment.objects.count() == 1
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        client_as(Role.HR_STAFF).post(f"/policies/{policy.pk}/attachments/{attachment.pk}/delete/")
    assert PolicyAttachment.objects.count() == 0
    assert not default_storage.exists(attachment.storage_name)
    assert AuditLog.objects.filter(summary__contains="删除附件").count() == 1
