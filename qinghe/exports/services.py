"""Writes for background exports: request one (the caller has checked what it may export),
run it with progress (the worker), download it (the owner only, audited), purge expired
files (``purge_exports``)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from qinghe.core.audit import audit_record
from qinghe.core.errors import ApplicationError, NotFound, validation_message
from qinghe.notifications.models import Category, Channel
from qinghe.notifications.services import notify

from . import storage
from .kinds import KINDS
from .models import Export

if TYPE_CHECKING:
    from qinghe.accounts.models import User

logger = logging.getLogger(__name__)

UNEXPECTED_FAILURE = "生成文件时出错，请重新导出；如仍失败，请联系系统管理员"
WORKER_LOST = "后台任务中断（生成过程中服务重启），请重新导出"


def background_threshold() -> int:
    """Exports of more rows than this run in the background; smaller ones stay immediate."""
    return int(getattr(settings, "QINGHE_EXPORT_BACKGROUND_ROWS", 2000))


def _retention() -> dt.timedelta:
    return dt.timedelta(hours=int(getattr(settings, "QINGHE_EXPORT_RETENTION_HOURS", 24)))


@transaction.atomic
def export_request(
    *,
    owner: User,
    kind: str,
    params: dict[str, Any],
    description: str,
    rows_expected: int,
    unmasked: bool,
) -> Export:
    """Queues an export; the worker starts it once this transaction commits. The caller has
    already refused what the owner may not export (nothing is written then)."""
    from .tasks import run_export

    if kind not in KINDS:
        raise ApplicationError("不支持的导出类型")
    export = Export.objects.create(
        owner=owner,
        kind=kind,
        params=params,
        description=description[:300],
        unmasked=unmasked,
        rows_total=rows_expected,
    )
    transaction.on_commit(lambda: run_export.enqueue(export_id=export.pk))
    return export


def _progress(export_id: int, done: int, total: int) -> None:
    """One UPDATE per step, committed at once (the worker runs outside a transaction), so the
    page's polling sees it."""
    Export.objects.filter(pk=export_id, state=Export.State.RUNNING).update(
        rows_done=done, rows_total=max(total, done), heartbeat_at=timezone.now()
    )


def export_run(*, export_id: int) -> Export:
    """Runs a queued export: claims it (a second worker on the same export steps aside),
    writes its file with progress, stores it encrypted, and tells the owner in 我的消息 that
    it is ready — or why it failed, in Chinese."""
    now = timezone.now()
    claimed = Export.objects.filter(pk=export_id, state=Export.State.QUEUED).update(
        state=Export.State.RUNNING, started_at=now, heartbeat_at=now, rows_done=0
    )
    export = Export.objects.select_related("owner").get(pk=export_id)
    if not claimed:
        return export
    kind = KINDS[export.kind]
    name = ""
    try:
        content, rows = kind.write(
            owner=export.owner,
            params=export.params,
            progress=lambda done, total: _progress(export_id, done, total),
        )
        name = storage.save_export(
            export.pk, content, suffix="." + kind.filename.rsplit(".", 1)[-1]
        )
        with transaction.atomic():
            finished = timezone.now()
            updated = Export.objects.filter(pk=export_id, state=Export.State.RUNNING).update(
                state=Export.State.DONE,
                rows_done=rows,
                rows_total=rows,
                file_name=name,
                finished_at=finished,
                heartbeat_at=finished,
                expires_at=finished + _retention(),
            )
            if not updated:  # declared lost by the purge meanwhile: keep its verdict
                raise _Lost()
            export.refresh_from_db()
            _tell_owner_done(export)
        return export
    except _Lost:
        storage.delete(name)
        export.refresh_from_db()
        return export
    except (ApplicationError, ValidationError) as exc:
        reason = exc.message if isinstance(exc, ApplicationError) else validation_message(exc)
    except Exception:
        logger.exception("export %s failed", export_id)
        reason = UNEXPECTED_FAILURE
    storage.delete(name)
    with transaction.atomic():
        if Export.objects.filter(pk=export_id, state=Export.State.RUNNING).update(
            state=Export.State.FAILED, error=reason[:500], finished_at=timezone.now()
        ):
            export.refresh_from_db()
            _tell_owner_failed(export)
    export.refresh_from_db()
    return export


class _Lost(Exception):
    pass


def _url(export: Export) -> str:
    return f"/exports/{export.pk}/"


def _tell_owner_done(export: Export) -> None:
    expires = timezone.localtime(export.expires_at).strftime("%Y-%m-%d %H:%M")
    notify(
        user=export.owner,
        channels=(Channel.INBOX,),
        category=Category.SYSTEM,
        subject=f"【青鹤】导出文件已生成：{export.get_kind_display()}",
        body=f"{export.description}，共 {export.rows_done} 条。请在 {expires} 前下载，过期后文件将被删除。",
        key=f"export:{export.pk}:done",
        template="exports.done",
        data={"url": _url(export)},
    )


def _tell_owner_failed(export: Export) -> None:
    notify(
        user=export.owner,
        channels=(Channel.INBOX,),
        category=Category.SYSTEM,
        subject=f"【青鹤】导出未完成：{export.get_kind_display()}",
        body=f"{export.description}：{export.error}",
        key=f"export:{export.pk}:failed",
        template="exports.failed",
        data={"url": _url(export)},
    )


@dataclass(frozen=True)
class Download:
    content: bytes
    filename: str
    content_type: str


def export_download(*, viewer: User, export: Export) -> Download:
    """The decrypted file, for its owner only (anyone else: the same 404 as a missing one),
    while it has not expired. Every download is audited."""
    if export.owner_id != viewer.pk:
        raise NotFound()
    if export.state != Export.State.DONE:
        raise NotFound("导出文件尚未生成")
    if not export.downloadable():
        raise NotFound("导出文件已过期删除，请重新导出")
    kind = KINDS[export.kind]
    content = storage.read_export(export.file_name)
    audit_record(
        action="export",
        actor=viewer,
        target=export,
        summary=f"下载导出文件：{export.description}（{'完整信息' if export.unmasked else '脱敏'}）",
        count=export.rows_done,
        data={"kind": export.kind, "unmasked": export.unmasked},
    )
    Export.objects.filter(pk=export.pk).update(downloads=F("downloads") + 1)
    stamp = timezone.localtime(export.finished_at).strftime("%Y%m%d-%H%M")
    return Download(content, kind.filename.format(stamp=stamp), kind.content_type)


@dataclass(frozen=True)
class PurgeResult:
    files: int
    lost: int
    orphans: int

    @property
    def summary_line(self) -> str:
        return f"files={self.files} lost={self.lost} orphans={self.orphans}"


def exports_purge(*, now: dt.datetime | None = None) -> PurgeResult:
    """Deletes export files past their expiry, marks exports whose worker died (no progress
    for QINGHE_EXPORT_STALE_MINUTES) failed, and deletes files under ``exports/`` that no
    export names (a worker that died between writing and recording its file)."""
    now = now or timezone.now()
    expired = Export.objects.filter(
        state=Export.State.DONE, purged_at__isnull=True, expires_at__lte=now
    )
    files = 0
    for export_id, name in expired.values_list("pk", "file_name"):
        files += storage.delete(name)
        Export.objects.filter(pk=export_id).update(purged_at=now)

    stale = now - dt.timedelta(minutes=int(getattr(settings, "QINGHE_EXPORT_STALE_MINUTES", 15)))
    lost = 0
    for export in Export.objects.filter(state=Export.State.RUNNING, heartbeat_at__lt=stale):
        with transaction.atomic():
            if Export.objects.filter(
                pk=export.pk, state=Export.State.RUNNING, heartbeat_at__lt=stale
            ).update(state=Export.State.FAILED, error=WORKER_LOST, finished_at=now):
                lost += 1
                export.refresh_from_db()
                _tell_owner_failed(export)

    named = set(
        Export.objects.exclude(file_name="")
        .filter(purged_at__isnull=True)
        .values_list("file_name", flat=True)
    )
    orphans = 0
    for name in storage.walk():
        if name in named:
            continue
        try:
            modified = storage.default_storage.get_modified_time(name)
        except (FileNotFoundError, NotImplementedError):
            continue
        if modified < stale:
            orphans += storage.delete(name)
    result = PurgeResult(files, lost, orphans)
    logger.info("exports purged: %s", result.summary_line)
    return result
