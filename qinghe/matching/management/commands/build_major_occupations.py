"""Derives each major category's ranked occupations from the catalogs' texts, with the
shipped hand corrections first and every staff edit kept. Safe to run again."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from qinghe.core.errors import ApplicationError
from qinghe.matching.services.majors import MAJOR_TOP, major_occupations_build
from qinghe.reference.models import MajorCategory


class Command(BaseCommand):
    help = "由目录文本推导每个专业类对应的职业（保留人工校正）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--category", action="append", default=[], help="只推导这些专业类代码")
        parser.add_argument("--top", type=int, default=MAJOR_TOP)

    def handle(self, *args: Any, **options: Any) -> None:
        ids = None
        if options["category"]:
            ids = list(
                MajorCategory.objects.filter(code__in=options["category"]).values_list(
                    "pk", flat=True
                )
            )
            if not ids:
                raise CommandError("没有这些专业类代码")
        try:
            n = major_occupations_build(category_ids=ids, top=options["top"])
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"categories={n}")
