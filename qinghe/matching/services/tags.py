"""Occupation tags of postings: the classifier's automatic tags and staff corrections."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from qinghe.core.audit import audit_record
from qinghe.core.errors import ApplicationError, NotFound
from qinghe.jobs.models import Posting
from qinghe.reference.models import Occupation

from .. import classify, fetch
from ..models import (
    PostingOccupation,
    TagSource,
)

if TYPE_CHECKING:
    from qinghe.accounts.models import User

BULK = 2000


def classify_titles(titles: Sequence[str], *, k: int) -> list[list[str]]:
    """The k most likely occupation codes of each title, best first."""
    model = fetch.classifier()
    out: list[list[str]] = []
    for start in range(0, len(titles), 500):
        chunk = [(title, "") for title in titles[start : start + 500]]
        out += [[code for code, _ in ranked] for ranked in model.rank(chunk, k)]
    return out


def postings_classify(
    *, posting_ids: Iterable[int] | None = None, only_untagged: bool = False
) -> int:
    """Replaces the automatic tags of the given postings (default: all) with the classifier's
    top ``fetch.POSTING_OCCUPATIONS``; staff tags are never touched. Returns how many
    postings were tagged."""
    qs = Posting.objects.all()
    if posting_ids is not None:
        qs = qs.filter(pk__in=list(posting_ids))
    if only_untagged:
        qs = qs.exclude(occupation_tags__source=TagSource.AUTO)
    rows = list(qs.values_list("id", "title", "description").order_by("id"))
    if not rows:
        return 0
    if not Occupation.objects.filter(level=Occupation.Level.OCCUPATION).exists():
        raise ApplicationError("职业分类大典尚未载入，请先运行 load_reference")
    model = fetch.classifier()
    done = 0
    for start in range(0, len(rows), 500):
        chunk = rows[start : start + 500]
        ranked = model.rank([(title, desc) for _, title, desc in chunk], fetch.POSTING_OCCUPATIONS)
        occupations = fetch.occupations_by_code(c for r in ranked for c, _ in r)
        tags: list[PostingOccupation] = []
        for (posting_id, _t, _d), result in zip(chunk, ranked, strict=True):
            for rank, (code, share) in enumerate(classify.shares(result), start=1):
                if code in occupations:
                    tags.append(
                        PostingOccupation(
                            posting_id=posting_id,
                            occupation=occupations[code],
                            score=round(share, 4),
                            rank=rank,
                            source=TagSource.AUTO,
                        )
                    )
        with transaction.atomic():
            PostingOccupation.objects.filter(
                posting_id__in=[r[0] for r in chunk], source=TagSource.AUTO
            ).delete()
            PostingOccupation.objects.bulk_create(tags, batch_size=BULK)
        done += len(chunk)
    return done


def posting_classify(*, posting_id: int) -> list[PostingOccupation]:
    postings_classify(posting_ids=[posting_id])
    return list(
        PostingOccupation.objects.filter(posting_id=posting_id, source=TagSource.AUTO)
        .select_related("occupation")
        .order_by("rank")
    )


def _occupation_for_code(code: str) -> Occupation:
    code = (code or "").strip()
    match = re.fullmatch(r"(\d)-?(\d{2})-?(\d{2})-?(\d{2})", code)
    if match:
        code = "-".join(match.groups())
    occupation = fetch.occupations_by_code([code]).get(code)
    if occupation is None or occupation.level != Occupation.Level.OCCUPATION:
        raise ValidationError({"code": "请填写职业分类大典中的职业代码，如 2-02-10-03"})
    return occupation


@transaction.atomic
def posting_occupation_correct(*, actor: User, posting: Posting, code: str) -> PostingOccupation:
    """A staff member says the posting is this occupation. Kept through re-classification;
    while a posting has staff tags, matching uses them instead of the automatic ones."""
    occupation = _occupation_for_code(code)
    existing = PostingOccupation.objects.filter(
        posting=posting, occupation=occupation, source=TagSource.STAFF
    ).first()
    if existing is not None:
        return existing
    rank = (
        PostingOccupation.objects.filter(posting=posting, source=TagSource.STAFF).aggregate(
            m=Max("rank")
        )["m"]
        or 0
    ) + 1
    tag = PostingOccupation.objects.create(
        posting=posting,
        occupation=occupation,
        score=1.0,
        rank=rank,
        source=TagSource.STAFF,
        corrected_by=actor,
        corrected_at=timezone.now(),
    )
    audit_record(
        action="update",
        actor=actor,
        target=posting,
        summary=f"校正岗位职业：{occupation.code} {occupation.name}",
    )
    _after_posting_change(posting.pk)
    return tag


@transaction.atomic
def posting_occupation_remove(*, actor: User, posting: Posting, tag_id: int) -> None:
    tag = (
        PostingOccupation.objects.select_related("occupation")
        .filter(pk=tag_id, posting=posting, source=TagSource.STAFF)
        .first()
    )
    if tag is None:
        raise NotFound()
    tag.delete()
    audit_record(
        action="update",
        actor=actor,
        target=posting,
        summary=f"撤销岗位职业校正：{tag.occupation.code} {tag.occupation.name}",
    )
    _after_posting_change(posting.pk)


def _after_posting_change(posting_id: int) -> None:
    """Scores of a posting change with its occupations: refresh its recommendations after
    the transaction commits (as a task)."""
    from ..tasks import refresh_posting

    transaction.on_commit(lambda: refresh_posting.enqueue(posting_id))
