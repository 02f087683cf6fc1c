from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from qinghe.events.services import event_reminders_send


class Command(BaseCommand):
    help = "提醒 24 小时内开始的活动的已确认报名者（每个报名只提醒一次；建议每小时运行一次）。"

    def handle(self, *args: Any, **options: Any) -> None:
        sent = event_reminders_send()
        self.stdout.write(f"event reminders sent: {sent}")
