"""Recomputes every recommendation both ways (为你推荐 and 推荐人才) and the fairness
figures from scratch. Run nightly, or after changing weights or majors' occupations; new
and closed postings are followed in between by the services' hooks."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from qinghe.matching.services.recompute import recommendations_recompute_all
from qinghe.matching.services.tags import postings_classify


class Command(BaseCommand):
    help = "全量重算岗位推荐与推荐人才"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--classify", action="store_true", help="先为尚未标注职业的岗位自动标注"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["classify"]:
            n = postings_classify(only_untagged=True)
            self.stdout.write(f"classified={n}")
        result = recommendations_recompute_all()
        self.stdout.write(
            f"talents={result.talents} postings={result.postings} "
            f"recommendations={result.recommendations} candidates={result.candidates} "
            f"seconds={result.seconds:.1f}"
        )
