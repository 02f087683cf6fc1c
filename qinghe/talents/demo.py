"""Demo talents for seed_demo: realistic survey files are generated (qinghe/talents/surveygen.py,
data in data/demo/survey.json) and imported through the real import pipeline, so the demo shows
provenance, rejected rows and the timeline as they will look with real files.

Two files: the education bureau's survey of Heshan-born graduates, and a roster of 外地生源
graduates who work or intern at Heshan employers (about one in eight of the survey's size), so
the fairness report compares natives with non-natives. Idempotent: each file is generated
once (same seed, same bytes) and imported once (matched on its digest and source).

A database seeded by an older generator (file names without ``DEMO_VERSION``) is left alone
with a message: mixing two generations would double the people; re-create it (README)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from django.conf import settings

from .importing.run import survey_import_path
from .models import ImportBatch
from .surveygen import generate

DEMO_SOURCE = "演示数据 鹤山籍毕业生就业情况调查"
INCOMER_SOURCE = "演示数据 在鹤就业实习外地生源毕业生登记"
DEMO_VERSION = "v2"
DEFAULT_ROWS = 3000
INCOMER_SHARE = 8  # one incomer row for every 8 survey rows


def seed_talents(*, stdout: Any, scale: int = 0, seed: int = 2026) -> None:
    rows = scale or DEFAULT_ROWS
    legacy = (
        ImportBatch.objects.filter(source_name=DEMO_SOURCE, state=ImportBatch.State.DONE)
        .exclude(file_name__startswith=f"survey-demo-{DEMO_VERSION}-")
        .exists()
    )
    if legacy:
        stdout.write(
            "demo talents: this database holds demo talents from an older generator; "
            "re-create it to get the current demo (README: demo data)"
        )
        return
    _import_demo_file(
        stdout=stdout,
        name=f"survey-demo-{DEMO_VERSION}-{rows}-{seed}.xlsx",
        source=DEMO_SOURCE,
        rows=rows,
        seed=seed,
        population="natives",
    )
    incomers = max(1, rows // INCOMER_SHARE)
    _import_demo_file(
        stdout=stdout,
        name=f"incomers-demo-{DEMO_VERSION}-{incomers}-{seed}.xlsx",
        source=INCOMER_SOURCE,
        rows=incomers,
        seed=seed + 1,
        population="incomers",
    )
    _assign_chapters()


def _import_demo_file(
    *, stdout: Any, name: str, source: str, rows: int, seed: int, population: str
) -> None:
    folder = Path(settings.MEDIA_ROOT) / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if not path.exists():
        generate(rows, path, seed=seed, population=population)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if ImportBatch.objects.filter(
        file_sha256=digest, source_name=source, state=ImportBatch.State.DONE
    ).exists():
        stdout.write(f"demo talents: already imported ({path.name})")
        return
    result = survey_import_path(path, source_name=source)
    stdout.write(f"demo talents ({population}): {result.summary_line} ({result.seconds:.1f} s)")


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
        # The alliance gathers Heshan natives.
        talents = Talent.objects.filter(chapter__isnull=True).exclude(
            native_evidence=Talent.Evidence.NONE
        )
        if kind == "university":
            talents = talents.filter(educations__university_name=key)
        else:
            talents = talents.filter(destinations__region_text__contains=key)
        Talent.objects.filter(pk__in=talents.values("pk")).update(chapter=chapter)
