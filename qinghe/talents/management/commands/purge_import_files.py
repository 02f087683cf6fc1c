"""python manage.py purge_import_files — run daily (cron). Deletes import uploads and
rejected-rows files past their retention period (qinghe/talents/importing/purge.py) and
prints one line: ``uploads=N rejected=M orphans=K``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from qinghe.talents.importing.purge import import_files_purge


class Command(BaseCommand):
    help = "删除超过保留期限的导入文件（上传的调查表、拒绝行文件）"

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(import_files_purge().summary_line)
