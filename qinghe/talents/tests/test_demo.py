from __future__ import annotations

import io

import pytest

from qinghe.talents.demo import DEMO_SOURCE, seed_talents
from qinghe.talents.models import ImportBatch, Talent

pytestmark = pytest.mark.django_db


def test_a_database_seeded_by_the_old_generator_is_left_alone_with_a_message(
    settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    ImportBatch.objects.create(
        source_name=DEMO_SOURCE,
        file_name="survey-demo-3000-2026.xlsx",
        file_sha256="0" * 64,
        state=ImportBatch.State.DONE,
    )
    out = io.StringIO()
    seed_talents(stdout=out, scale=20, seed=7)
    assert "re-create it" in out.getvalue()
    assert (Talent.objects.count(), ImportBatch.objects.count()) == (0, 1)
    assert not (tmp_path / "demo").exists()
