from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from qinghe.cards.services import cards_expire


class Command(BaseCommand):
    help = "把已过有效期的鹤才青年卡标记为“已过期”（可重复执行；建议每天凌晨运行）。"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--enqueue", action="store_true", help="交给后台任务执行，而不是当场执行"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["enqueue"]:
            from qinghe.cards.tasks import expire_cards

            result = expire_cards.enqueue()
            self.stdout.write(f"queued expire_cards task {result.id}")
            return
        self.stdout.write(f"expired cards: {cards_expire()}")
