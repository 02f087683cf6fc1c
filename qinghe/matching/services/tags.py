"""Occupation tags of postings: the classifier's automatic tags and staff corrections."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
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
    postings were tagged.

    Where the classifier is not sure (``rank_with_doubt``) the tags are
    kept as candidates but not used for matching: the posting waits in the staff's queue
    (``selectors.occupation_review_postings``), and the HR staff are told, in the same
    transaction, of published postings that have just joined it."""
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
        ranked, doubt = model.rank_with_doubt(
            [(title, desc) for _, title, desc in chunk], fetch.POSTING_OCCUPATIONS
        )
        occupations = fetch.occupations_by_code(c for r in ranked for c, _ in r)
        tags: list[PostingOccupation] = []
        for (posting_id, _t, _d), result, doubtful in zip(chunk, ranked, doubt, strict=True):
            for rank, (code, share) in enumerate(classify.shares(result), start=1):
                if code in occupations:
                    tags.append(
                        PostingOccupation(
                            posting_id=posting_id,
                            occupation=occupations[code],
                            score=round(share, 4),
                            rank=rank,
                            source=TagSource.AUTO,
                            not_sure=doubtful,
                        )
                    )
        ids = [r[0] for r in chunk]
        unsure = {posting_id for (posting_id, _t, _d), u in zip(chunk, doubt, strict=True) if u}
        with transaction.atomic():
            waiting = _waiting_for_a_person(ids)
            PostingOccupation.objects.filter(posting_id__in=ids, source=TagSource.AUTO).delete()
            PostingOccupation.objects.bulk_create(tags, batch_size=BULK)
            _tell_staff_of_new_reviews(unsure - waiting)
        done += len(chunk)
    return done


def _waiting_for_a_person(posting_ids: Sequence[int]) -> set[int]:
    """Which of the postings are in the staff's queue now (unsure and not tagged by staff)."""
    staff = set(
        PostingOccupation.objects.filter(
            posting_id__in=posting_ids, source=TagSource.STAFF
        ).values_list("posting_id", flat=True)
    )
    return set(
        PostingOccupation.objects.filter(
            posting_id__in=posting_ids, source=TagSource.AUTO, rank=1, not_sure=True
        )
        .exclude(posting_id__in=staff)
        .values_list("posting_id", flat=True)
    )


def _tell_staff_of_new_reviews(posting_ids: set[int]) -> None:
    """One inbox message to each active HR staff member about published postings that have
    just joined the queue (none about postings a person already tagged)."""
    from qinghe.accounts.models import User
    from qinghe.core.roles import Role
    from qinghe.notifications.models import Category, Channel
    from qinghe.notifications.services import make_key, notify_bulk

    if not posting_ids:
        return
    staff_tagged = PostingOccupation.objects.filter(
        posting_id__in=posting_ids, source=TagSource.STAFF
    ).values_list("posting_id", flat=True)
    new = list(
        Posting.objects.filter(pk__in=posting_ids, state=Posting.State.PUBLISHED)
        .exclude(pk__in=staff_tagged)
        .order_by("pk")
        .values_list("pk", "title")
    )
    if not new:
        return
    users = list(
        User.objects.filter(role=Role.HR_STAFF, is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not users:
        return
    titles = "、".join(title for _, title in new[:3]) + (" 等" if len(new) > 3 else "")
    notify_bulk(
        user_ids=users,
        channels=(Channel.INBOX,),
        category=Category.SYSTEM,
        subject=f"{len(new)} 个岗位的职业需要人工确认",
        body=(
            f"自动标注对这些岗位的职业把握不足：{titles}。"
            "请在“待确认职业”中从候选职业里选定，确认前这些岗位不参与按职业的匹配。"
        ),
        key=make_key("occupation-review", *[pk for pk, _ in new]),
        data={"url": reverse("matching:occupation_review"), "postings": [pk for pk, _ in new]},
    )


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
def posting_occupation_correct(
    *, actor: User, posting: Posting, code: str, reviewed: bool = False
) -> PostingOccupation:
    """A staff member says the posting is this occupation. Kept through re-classification;
    while a posting has staff tags, matching uses them instead of the automatic ones.
    ``reviewed``: picked in the queue of postings the classifier was not sure of (the
    audit says so)."""
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
        summary=(
            f"{'人工确认' if reviewed else '校正'}岗位职业：{occupation.code} {occupation.name}"
        ),
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
