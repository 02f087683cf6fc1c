"""Deletes survey files after their retention period (``purge_import_files``, daily).

- a rejected-rows file: ``QINGHE_IMPORT_FILE_RETENTION_DAYS`` (30) after its import finished;
- the upload of a finished import: ``QINGHE_IMPORT_DONE_UPLOAD_RETENTION_DAYS`` (1) after it
  finished (the rows are in the database; the file is not needed any more);
- the upload of an unfinished import (queued, failed, killed): the retention period after the
  batch was created; resuming it then needs the file uploaded again;
- a file under ``imports/`` that no batch names (an upload whose batch was never created):
  the retention period after it was written.

Uploads are named by content, so several batches may share one: it is deleted only when no
batch still needs it. Each batch records when its files went (``upload_purged_at``,
``rejected_purged_at``) and the import page says so instead of offering the download."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.files.storage import default_storage
from django.db.models import Q
from django.utils import timezone

from ..models import ImportBatch
from . import storage

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PurgeResult:
    uploads: int
    rejected: int
    orphans: int

    @property
    def summary_line(self) -> str:
        return f"uploads={self.uploads} rejected={self.rejected} orphans={self.orphans}"


def _days(name: str, default: int) -> dt.timedelta:
    return dt.timedelta(days=int(getattr(settings, name, default)))


def import_files_purge(*, now: dt.datetime | None = None) -> PurgeResult:
    now = now or timezone.now()
    retention = now - _days("QINGHE_IMPORT_FILE_RETENTION_DAYS", 30)
    done_upload = now - _days("QINGHE_IMPORT_DONE_UPLOAD_RETENTION_DAYS", 1)
    done = ImportBatch.State.DONE

    live = ImportBatch.objects.filter(upload_purged_at__isnull=True).exclude(stored_path="")
    expired = live.filter(
        Q(state=done, finished_at__lt=done_upload) | (~Q(state=done) & Q(created_at__lt=retention))
    )
    expired_ids = set(expired.values_list("pk", flat=True))
    still_needed = set(
        live.exclude(pk__in=expired_ids).values_list("stored_path", flat=True).distinct()
    )
    uploads = 0
    for path in set(expired.values_list("stored_path", flat=True)) - still_needed:
        uploads += storage.delete(path)
    ImportBatch.objects.filter(pk__in=expired_ids).update(upload_purged_at=now, updated_at=now)

    old_rejected = ImportBatch.objects.filter(
        rejected_purged_at__isnull=True, finished_at__lt=retention
    ).exclude(rejected_file="")
    rejected = 0
    for path in old_rejected.values_list("rejected_file", flat=True):
        rejected += storage.delete(path)
    old_rejected.update(rejected_purged_at=now, updated_at=now)

    orphans = _purge_orphans(before=retention)
    result = PurgeResult(uploads, rejected, orphans)
    logger.info("import files purged: %s", result.summary_line)
    return result


def _walk(folder: str) -> list[str]:
    try:
        folders, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return []
    names = [f"{folder}/{name}" for name in files]
    for sub in folders:
        names.extend(_walk(f"{folder}/{sub}"))
    return names


def _purge_orphans(*, before: dt.datetime) -> int:
    named = set(ImportBatch.objects.exclude(stored_path="").values_list("stored_path", flat=True))
    named |= set(
        ImportBatch.objects.exclude(rejected_file="").values_list("rejected_file", flat=True)
    )
    count = 0
    for name in _walk("imports"):
        if name in named:
            continue
        try:
            modified = default_storage.get_modified_time(name)
        except (FileNotFoundError, NotImplementedError):
            continue
        if modified < before:
            count += storage.delete(name)
    return count
