"""Demo talents for seed_demo: a realistic survey file is generated and imported through the
real import pipeline, so the demo shows provenance, rejected rows and the timeline as they
will look with the education bureau's files."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from django.conf import settings

from .importing.run import survey_import_path
from .models import ImportBatch
from .surveygen import generate

DEMO_SOURCE = "演示数据 鹤山籍毕业生就业情况调查"
DEFAULT_ROWS = 3000


def seed_talents(*, stdout: Any, scale: int = 0, seed: int = 2026) -> None:
    rows = scale or DEFAULT_ROWS
    folder = Path(settings.MEDIA_ROOT) / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"survey-demo-{rows}-{seed}.xlsx"
    if not path.exists():
        generate(rows, path, seed=seed)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if ImportBatch.objects.filter(
        file_sha256=digest, source_name=DEMO_SOURCE, state=ImportBatch.State.DONE
    ).exists():
        stdout.write(f"demo talents: already imported ({path.name})")
        return
    result = survey_import_path(path, source_name=DEMO_SOURCE)
    stdout.write(f"demo talents: {result.summary_line} ({result.seconds:.1f} s)")
    _assign_chapters()


# Alliance chapters in universities and cities where Heshan students gather.
DEMO_CHAPTERS = {
    "青鹤联盟·华南理工大学分会": ("university", "华南理工大学"),
    "青鹤联盟·广东工业大学分会": ("university", "广东工业大学"),
    "青鹤联盟·五邑大学分会": ("university", "五邑大学"),
    "青鹤联盟·广州分会": ("city", "广州"),
    "青鹤联盟·深圳分会": ("city", "深圳"),
}


def _assign_chapters() -> None:
    from qinghe.accounts.services import organisation_get_or_create

    from .models import Talent

    for name, (kind, key) in DEMO_CHAPTERS.items():
        chapter = organisation_get_or_create(kind="chapter", name=name)
        talents = Talent.objects.filter(chapter__isnull=True)
        if kind == "university":
            talents = talents.filter(educations__university_name=key)
        else:
            talents = talents.filter(destinations__region_text__contains=key)
        Talent.objects.filter(pk__in=talents.values("pk")).update(chapter=chapter)
