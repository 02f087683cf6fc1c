"""The student's PDF résumé: upload (checked by content), replace, delete, and who may open it.

- **Checked by content.** At most QINGHE_RESUME_MAX_BYTES (5 MB); the bytes must begin with the
  PDF header ``%PDF-`` and parse with pypdf into at least one page; an encrypted (password)
  PDF is refused, since the enterprise could not open it. The extension and the browser's
  content type are not trusted.
- **Encrypted at rest.** Whole-file AES-256-GCM through ``importing.storage.save_private``
  (the same scheme as the survey files: the storage name is the associated data, 0600/0700),
  under ``resumes/<user>/<random>.pdf.enc``; replacing or deleting removes the old file once
  the change commits.
- **Shared only through a relationship.** An enterprise opens it from an application to one
  of its postings (the application's sharing consent in force, as for the applicant's page:
  ``recruitment.selectors.enterprise_application_get``) or from an invitation of its own that
  the student accepted. Anything else is the same 404, and nothing is audited; each opening
  that succeeds writes an audit row (action ``view``)."""

from __future__ import annotations

import hashlib
import io
import logging
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header

from qinghe.core.audit import audit_record
from qinghe.core.errors import ApplicationError, NotFound, PermissionDenied
from qinghe.core.roles import Role

from .importing import storage
from .models import Resume

if TYPE_CHECKING:
    from qinghe.accounts.models import User

STUDENT_ROLES = frozenset({Role.STUDENT, Role.AMBASSADOR})
PDF_MAGIC = b"%PDF-"
NOT_FOUND = "未找到该简历"


def max_bytes() -> int:
    return int(getattr(settings, "QINGHE_RESUME_MAX_BYTES", 5 * 1024 * 1024))


def pdf_page_count(data: bytes) -> int:
    """The number of pages of a readable, unencrypted PDF; ``ValidationError`` otherwise."""
    if not data.startswith(PDF_MAGIC):
        raise ValidationError({"file": "请上传 PDF 格式的简历（文件内容不是 PDF）"})
    from pypdf import PdfReader

    # pypdf logs its complaints about a damaged file; they say nothing we do not say here.
    quiet = logging.getLogger("pypdf")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise ValidationError({"file": "简历 PDF 设有密码，企业无法打开；请上传未加密的 PDF"})
        pages = len(reader.pages)
    except ValidationError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parser failure means an unreadable file
        raise ValidationError(
            {"file": "无法读取该 PDF 文件（文件可能已损坏），请重新导出后上传"}
        ) from exc
    finally:
        quiet.setLevel(level)
    if pages < 1:
        raise ValidationError({"file": "该 PDF 没有任何页面"})
    return pages


def _clean_name(name: str) -> str:
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    base = "".join(ch for ch in base if ch.isprintable())[:120]
    if not base.lower().endswith(".pdf"):
        base = (base or "简历") + ".pdf"
    return base


@transaction.atomic
def resume_upload(*, user: User, upload: UploadedFile) -> Resume:
    """Stores (or replaces) the student's résumé. Refused with a Chinese message and nothing
    changed when the file is too big, not a PDF, unreadable or encrypted."""
    if user.role not in STUDENT_ROLES:
        raise PermissionDenied("只有学子可以上传简历")
    limit = max_bytes()
    if upload is None or not upload.size:
        raise ValidationError({"file": "请选择要上传的 PDF 简历"})
    if upload.size > limit:
        raise ValidationError(
            {
                "file": f"简历不能超过 {limit // (1024 * 1024)} MB（当前约 {upload.size / 1048576:.1f} MB）"
            }
        )
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise ValidationError({"file": f"简历不能超过 {limit // (1024 * 1024)} MB"})
    pages = pdf_page_count(data)
    name = storage.save_private(
        f"resumes/{user.pk}/{secrets.token_hex(16)}.pdf", data, root_folder="resumes"
    )
    try:
        existing = Resume.objects.select_for_update().filter(user=user).first()
        old_name = existing.storage_name if existing else ""
        resume = existing or Resume(user=user)
        resume.storage_name = name
        resume.original_name = _clean_name(upload.name or "")
        resume.size = len(data)
        resume.pages = pages
        resume.sha256 = hashlib.sha256(data).hexdigest()
        resume.uploaded_at = timezone.now()
        resume.save()
    except Exception:
        storage.delete(name)  # no row names it
        raise
    if old_name:
        transaction.on_commit(lambda: storage.delete(old_name))
    audit_record(
        action="update" if existing else "create",
        actor=user,
        target=resume,
        summary=f"{'更换' if existing else '上传'}简历（PDF，{pages} 页）",
    )
    return resume


@transaction.atomic
def resume_delete(*, user: User) -> None:
    resume = Resume.objects.select_for_update().filter(user=user).first()
    if resume is None:
        raise ApplicationError("你还没有上传简历")
    name = resume.storage_name
    audit_record(action="delete", actor=user, target=resume, summary="删除简历")
    resume.delete()
    transaction.on_commit(lambda: storage.delete(name))


def resume_get_own(*, user: User) -> Resume | None:
    return Resume.objects.filter(user=user).first()


def resume_of(user_id: int | None) -> Resume | None:
    """The résumé of an account already shown to the viewer (the applicant's page)."""
    return Resume.objects.filter(user_id=user_id).first() if user_id else None


@dataclass(frozen=True)
class OpenedResume:
    resume: Resume
    data: bytes
    filename: str


def _read(resume: Resume) -> bytes:
    try:
        return storage.read_private(resume.storage_name)
    except (FileNotFoundError, OSError) as exc:
        raise NotFound("简历文件已不存在") from exc


def resume_open_own(*, user: User) -> OpenedResume:
    resume = resume_get_own(user=user)
    if resume is None:
        raise NotFound("你还没有上传简历")
    return OpenedResume(resume, _read(resume), resume.original_name)


def resume_open_for_application(*, viewer: User, application_id: int) -> OpenedResume:
    """The applicant's résumé for the enterprise the application went to (404 for any other
    enterprise, a missing application or an applicant without a résumé); audited."""
    from qinghe.recruitment.selectors import enterprise_application_get

    application = enterprise_application_get(viewer=viewer, application_id=application_id)
    resume = (
        Resume.objects.filter(user_id=application.applicant_id).first()
        if application.applicant_id
        else None
    )
    if resume is None:
        raise NotFound(NOT_FOUND)
    data = _read(resume)
    audit_record(
        action="view",
        actor=viewer,
        target=resume,
        summary=f"企业查看应聘者简历：申请 #{application.pk}",
        data={"application": application.pk},
    )
    return OpenedResume(resume, data, f"简历-{application.talent.name}.pdf")


def resume_open_for_invitation(*, viewer: User, invitation_id: int) -> OpenedResume:
    """The résumé of a student who accepted this enterprise's invitation; audited."""
    from qinghe.matching.models import Invitation

    if viewer.organisation_id is None or viewer.role != Role.ENTERPRISE_HR:
        raise NotFound(NOT_FOUND)
    invitation = (
        Invitation.objects.select_related("talent")
        .filter(
            pk=invitation_id,
            state=Invitation.State.ACCEPTED,
            enterprise__organisation_id=viewer.organisation_id,
        )
        .first()
    )
    user_id = invitation.talent.user_id if invitation is not None else None
    resume = Resume.objects.filter(user_id=user_id).first() if user_id else None
    if invitation is None or resume is None:
        raise NotFound(NOT_FOUND)
    data = _read(resume)
    audit_record(
        action="view",
        actor=viewer,
        target=resume,
        summary=f"企业查看推荐人才简历：邀请 #{invitation.pk}",
        data={"invitation": invitation.pk},
    )
    return OpenedResume(resume, data, f"简历-{invitation.talent.name}.pdf")


def resume_response(opened: OpenedResume) -> HttpResponse:
    """The PDF as a download: an attachment, never cached (personal data)."""
    response = HttpResponse(opened.data, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=opened.filename
    )
    response["Content-Length"] = str(len(opened.data))
    response["Cache-Control"] = "no-store, private, max-age=0"
    response["Pragma"] = "no-cache"
    response["X-Content-Type-Options"] = "nosniff"
    return response
