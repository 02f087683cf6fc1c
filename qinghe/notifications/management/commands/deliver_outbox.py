"""`python manage.py deliver_outbox`: the outbox delivery worker (started by `make run`)."""

from __future__ import annotations

import signal
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from qinghe.notifications.delivery import claim_batch, deliver_batch, worker_name
from qinghe.notifications.models import Channel, OutboxMessage


class Command(BaseCommand):
    help = "Delivers queued outbox messages with retries; safe to kill at any moment."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch", type=int, default=200)
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument(
            "--lease",
            type=int,
            default=60,
            help="seconds before a dead worker's claim is retaken (extended before every send)",
        )
        parser.add_argument("--idle-sleep", type=float, default=1.0)
        parser.add_argument(
            "--until-empty", action="store_true", help="exit when nothing is queued or sending"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        sent = 0
        worker = worker_name()
        with ThreadPoolExecutor(max(opts["threads"], 1)) as pool:
            while not stopping:
                claim = claim_batch(size=opts["batch"], lease_seconds=opts["lease"], worker=worker)
                if claim.ids:
                    sent += deliver_batch(claim, pool=pool).sent
                    continue
                if opts["until_empty"]:
                    open_rows = OutboxMessage.objects.exclude(channel=Channel.INBOX).filter(
                        state__in=[OutboxMessage.State.QUEUED, OutboxMessage.State.SENDING]
                    )
                    if not open_rows.exists():
                        break
                close_old_connections()
                time.sleep(opts["idle_sleep"])
        self.stdout.write(f"deliver_outbox: {sent} sent")
