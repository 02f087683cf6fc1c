"""Writing an uploaded file when the disk may be full.

Django's ``FileSystemStorage`` creates the file and then writes it; a full disk (ENOSPC, or a
quota: EDQUOT) fails the write half-way and leaves the partial file behind, and the OSError
rises as a 500. ``storage_save`` is the one way uploads are written (survey files and résumés
through ``qinghe.talents.importing.storage.save_private``, card and subsidy materials, export
files): on a full disk it removes its partial file, logs an error for the operator, and raises
``StorageFull`` — an ``ApplicationError`` whose Chinese message the person sees
(``DomainErrorMiddleware`` turns it into an error message on the page they came from), and
which the caller's transaction rolls back with everything else (no row names a file that is
not there). ``DomainErrorMiddleware`` then calls ``storage_full_report``: in a transaction of
its own (the failed upload's was rolled back), every active system administrator gets a
站内信, at most one an hour."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from .errors import ApplicationError

logger = logging.getLogger("qinghe.storage")

STORAGE_FULL_MESSAGE = "服务器存储空间不足，文件没有保存，请稍后再试。系统管理员已收到提醒。"
FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


class StorageFull(ApplicationError):
    status_code = 507

    def __init__(self, name: str, size: int) -> None:
        super().__init__(STORAGE_FULL_MESSAGE)
        self.name = name
        self.size = size


def storage_save(name: str, blob: bytes) -> str:
    """``default_storage.save(name, blob)``; a full disk leaves no partial file and raises
    ``StorageFull``. Returns the stored name."""
    try:
        return default_storage.save(name, ContentFile(blob))
    except OSError as exc:
        if exc.errno not in FULL_ERRNOS:
            raise
        removed = _remove_partial(name, len(blob))
        logger.error(
            "storage full (%s): %s not saved (%d bytes)%s",
            errno.errorcode.get(exc.errno or 0, exc.errno),
            name,
            len(blob),
            "; its partial file was removed" if removed else "",
        )
        raise StorageFull(name, len(blob)) from exc


def _remove_partial(name: str, size: int) -> bool:
    """The storage opened ``name`` (O_EXCL: it was not there) and wrote less than ``size``
    bytes. A file of the full size under that name is someone else's complete upload of the
    same content (content-named survey files), kept. Should the storage have picked another
    name because ``name`` appeared meanwhile, the import files' purge removes the orphan."""
    try:
        path = default_storage.path(name)
    except NotImplementedError:  # no file system (the tests' in-memory storage)
        return False
    with contextlib.suppress(FileNotFoundError):
        if os.path.getsize(path) != size:
            os.remove(path)
            return True
    return False


def storage_full_report(*, actor: Any = None, error: StorageFull) -> None:
    """A 站内信 to every active system administrator, at most one an hour each. Its own
    transaction: call it after the upload's was rolled back."""
    from qinghe.accounts.models import User
    from qinghe.core.roles import Role
    from qinghe.notifications.services import notify_bulk

    hour = timezone.localtime().strftime("%Y%m%d%H")
    who = getattr(actor, "username", "") or "后台任务"
    admins = list(
        User.objects.filter(role=Role.SYSADMIN, is_active=True).values_list("pk", flat=True)
    )
    with transaction.atomic():
        notify_bulk(
            user_ids=admins,
            channels=("inbox",),
            category="system",
            subject="服务器存储空间不足：有上传未能保存",
            body=(
                f"{timezone.localtime():%Y-%m-%d %H:%M} 起，上传的文件因存储空间已满未能保存"
                f"（本次：{who} 上传的 {error.size // 1024 + 1} KB 文件）。"
                "请尽快清理或扩充媒体文件所在的磁盘；本提醒每小时最多一次，详见服务器日志。"
            ),
            key=f"storage-full:{hour}",
        )
