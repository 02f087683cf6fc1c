"""Survey files at rest (SECURITY.md item 7): uploads and rejected-rows files are encrypted
(AES-256-GCM, key derived from FIELD_ENCRYPTION_KEY, the storage name as associated data),
owner-only on disk, and deleted by purge_import_files after their retention period."""

from __future__ import annotations

import datetime as dt
import io
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from qinghe.core.crypto import decrypt_file, encrypt_file
from qinghe.talents.importing import files, storage
from qinghe.talents.importing.purge import import_files_purge
from qinghe.talents.importing.run import survey_import_run, survey_upload
from qinghe.talents.models import ImportBatch

from .fixtures import surveys
from .fixtures.surveys import ID_WRONG

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def reference(db: Any, settings: Any) -> None:
    surveys.load_reference_sample()
    # A fresh in-memory storage: other tests' files must not count as orphans here.
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }


def upload(data: bytes, *, source: str = "教育局调查") -> ImportBatch:
    batch, _ = survey_upload(
        upload=SimpleUploadedFile("调查表.xlsx", data, content_type=XLSX), source_name=source
    )
    return batch


def stored_bytes(name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        return bytes(handle.read())


# ---------------------------------------------------------------------------- encryption


def test_the_upload_and_the_rejected_rows_file_are_stored_encrypted() -> None:
    data = surveys.messy_xlsx()
    batch = upload(data)
    survey_import_run(batch_id=batch.pk)
    batch.refresh_from_db()

    upload_blob = stored_bytes(batch.stored_path)
    rejected_blob = stored_bytes(batch.rejected_file)
    for blob in (upload_blob, rejected_blob):
        assert blob[:4] == b"QHF1"
        assert b"PK\x03\x04" not in blob  # not a readable .xlsx (zip) any more
        assert ID_WRONG.encode() not in blob
    assert decrypt_file(upload_blob, name=batch.stored_path) == data
    assert files.load_stored(batch) == data
    assert storage.read_private(batch.rejected_file)[:4] == b"PK\x03\x04"


def test_a_file_renamed_or_altered_does_not_decrypt() -> None:
    blob = encrypt_file(b"440784200303031234", name="imports/uploads/a.csv.enc")

    with pytest.raises(InvalidTag):
        decrypt_file(blob, name="imports/uploads/b.csv.enc")
    with pytest.raises(InvalidTag):
        decrypt_file(blob[:-1] + bytes([blob[-1] ^ 1]), name="imports/uploads/a.csv.enc")
    with pytest.raises(ValueError, match="not an encrypted file"):
        decrypt_file(b"PK\x03\x04plain", name="imports/uploads/a.csv.enc")
    assert decrypt_file(blob, name="imports/uploads/a.csv.enc") == b"440784200303031234"


def test_files_are_owner_only_on_disk(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    old_umask = os.umask(0o022)
    try:
        data = surveys.messy_xlsx()  # once: the workbook's metadata carries a timestamp
        batch = upload(data)
        survey_import_run(batch_id=batch.pk)
    finally:
        os.umask(old_umask)
    batch.refresh_from_db()

    for name in (batch.stored_path, batch.rejected_file):
        path = tmp_path / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "imports").stat().st_mode) == 0o700
    assert files.load_stored(batch) == data


# ---------------------------------------------------------------------------- retention


def finished(data: bytes, *, days_ago: float, source: str = "教育局调查") -> ImportBatch:
    batch = upload(data, source=source)
    survey_import_run(batch_id=batch.pk)
    ImportBatch.objects.filter(pk=batch.pk).update(
        finished_at=timezone.now() - dt.timedelta(days=days_ago)
    )
    batch.refresh_from_db()
    return batch


def test_a_finished_upload_goes_after_a_day_and_its_rejected_rows_after_30_days() -> None:
    batch = finished(surveys.messy_xlsx(), days_ago=0.5)
    assert import_files_purge().summary_line == "uploads=0 rejected=0 orphans=0"
    assert default_storage.exists(batch.stored_path)

    ImportBatch.objects.filter(pk=batch.pk).update(
        finished_at=timezone.now() - dt.timedelta(days=2)
    )
    now = timezone.now()
    assert import_files_purge(now=now).summary_line == "uploads=1 rejected=0 orphans=0"
    batch.refresh_from_db()
    assert not default_storage.exists(batch.stored_path)
    assert default_storage.exists(batch.rejected_file)
    assert (batch.upload_purged_at, batch.rejected_purged_at) == (now, None)

    later = now + dt.timedelta(days=29)
    assert import_files_purge(now=later).summary_line == "uploads=0 rejected=1 orphans=0"
    batch.refresh_from_db()
    assert not default_storage.exists(batch.rejected_file)
    assert (batch.upload_purged_at, batch.rejected_purged_at) == (now, later)
    assert import_files_purge(now=later).summary_line == "uploads=0 rejected=0 orphans=0"


def test_an_unfinished_upload_is_kept_for_the_retention_period_then_resume_asks_for_it(
    settings: Any,
) -> None:
    settings.QINGHE_IMPORT_FILE_RETENTION_DAYS = 10
    batch = upload(surveys.messy_xlsx())  # queued: never run
    ImportBatch.objects.filter(pk=batch.pk).update(created_at=timezone.now() - dt.timedelta(days=9))
    assert import_files_purge().summary_line == "uploads=0 rejected=0 orphans=0"

    ImportBatch.objects.filter(pk=batch.pk).update(
        created_at=timezone.now() - dt.timedelta(days=11)
    )
    assert import_files_purge().summary_line == "uploads=1 rejected=0 orphans=0"

    with pytest.raises(files.ImportFileError) as error:
        survey_import_run(batch_id=batch.pk)
    assert error.value.message == "找不到该批次的文件（可能已按保留期限删除），请重新上传"
    batch.refresh_from_db()
    assert (batch.state, batch.rows_done) == ("failed", 0)


def test_an_upload_shared_with_a_batch_still_running_is_kept() -> None:
    data = surveys.messy_xlsx()
    done = finished(data, days_ago=5, source="来源甲")
    waiting = upload(data, source="来源乙")  # same content: the same stored file
    assert waiting.stored_path == done.stored_path

    assert import_files_purge().summary_line == "uploads=0 rejected=0 orphans=0"
    done.refresh_from_db()
    assert done.upload_purged_at is not None  # its claim on the file is gone
    assert default_storage.exists(waiting.stored_path)
    assert files.load_stored(waiting) == data


def test_orphans_under_imports_go_after_the_retention_period() -> None:
    name = default_storage.save("imports/uploads/orphan.csv.enc", ContentFile(b"x"))
    assert import_files_purge().summary_line == "uploads=0 rejected=0 orphans=0"
    future = timezone.now() + dt.timedelta(days=31)

    assert import_files_purge(now=future).summary_line == "uploads=0 rejected=0 orphans=1"
    assert not default_storage.exists(name)


def test_the_command_prints_one_line() -> None:
    finished(surveys.messy_xlsx(), days_ago=40)
    out = io.StringIO()

    call_command("purge_import_files", stdout=out)

    assert out.getvalue() == "uploads=1 rejected=1 orphans=0\n"


def test_the_page_says_the_rejected_rows_were_purged_and_the_download_is_gone(
    client_as: Any, personas: Any
) -> None:
    client = client_as("hr_staff")
    client.post(
        reverse("talents:import_list"),
        {
            "source_name": "教育局调查",
            "file": SimpleUploadedFile("调查表.xlsx", surveys.messy_xlsx(), content_type=XLSX),
        },
    )
    batch = ImportBatch.objects.get()
    download = reverse("talents:import_rejected", args=[batch.pk])
    assert (
        download in client.get(reverse("talents:import_detail", args=[batch.pk])).content.decode()
    )
    ImportBatch.objects.filter(pk=batch.pk).update(
        finished_at=timezone.now() - dt.timedelta(days=31)
    )
    now = timezone.now()
    import_files_purge(now=now)

    html = client.get(reverse("talents:import_detail", args=[batch.pk])).content.decode()

    assert download not in html
    assert "对账：共 14 行 = 新建 9 + 更新 1 + 未变 1 + 拒绝 3；其中待跟进 2 行" in html
    assert (
        f"拒绝行文件（3 行）已于 {timezone.localdate(now):%Y-%m-%d} 按保留期限删除，无法再下载。"
        in html
    )
    assert client.get(download).status_code == 404
