"""python manage.py run_scheduler — runs the schedule of qinghe/scheduler/schedule.py.

Run one or more beside the web server (``make run`` starts one; production: the systemd unit
deploy/systemd/qinghe-scheduler.service). Each period of each job runs once in all, whichever
scheduler claims it; SIGTERM/SIGINT stop after the job that is running."""

from __future__ import annotations

import datetime as dt
import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from qinghe.scheduler.schedule import SCHEDULE
from qinghe.scheduler.services import Scheduler


class Command(BaseCommand):
    help = "按代码中声明的计划运行定时任务（每个周期只运行一次，多个进程可同时运行）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="只检查并运行一轮到期任务后退出")
        parser.add_argument("--list", action="store_true", help="列出计划与下次运行时间后退出")
        parser.add_argument(
            "--interval", type=float, default=60.0, help="两次检查之间最长等待秒数（默认 60）"
        )
        parser.add_argument(
            "--lease", type=float, default=300.0, help="执行租约秒数，执行期间每 1/3 续约一次"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["list"]:
            now = timezone.now()
            for job in SCHEDULE:
                upcoming = timezone.localtime(job.next_after(now))
                self.stdout.write(
                    f"{job.name:<28} {job.cron:<14} 下次 {upcoming:%Y-%m-%d %H:%M}  {job.description}"
                )
            return
        if options["lease"] < 3 or options["interval"] <= 0:
            raise CommandError("--lease 至少 3 秒，--interval 必须大于 0")
        scheduler = Scheduler(SCHEDULE, lease=dt.timedelta(seconds=options["lease"]))
        if options["once"]:
            for name, outcome in scheduler.tick():
                self.stdout.write(f"{name}: {outcome.label}")
            return
        stop = threading.Event()

        def _stop(signum: int, frame: Any) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        self.stdout.write(f"scheduler {scheduler.worker}: {len(SCHEDULE)} jobs")
        scheduler.run_forever(stop=stop, interval=options["interval"])
