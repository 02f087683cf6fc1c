"""Tags postings with their most likely occupations (automatic tags only; staff corrections
are kept)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from qinghe.core.errors import ApplicationError
from qinghe.matching.services.tags import postings_classify


class Command(BaseCommand):
    help = "为岗位自动标注职业（人工校正保留）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--missing", action="store_true", help="只标注尚无自动标注的岗位")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            n = postings_classify(only_untagged=options["missing"])
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"postings={n}")
