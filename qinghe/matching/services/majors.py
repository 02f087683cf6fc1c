"""Majors to occupations: each major category's ranked occupations, built from the
catalogs' texts and the shipped curated lists, and staff edits of them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from qinghe.core.audit import audit_record
from qinghe.core.errors import ApplicationError, NotFound
from qinghe.reference.models import Major, MajorCategory, Occupation

from .. import fetch, majormap
from ..models import (
    MajorOccupation,
    TagSource,
)
from .tags import _occupation_for_code

if TYPE_CHECKING:
    from qinghe.accounts.models import User

MAJOR_TOP = 20


def major_occupations_build(
    *, category_ids: Iterable[int] | None = None, top: int = MAJOR_TOP
) -> int:
    """Derives each category's ranked occupations from the catalogs' texts, puts the shipped
    hand corrections (``data/major_occupation_curated.csv``) first, and keeps every staff
    edit: staff rows keep their rank, removed ones stay removed, automatic rows fill the
    remaining places. Returns how many categories were built."""
    if not Occupation.objects.filter(level=Occupation.Level.OCCUPATION).exists():
        raise ApplicationError("职业分类大典尚未载入，请先运行 load_reference")
    model = fetch.classifier()
    categories = MajorCategory.objects.order_by("kind", "code")
    if category_ids is not None:
        categories = categories.filter(pk__in=list(category_ids))
    majors: dict[int, list[str]] = defaultdict(list)
    for category_id, name in Major.objects.values_list("category_id", "name").order_by("code"):
        majors[category_id].append(name)
    vocational = majormap.vocational_subcategories()
    curated = majormap.curated_lists()
    excluded = majormap.curated_exclusions()
    built = 0
    for category in categories:
        members = majors.get(category.pk) or vocational.get(category.code, [])
        ranked = [
            (code, score)
            for code, score in majormap.rank_for_field(model, category.name, members, top * 3)
            if code not in excluded.get(category.code, set())
        ]
        best = ranked[0][1] if ranked else 1.0
        curated_codes = curated.get(category.code, [])
        occupations = fetch.occupations_by_code([c for c, _ in ranked] + curated_codes)
        with transaction.atomic():
            existing = list(MajorOccupation.objects.filter(category=category).select_for_update())
            kept = [row for row in existing if row.source == TagSource.STAFF]
            taken = {row.occupation_id for row in kept}
            MajorOccupation.objects.filter(category=category).exclude(
                source=TagSource.STAFF
            ).delete()
            used_ranks = {row.rank for row in kept if not row.removed}
            rank_iter = (r for r in range(1, 10_000) if r not in used_ranks)
            new_rows: list[MajorOccupation] = []
            visible = len(used_ranks)
            auto_scores = dict(ranked)
            for code in curated_codes + [c for c, _ in ranked]:
                occupation = occupations.get(code)
                if occupation is None or occupation.pk in taken or visible >= top:
                    continue
                taken.add(occupation.pk)
                visible += 1
                new_rows.append(
                    MajorOccupation(
                        category=category,
                        occupation=occupation,
                        score=round(auto_scores.get(code, 0.0) / best, 4) if best else 0.0,
                        rank=next(rank_iter),
                        source=TagSource.CURATED if code in curated_codes else TagSource.AUTO,
                    )
                )
            MajorOccupation.objects.bulk_create(new_rows)
        built += 1
    return built


def _renumber(category: MajorCategory) -> None:
    rows = list(
        MajorOccupation.objects.filter(category=category, removed=False).order_by("rank", "id")
    )
    for position, row in enumerate(rows, start=1):
        if row.rank != position:
            row.rank = position
            row.save(update_fields=["rank"])


@transaction.atomic
def major_occupation_add(*, actor: User, category: MajorCategory, code: str) -> MajorOccupation:
    occupation = _occupation_for_code(code)
    row = MajorOccupation.objects.filter(category=category, occupation=occupation).first()
    last = (
        MajorOccupation.objects.filter(category=category, removed=False).aggregate(m=Max("rank"))[
            "m"
        ]
        or 0
    )
    if row is None:
        row = MajorOccupation(category=category, occupation=occupation)
    elif not row.removed:
        raise ValidationError({"code": "该职业已在列表中"})
    row.removed = False
    row.rank = last + 1
    row.source = TagSource.STAFF
    row.corrected_by = actor
    row.corrected_at = timezone.now()
    row.save()
    audit_record(
        action="update",
        actor=actor,
        target=category,
        summary=f"专业类对应职业：加入 {occupation.code} {occupation.name}",
    )
    return row


@transaction.atomic
def major_occupation_remove(*, actor: User, category: MajorCategory, link_id: int) -> None:
    row = (
        MajorOccupation.objects.select_related("occupation")
        .filter(pk=link_id, category=category, removed=False)
        .first()
    )
    if row is None:
        raise NotFound()
    row.removed = True
    row.source = TagSource.STAFF
    row.corrected_by = actor
    row.corrected_at = timezone.now()
    row.save()
    _renumber(category)
    audit_record(
        action="update",
        actor=actor,
        target=category,
        summary=f"专业类对应职业：移除 {row.occupation.code} {row.occupation.name}",
    )


@transaction.atomic
def major_occupation_move(
    *,
    actor: User,
    category: MajorCategory,
    link_id: int,
    up: bool,
) -> None:
    """Swaps a row with its neighbour; both become staff rows (a person placed them)."""
    _renumber(category)
    rows = list(
        MajorOccupation.objects.select_related("occupation")
        .filter(category=category, removed=False)
        .order_by("rank", "id")
    )
    position = next((i for i, r in enumerate(rows) if r.pk == link_id), None)
    if position is None:
        raise NotFound()
    other = position - 1 if up else position + 1
    if not 0 <= other < len(rows):
        return
    a, b = rows[position], rows[other]
    a.rank, b.rank = b.rank, a.rank
    now = timezone.now()
    for row in (a, b):
        row.source = TagSource.STAFF
        row.corrected_by = actor
        row.corrected_at = now
        row.save()
    audit_record(
        action="update",
        actor=actor,
        target=category,
        summary=f"专业类对应职业：{a.occupation.name} {'上移' if up else '下移'}",
    )
