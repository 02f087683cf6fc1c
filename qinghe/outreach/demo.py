"""Demo data for liaison work: the demo student has a record, consents to liaison contact and
is followed by the demo liaison. Idempotent."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from qinghe.accounts.models import User
from qinghe.core.roles import Role
from qinghe.talents.models import Consent, Source, Talent
from qinghe.talents.selectors import talent_for_student
from qinghe.talents.services import NOTICE_VERSION, source_stamp

from .models import LiaisonAssignment
from .services import assignment_set


@transaction.atomic
def seed_outreach(*, stdout: Any = None, scale: int = 0, seed: int = 0) -> None:
    student = User.objects.filter(role=Role.STUDENT, username="xuezi").first()
    liaison = User.objects.filter(role=Role.LIAISON, username="zhuanyuan").first()
    if student is None or liaison is None:
        return
    talent = talent_for_student(user=student)
    if talent is None:
        talent = Talent.objects.create(
            name=student.display_name or "李晓彤",
            user=student,
            graduation_year=2026,
            provenance={"name": source_stamp(Source.STUDENT, student.pk, "学生本人")},
        )
    if not Consent.objects.filter(
        talent=talent, purpose=Consent.Purpose.LIAISON, enterprise__isnull=True
    ).exists():
        Consent.objects.create(
            talent=talent,
            purpose=Consent.Purpose.LIAISON,
            granted=True,
            notice_version=NOTICE_VERSION,
            recorded_by=student,
        )
    if not LiaisonAssignment.objects.filter(talent=talent, active=True).exists():
        assignment_set(talent=talent, liaison=liaison, actor=None, reason="演示数据")
    if stdout is not None:
        stdout.write("outreach demo: 李晓彤 is followed by 冯家乐 (zhuanyuan)")
