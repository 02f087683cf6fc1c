from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from qinghe.reference.selectors import HESHAN_COUNTY_CODES, county_resolve
from qinghe.reference.services import reference_load


class Command(BaseCommand):
    help = "载入参考数据（专业目录、高校、双一流、区划代码、镇街、职业、行业）；可重复执行。"

    def handle(self, *args: Any, **options: Any) -> None:
        result = reference_load()
        resolved = []
        for code in HESHAN_COUNTY_CODES:
            region = county_resolve(code)
            resolved.append(f"{code}->{region.code} {region.name}" if region else f"{code}->?")
        self.stdout.write(result.summary())
        self.stdout.write("heshan " + " ".join(resolved))
        self.stdout.write(self.style.SUCCESS(f"参考数据已载入，用时 {result.seconds:.2f} 秒"))
