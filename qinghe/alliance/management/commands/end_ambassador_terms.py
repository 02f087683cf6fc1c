from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from qinghe.alliance.ambassadors import terms_end


class Command(BaseCommand):
    help = "Ends ambassador terms that are over (daily); a second run changes nothing."

    def handle(self, *args: Any, **options: Any) -> None:
        ended = terms_end()
        self.stdout.write(f"ambassador terms ended: {ended}")
