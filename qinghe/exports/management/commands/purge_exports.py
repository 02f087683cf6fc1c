"""python manage.py purge_exports — by hand; the scheduler runs it hourly (qinghe/scheduler). Deletes export files past their expiry
(QINGHE_EXPORT_RETENTION_HOURS, 24), fails exports whose worker died, deletes unnamed files
under ``exports/``; prints ``files=N lost=M orphans=K``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from qinghe.exports.services import exports_purge


class Command(BaseCommand):
    help = "删除过期的导出文件，并将中断的导出标记为失败"

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(exports_purge().summary_line)
