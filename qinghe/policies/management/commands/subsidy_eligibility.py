"""Batch eligibility: prints ``编号<TAB>eligible|ineligible<TAB>amount<TAB>failed codes``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from qinghe.core.errors import ApplicationError
from qinghe.policies import batch, selectors


class Command(BaseCommand):
    help = "按补贴项目的资格规则批量核查申请人（.csv 或 .xlsx）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--programme", required=True, help="补贴项目代码，如 one_off_startup")
        parser.add_argument("--as-of", required=True, help="核定日期 YYYY-MM-DD（即申请日期）")
        parser.add_argument("--input", required=True, help=".csv 或 .xlsx 文件")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            as_of = dt.date.fromisoformat(options["as_of"])
        except ValueError as exc:
            raise CommandError(
                f"--as-of“{options['as_of']}”不是有效日期（应为 YYYY-MM-DD）"
            ) from exc
        programme = selectors.programme_by_code(options["programme"])
        if programme is None:
            raise CommandError(f"没有代码为“{options['programme']}”的补贴项目")
        path = Path(options["input"])
        if not path.is_file():
            raise CommandError(f"找不到文件：{path}")
        try:
            applicants = batch.read_applicants(path.name, path.read_bytes())
        except ApplicationError as exc:
            raise CommandError(str(exc)) from exc
        lines = batch.run_batch(
            applicants,
            rule_specs=selectors.rule_specs(programme),
            amount_expression=programme.amount_expression,
            as_of=as_of,
        )
        for line in lines:
            self.stdout.write(line.text())
