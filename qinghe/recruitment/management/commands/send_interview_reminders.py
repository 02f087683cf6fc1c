from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from qinghe.recruitment.services.interviews import interview_reminders_send
from qinghe.recruitment.tasks import send_interview_reminders


class Command(BaseCommand):
    help = "提醒 24 小时内将进行面试的学生（每场面试只提醒一次；建议每 15 分钟运行一次）。"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--enqueue", action="store_true", help="交给后台任务执行，而不是当场执行"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["enqueue"]:
            result = send_interview_reminders.enqueue()
            self.stdout.write(f"queued send_interview_reminders task {result.id}")
            return
        sent = interview_reminders_send()
        self.stdout.write(f"interview reminders sent: {sent}")
