from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from qinghe.cards.services import cards_suspend_unreported


class Command(BaseCommand):
    help = "暂停工作单位变更超过 10 天未报告的鹤才青年卡（可重复执行；建议每天运行）。"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--enqueue", action="store_true", help="交给后台任务执行，而不是当场执行"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["enqueue"]:
            from qinghe.cards.tasks import suspend_unreported_cards

            result = suspend_unreported_cards.enqueue()
            self.stdout.write(f"queued suspend_unreported_cards task {result.id}")
            return
        self.stdout.write(f"suspended cards: {cards_suspend_unreported()}")
