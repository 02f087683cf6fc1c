from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from qinghe.jobs.services import postings_expire


class Command(BaseCommand):
    help = "把已过截止日期的已发布岗位标记为“已过期”（可重复执行；建议每天凌晨运行）。"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--enqueue", action="store_true", help="交给后台任务执行，而不是当场执行"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["enqueue"]:
            from qinghe.jobs.tasks import expire_postings

            result = expire_postings.enqueue()
            self.stdout.write(f"queued expire_postings task {result.id}")
            return
        moved = postings_expire()
        self.stdout.write(f"expired postings: {moved}")
