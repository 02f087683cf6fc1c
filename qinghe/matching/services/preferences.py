"""Students' matching preferences (towns, industries, salary, skills)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction

from qinghe.core.audit import audit_record
from qinghe.reference.models import Industry, Town
from qinghe.talents.models import Talent

from ..models import (
    MatchingProfile,
)

if TYPE_CHECKING:
    from qinghe.accounts.models import User


@transaction.atomic
def matching_profile_update(
    *,
    talent: Talent,
    user: User,
    towns: Sequence[Town],
    industries: Sequence[Industry],
    expected_salary: int | None,
    skills: str,
) -> MatchingProfile:
    if expected_salary is not None and not 0 < expected_salary <= 200_000:
        raise ValidationError({"expected_salary": "期望月薪应在 1–200000 元之间"})
    skills = (skills or "").strip()
    if len(skills) > 300:
        raise ValidationError({"skills": "技能与关键词不能超过 300 个字"})
    if len(towns) > 5 or len(industries) > 5:
        raise ValidationError({"__all__": "意向镇街、意向行业各最多选 5 个"})
    profile, _ = MatchingProfile.objects.get_or_create(talent=talent)
    profile.expected_salary = expected_salary
    profile.skills = skills
    profile.save()
    profile.preferred_towns.set(towns)
    profile.preferred_industries.set(industries)
    audit_record(action="update", actor=user, target=talent, summary="更新岗位匹配偏好")
    from ..tasks import refresh_talent

    transaction.on_commit(lambda: refresh_talent.enqueue(talent.pk))
    return profile
