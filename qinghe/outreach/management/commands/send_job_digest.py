from typing import Any

from django.core.management.base import BaseCommand

from qinghe.outreach.digest import job_digest_queue


class Command(BaseCommand):
    help = "Queues this week's personalised job digest (run weekly; a rerun in the same week adds nothing)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"digests queued={job_digest_queue()}")
