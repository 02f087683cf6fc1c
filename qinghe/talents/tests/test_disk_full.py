"""The disk fills up during an upload (issue 20, faults): a résumé and a survey file uploaded
to a media folder on a real, full file system — a 256 KB tmpfs mounted for the test (root, as
in CI); where mounting is not allowed, a file-system storage that refuses writes with ENOSPC
past a quota, the same failure half-way through the write. Expected: a clear Chinese message,
no partial file left, no row naming a missing file (the old résumé kept whole), the system
administrators told once an hour and the operator's log saying what happened; once space is
freed the same upload succeeds."""

from __future__ import annotations

import errno
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.files.base import File
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from qinghe.core.crypto import decrypt_file
from qinghe.core.diskspace import STORAGE_FULL_MESSAGE
from qinghe.core.roles import Role
from qinghe.notifications.models import OutboxMessage
from qinghe.talents.models import ImportBatch, Resume
from qinghe.testing.files import make_pdf
from qinghe.testing.recruiting import X_PHONE, claim_talent
from qinghe.testing.world import World

from .fixtures import surveys

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SIZE = 256 * 1024
PAGE = 4096


class QuotaStorage(FileSystemStorage):
    """The fallback where tmpfs cannot be mounted: the real file system, whose writes fail
    with ENOSPC once the folder would hold more than ``SIZE`` bytes (inside Django's own
    write loop, so the partial file is Django's, as on a full disk)."""

    def _save(self, name: str, content: Any) -> str:
        room = max(SIZE - used(Path(self.location)), 0)

        class Limited(File):  # type: ignore[type-arg]
            def chunks(self, chunk_size: int | None = None) -> Iterator[bytes]:
                left = room
                for chunk in content.chunks(chunk_size):
                    if len(chunk) > left:
                        yield chunk[:left]
                        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                    left -= len(chunk)
                    yield chunk

        saved: str = super()._save(name, Limited(content.file, name))  # type: ignore[misc]
        return saved


def used(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


class Media:
    def __init__(self, root: Path, tmpfs: bool) -> None:
        self.root, self.tmpfs = root, tmpfs
        self.filler = root / "filler.bin"

    def free(self) -> int:
        if self.tmpfs:
            stat = os.statvfs(self.root)
            return stat.f_bavail * stat.f_frsize
        return SIZE - used(self.root)

    def fill(self, leave: int = PAGE) -> None:
        with self.filler.open("ab") as handle:
            handle.write(b"\0" * (self.free() - leave))
        assert self.free() == leave

    def empty(self) -> None:
        self.filler.unlink()

    def files(self, folder: str) -> list[str]:
        return sorted(
            str(p.relative_to(self.root)) for p in (self.root / folder).rglob("*") if p.is_file()
        )


@pytest.fixture
def media(settings: Any) -> Iterator[Media]:
    root = Path(tempfile.mkdtemp(prefix="qinghe-full-"))
    mounted = (
        os.getuid() == 0
        and not os.environ.get("QINGHE_TEST_NO_TMPFS")  # to try the fallback as root
        and subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={SIZE},mode=0700", "tmpfs", str(root)],
            capture_output=True,
            check=False,
        ).returncode
        == 0
    )
    settings.MEDIA_ROOT = str(root)
    backend = (
        "django.core.files.storage.FileSystemStorage"
        if mounted
        else f"{__name__}.{QuotaStorage.__qualname__}"
    )
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": backend}}
    try:
        yield Media(root, mounted)
    finally:
        if mounted:
            subprocess.run(["umount", str(root)], check=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def student(world: World) -> Any:
    claim_talent(world.x, name="李晓彤", seq="102", phone=X_PHONE)
    return world.x


def page_messages(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def admin_alerts() -> list[tuple[str, str]]:
    return list(
        OutboxMessage.objects.filter(user__role=Role.SYSADMIN).values_list("channel", "subject")
    )


def post_resume(client: Client, data: bytes) -> Any:
    upload = SimpleUploadedFile("简历.pdf", data, content_type="application/pdf")
    return client.post("/me/resume/", {"file": upload})


def post_survey(client: Client, data: bytes) -> Any:
    upload = SimpleUploadedFile("调查表.xlsx", data, content_type=XLSX)
    return client.post("/talents/imports/", {"source_name": "教育局调查", "file": upload})


def test_a_full_disk_during_uploads_says_so_leaves_nothing_half_written_and_tells_the_administrator(
    media: Media,
    student: Any,
    client_as: Any,
    caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: Any,
) -> None:
    student_client = Client()
    student_client.force_login(student)
    first = make_pdf(pages=2, text="第一份")
    assert post_resume(student_client, first).status_code == 302
    student_client.get("/me/resume/")  # shows (and so uses up) the message "简历已保存"
    kept = Resume.objects.get()
    kept_files = media.files("resumes")
    assert kept_files == [kept.storage_name]

    media.fill()
    bigger = make_pdf(pages=80, text="第二份")
    assert len(bigger) > 2 * PAGE  # more than the room left: the write fails half-way
    with caplog.at_level(logging.ERROR, logger="qinghe.storage"):
        response = post_resume(student_client, bigger)

    assert (response.status_code, response["Location"]) == (302, "/me/resume/")
    assert page_messages(response) == [STORAGE_FULL_MESSAGE]
    # The old résumé is whole and still the one on record; nothing half-written is left.
    assert media.files("resumes") == kept_files
    row = Resume.objects.get()
    assert (row.storage_name, row.sha256, row.size) == (kept.storage_name, kept.sha256, kept.size)
    assert (
        decrypt_file((media.root / row.storage_name).read_bytes(), name=row.storage_name) == first
    )
    assert admin_alerts() == [("inbox", "服务器存储空间不足：有上传未能保存")]
    [record] = [r for r in caplog.records if r.name == "qinghe.storage"]
    assert record.levelname == "ERROR" and "storage full (ENOSPC)" in record.getMessage()
    assert "its partial file was removed" in record.getMessage()

    # A survey file: no batch, no file, the same message; the administrators are not told twice
    # within the hour.
    survey = surveys.messy_xlsx()
    assert len(survey) > PAGE
    staff = client_as("hr_staff")
    response = post_survey(staff, survey)
    assert response.status_code == 302
    assert page_messages(response) == [STORAGE_FULL_MESSAGE]
    assert ImportBatch.objects.count() == 0
    assert not (media.root / "imports").exists() or media.files("imports") == []
    assert admin_alerts() == [("inbox", "服务器存储空间不足：有上传未能保存")]
    assert sorted(p.name for p in media.root.iterdir() if p.is_file()) == ["filler.bin"]

    # Space freed: the same uploads go through.
    media.empty()
    student_client.get("/me/resume/")  # shows the refusal
    with django_capture_on_commit_callbacks(execute=True):
        response = post_resume(student_client, bigger)
    assert page_messages(response) == ["简历已保存（80 页）。"]
    assert Resume.objects.get().size == len(bigger)
    assert media.files("resumes") == [Resume.objects.get().storage_name]
    response = post_survey(staff, survey)
    assert response.status_code == 302 and ImportBatch.objects.count() == 1
    assert ImportBatch.objects.get().stored_path in media.files("imports")


def test_another_os_error_is_not_taken_for_a_full_disk(media: Media, student: Any) -> None:
    """A file where the résumé folder belongs is a fault of the installation, not a full disk:
    it rises as the server error it is, and nobody is told the storage is full."""
    (media.root / "resumes").write_bytes(b"")
    client = Client(raise_request_exception=True)
    client.force_login(student)
    with pytest.raises(NotADirectoryError):
        post_resume(client, make_pdf())
    assert Resume.objects.count() == 0
    assert admin_alerts() == []
