from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from qinghe.accounts.demo import DEMO_PASSWORD, PERSONAS, personas_ensure


class Command(BaseCommand):
    help = "Loads the demo data set (idempotent) and prints one line per demo account."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--scale", type=int, default=0, help="generate N talents for benchmarks"
        )
        parser.add_argument("--seed", type=int, default=2026, help="random seed")

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            personas_ensure()
        for extension in _extensions():
            extension(stdout=self.stdout, scale=options["scale"], seed=options["seed"])
        for persona in PERSONAS:
            self.stdout.write(
                f"demo account: role={persona.role} username={persona.username} password={DEMO_PASSWORD}"
            )


def _extensions() -> list[Any]:
    """Later apps add their demo data here (talents, enterprises, ...), in dependency order."""
    from qinghe.alliance.demo import seed_alliance
    from qinghe.cards.demo import seed_cards
    from qinghe.events.demo import seed_events
    from qinghe.fairs.demo import seed_fairs
    from qinghe.jobs.demo import seed_recruitment
    from qinghe.live.demo import seed_live
    from qinghe.matching.demo import seed_matching
    from qinghe.outreach.demo import seed_outreach
    from qinghe.plan.demo import seed_plan
    from qinghe.policies.demo import seed_policies
    from qinghe.stations.demo import seed_stations
    from qinghe.talents.demo import seed_talents

    return [
        seed_talents,
        seed_recruitment,
        seed_outreach,
        seed_matching,
        seed_events,
        seed_fairs,
        seed_live,  # after the fairs: its applicants are the fairs demo's students
        seed_alliance,
        seed_policies,
        seed_stations,
        seed_cards,
        seed_plan,  # last: its snapshot and report read every other area's demo rows
    ]
