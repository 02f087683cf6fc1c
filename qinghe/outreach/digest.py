"""The weekly personalised job digest: each student's best open recommendations, queued to the
outbox once per ISO week (the idempotency key carries the week, so a rerun adds nothing)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db import transaction
from django.utils import timezone

from qinghe.jobs.selectors import open_postings
from qinghe.matching.models import Recommendation
from qinghe.notifications.models import Category, Channel
from qinghe.notifications.services import notify
from qinghe.talents.consent import consent_granted_by_talent
from qinghe.talents.models import Consent

DIGEST_SIZE = 5


def digest_key(today: dt.date) -> str:
    year, week, _ = today.isocalendar()
    return f"job-digest:{year}-W{week:02d}"


def digest_body(items: list[tuple[str, str, str]]) -> str:
    lines = ["本周为你推荐的鹤山岗位（按匹配度排序）："]
    for number, (title, enterprise, reason) in enumerate(items, start=1):
        lines.append(f"{number}. {title}（{enterprise}）" + (f"：{reason}" if reason else ""))
    lines.append("登录青鹤，在“为你推荐”查看全部推荐与理由；不想再收到可在消息中一键退订。")
    return "\n".join(lines)


@transaction.atomic
def job_digest_queue(*, today: dt.date | None = None) -> int:
    """Queues this week's digest for every student with open recommendations and job-matching
    consent. Returns the number of students it was queued for."""
    today = today or timezone.localdate()
    open_ids = set(open_postings(today=today).values_list("pk", flat=True))
    by_talent: dict[int, list[Recommendation]] = defaultdict(list)
    recommendations = (
        Recommendation.objects.filter(
            posting_id__in=open_ids, talent__user__isnull=False, talent__user__is_active=True
        )
        .select_related("posting__enterprise", "talent__user")
        .order_by("talent_id", "-score", "posting_id")
    )
    for rec in recommendations:
        if len(by_talent[rec.talent_id]) < DIGEST_SIZE:
            by_talent[rec.talent_id].append(rec)
    key = digest_key(today)
    queued = 0
    matching = consent_granted_by_talent(by_talent, Consent.Purpose.MATCHING)
    for talent_id, recs in by_talent.items():
        talent = recs[0].talent
        user = talent.user
        if user is None:  # excluded by the query (talent__user__isnull=False)
            continue
        if not matching.get(talent_id, False):
            continue
        items: list[tuple[str, str, str]] = []
        for rec in recs:
            reasons: list[Any] = rec.reasons or []
            first = reasons[0] if reasons else ""
            reason = first.get("text", "") if isinstance(first, dict) else str(first)
            items.append((rec.posting.title, rec.posting.enterprise.name, reason))
        rows = notify(
            user=user,
            channels=[Channel.INBOX, Channel.EMAIL],
            category=Category.JOBS,
            subject="本周为你推荐的岗位",
            body=digest_body(items),
            key=key,
            data={"postings": [rec.posting_id for rec in recs]},
        )
        queued += 1 if rows else 0
    return queued
