"""python manage.py backup — the database (pg_dump, custom format) and MEDIA_ROOT, with a
manifest of checksums; never the encryption keys (see qinghe/core/backup.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from qinghe.core.backup import backup_create
from qinghe.core.errors import ApplicationError


class Command(BaseCommand):
    help = "备份 PostgreSQL 数据库与上传文件目录（不含加密密钥）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            type=Path,
            default=Path(settings.BASE_DIR) / "var" / "backups",
            help="备份写入的目录（默认 var/backups）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            folder = backup_create(output=options["output"])
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(str(folder))
