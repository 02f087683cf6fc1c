"""Demo matching data for seed_demo: most demo talents agree to job matching, postings are
tagged with occupations, majors get their occupations, and recommendations are computed."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from qinghe.reference.models import Major, University
from qinghe.talents.models import Consent, Education, Source, Talent
from qinghe.talents.services import NOTICE_VERSION

from .models import MajorOccupation
from .services import majors, recompute, tags


def seed_matching(*, stdout: Any = None, scale: int = 0, seed: int = 2026) -> None:
    with transaction.atomic():
        consenting = Talent.objects.filter(merged_into__isnull=True).exclude(
            consents__purpose=Consent.Purpose.MATCHING
        )
        # Two in three demo talents agreed to job matching (every third one did not), and the
        # student persona's own record did.
        persona = Talent.objects.filter(user__username="xuezi").values_list("pk", flat=True).first()
        if persona is not None and not Education.objects.filter(talent_id=persona).exists():
            _give_persona_an_education(persona)
        new = [
            Consent(
                talent_id=pk,
                purpose=Consent.Purpose.MATCHING,
                granted=True,
                notice_version=NOTICE_VERSION,
            )
            for pk in consenting.values_list("pk", flat=True)
            if pk % 3 != 0 or pk == persona
        ]
        Consent.objects.bulk_create(new, batch_size=2000)
    if not MajorOccupation.objects.exists():
        majors.major_occupations_build()
    tags.postings_classify()
    result = recompute.recommendations_recompute_all()
    if stdout is not None:
        stdout.write(
            f"matching demo: consents +{len(new)}, {result.recommendations} recommendations"
            f" for {result.talents} talents over {result.postings} open postings"
        )


def _give_persona_an_education(talent_id: int) -> None:
    """The demo student 李晓彤 studies software engineering, so 为你推荐 has something to show."""
    from qinghe.talents.services import talent_recompute

    university = University.objects.filter(name="华南理工大学").first()
    major = Major.objects.filter(name="软件工程").select_related("category").first()
    Education.objects.create(
        talent_id=talent_id,
        university=university,
        university_name="华南理工大学",
        major=major,
        major_name="软件工程",
        major_category=major.category if major else None,
        level="bachelor",
        enrolment_year=2023,
        graduation_year=2027,
        is_double_first_class=bool(university and university.is_double_first_class),
        source=Source.STUDENT,
    )
    talent_recompute(talent=Talent.objects.get(pk=talent_id))
