from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from qinghe.events.services import event_reminders_send


class Command(BaseCommand):
    help = "提醒 24 小时内开始的活动的已确认报名者（每个报名只提醒一次；建议每小时运行一次）。"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--enqueue", action="store_true", help="交给后台任务执行，而不是当场执行"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["enqueue"]:
            from qinghe.events.tasks import send_event_reminders

            result = send_event_reminders.enqueue()
            self.stdout.write(f"queued send_event_reminders task {result.id}")
            return
        sent = event_reminders_send()
        self.stdout.write(f"event reminders sent: {sent}")
