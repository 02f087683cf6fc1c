from typing import Any

from django.core.management.base import BaseCommand

from qinghe.core.audit import audit_purge_expired


class Command(BaseCommand):
    help = "Deletes audit entries older than the retention period (at least 183 days)."

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = audit_purge_expired()
        self.stdout.write(f"purged={deleted}")
