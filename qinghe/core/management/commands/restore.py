"""python manage.py restore <backup folder> — replaces the database named by DATABASE_URL and
MEDIA_ROOT with a backup's, after checking its checksums and that the environment holds the
encryption keys the backup was made with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from qinghe.core.backup import Target, backup_restore, backup_verify
from qinghe.core.errors import ApplicationError


class Command(BaseCommand):
    help = "从备份恢复数据库与上传文件目录（覆盖现有数据）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", type=Path, help="backup 命令写出的备份目录")
        parser.add_argument("--yes", action="store_true", help="不再询问，直接覆盖")
        parser.add_argument("--jobs", type=int, default=2, help="pg_restore 并行数（默认 2）")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            manifest = backup_verify(options["folder"])
            target = Target.from_settings()
            if not options["yes"]:
                answer = input(
                    f"将删除数据库 {target.name} 与上传文件目录，并以 {manifest['created_at']} 的备份替换。"
                    "输入 yes 继续："
                )
                if answer.strip() != "yes":
                    raise CommandError("已取消，未做任何改动")
            result = backup_restore(folder=options["folder"], jobs=options["jobs"])
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"restored database={result.database} seconds={result.seconds:.1f} "
            f"database_seconds={result.database_seconds:.1f} media_files={result.media_files}"
        )
