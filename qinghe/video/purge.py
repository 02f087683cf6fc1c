"""Deletes video interview recordings after their retention period
(``purge_video_recordings``, daily, qinghe/scheduler/schedule.py).

A recording is made only when both sides agreed, and is kept encrypted until ``expires_at``
(its start plus ``QINGHE_VIDEO_RECORDING_RETENTION_DAYS``, 90 by default). Then every chunk's
file is deleted (and the name one past the last chunk, which an upload interrupted between
writing its file and its row may have left), the chunk rows go, and the recording row stays as
``已删除`` with ``purged_at`` as the record that there was one. One audit row per recording.
Idempotent: a purged recording is never looked at again; a file already missing counts as
deleted. A recording still running when it expires (a page that never said stop) is purged
too: the retention period runs from the start."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from qinghe.core.audit import audit_record
from qinghe.talents.importing import storage
from qinghe.talents.importing.storage import ENCRYPTED_SUFFIX

from .models import VideoRecording
from .services import chunk_name


@dataclass(frozen=True)
class PurgeResult:
    recordings: int
    files: int


@transaction.atomic
def recordings_purge(*, now: dt.datetime | None = None) -> PurgeResult:
    now = now or timezone.now()
    due = list(
        VideoRecording.objects.select_for_update()
        .filter(expires_at__lt=now)
        .exclude(state=VideoRecording.State.PURGED)
        .order_by("pk")
    )
    files = 0
    for recording in due:
        names = list(recording.pieces.values_list("storage_name", flat=True))
        names.append(chunk_name(recording, recording.chunks) + ENCRYPTED_SUFFIX)
        files += sum(1 for name in names if storage.delete(name))
        recording.pieces.all().delete()
        recording.state = VideoRecording.State.PURGED
        recording.purged_at = now
        recording.save(update_fields=["state", "purged_at", "updated_at"])
        audit_record(
            action="delete",
            actor=None,
            target=recording,
            summary=f"删除超过保留期的视频面试录像（{recording.chunks} 段）",
        )
    return PurgeResult(recordings=len(due), files=files)
