"""python manage.py import_survey PATH --source NAME [--chunk-size N]

Prints progress on stderr and exactly one line on stdout:
``rows=N created=A updated=B unchanged=C rejected=D``. Running it again on the same file and
source after a crash resumes the unfinished batch; on a finished file it changes nothing."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from qinghe.talents.importing.chunks import ImportConflict
from qinghe.talents.importing.files import ImportFileError
from qinghe.talents.importing.run import DEFAULT_CHUNK_SIZE, survey_import_path
from qinghe.talents.models import ImportBatch


class Command(BaseCommand):
    help = "导入教育局毕业生调查表（.xlsx / .csv）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="调查表文件路径（.xlsx 或 .csv）")
        parser.add_argument(
            "--source", required=True, help="数据来源，如“2025届毕业生就业调查（教育局）”"
        )
        parser.add_argument(
            "--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE, help="每个事务处理的行数"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        chunk_size = options["chunk_size"]
        if chunk_size < 1:
            raise CommandError("--chunk-size 必须是正整数")
        verbosity = options["verbosity"]

        def progress(batch: ImportBatch) -> None:
            if verbosity >= 1:
                self.stderr.write(
                    f"批次 {batch.pk}：已处理 {batch.rows_done}/{batch.total_rows} 行"
                )

        try:
            result = survey_import_path(
                options["path"],
                source_name=options["source"],
                chunk_size=chunk_size,
                progress=progress,
            )
        except (ImportFileError, ImportConflict) as exc:
            raise CommandError(exc.message) from exc
        batch = result.batch
        self.stdout.write(batch.summary_line)
        if batch.rejected_file:
            # Encrypted at rest: it is downloaded (and audited) from the batch's import page.
            self.stderr.write(f"rejected rows: {batch.rejected_file} (加密存储，请在导入页面下载)")
        if batch.extra_columns and verbosity >= 1:
            self.stderr.write("未识别的列（已保留在原始数据中）：" + "、".join(batch.extra_columns))
        if verbosity >= 2:
            self.stderr.write(f"用时 {result.seconds:.1f} 秒")
        sys.stdout.flush()
