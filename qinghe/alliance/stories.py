"""Role models and hometown stories (榜样故事, measure 8): League staff write and publish them,
with the person's consent recorded; anyone reads the published ones; postings and events show
the stories of their industry or town beside them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.core.audit import audit_record
from qinghe.core.errors import ApplicationError, NotFound, PermissionDenied
from qinghe.reference.models import Industry, Town, University

from .models import Story
from .selectors import is_alliance_staff


@dataclass
class StoryData:
    title: str
    person_name: str
    summary: str
    body: str
    consent_on: dt.date | None
    consent_note: str
    person_role: str = ""
    industry: Industry | None = None
    university: University | None = None
    town: Town | None = None

    def clean(self) -> dict[str, Any]:
        errors: dict[str, str] = {}
        text = {
            "title": (self.title or "").strip(),
            "person_name": (self.person_name or "").strip(),
            "person_role": (self.person_role or "").strip(),
            "summary": (self.summary or "").strip(),
            "body": (self.body or "").strip(),
            "consent_note": (self.consent_note or "").strip(),
        }
        limits = {"title": 80, "person_name": 32, "person_role": 80, "summary": 200, "body": 20000}
        labels = {"title": "标题", "person_name": "主人公", "summary": "摘要", "body": "正文"}
        for name, label in labels.items():
            if not text[name]:
                errors[name] = f"请填写{label}"
        for name, limit in limits.items():
            if len(text[name]) > limit:
                errors[name] = f"不能超过 {limit} 字"
        if self.consent_on is None or not text["consent_note"]:
            errors["consent_on"] = "请记录本人同意刊登的日期和方式（如书面同意书）"
        elif self.consent_on > timezone.localdate():
            errors["consent_on"] = "同意日期不能晚于今天"
        if len(text["consent_note"]) > 120:
            errors["consent_note"] = "不能超过 120 字"
        if errors:
            raise ValidationError(errors)
        return {
            **text,
            "consent_on": self.consent_on,
            "industry": self.industry,
            "university": self.university,
            "town": self.town,
        }


def _require_staff(actor: User) -> None:
    if not is_alliance_staff(actor):
        raise PermissionDenied("只有团市委工作人员可以编辑榜样故事")


@transaction.atomic
def story_save(*, actor: User, data: StoryData, story: Story | None = None) -> Story:
    _require_staff(actor)
    fields = data.clean()
    if story is None:
        story = Story.objects.create(created_by=actor, **fields)
        audit_record(
            action="create", actor=actor, target=story, summary=f"新建榜样故事：{story.title}"
        )
        return story
    story = Story.objects.select_for_update().get(pk=story.pk)
    changed = [k for k, v in fields.items() if getattr(story, k) != v]
    for k in changed:
        setattr(story, k, fields[k])
    if changed:
        story.save(update_fields=[*changed, "updated_at"])
        audit_record(
            action="update",
            actor=actor,
            target=story,
            summary=f"修改榜样故事：{story.title}",
            data={"fields": changed},
        )
    return story


@transaction.atomic
def story_publish(*, actor: User, story: Story, publish: bool) -> Story:
    _require_staff(actor)
    story = Story.objects.select_for_update().get(pk=story.pk)
    target = Story.State.PUBLISHED if publish else Story.State.WITHDRAWN
    if story.state == target:
        raise ApplicationError(f"故事已{story.get_state_display()}")
    story.state = target
    if publish:
        story.published_at = timezone.now()
    story.save(update_fields=["state", "published_at", "updated_at"])
    audit_record(
        action="update",
        actor=actor,
        target=story,
        summary=f"{'发布' if publish else '撤下'}榜样故事：{story.title}",
    )
    return story


# ---- reads ----------------------------------------------------------------------------------


def stories_published(*, industry: str = "", town: str = "") -> QuerySet[Story]:
    qs = Story.objects.filter(state=Story.State.PUBLISHED).select_related(
        "industry", "university", "town"
    )
    if industry:
        qs = qs.filter(industry__code=industry[:4])
    if town:
        qs = qs.filter(town__code=town[:12])
    return qs


def story_get_public(*, story_id: int) -> Story:
    story = stories_published().filter(pk=story_id).first()
    if story is None:
        raise NotFound("未找到该故事")
    return story


def story_get_for_staff(*, viewer: User, story_id: int) -> Story:
    story = Story.objects.filter(pk=story_id).first() if is_alliance_staff(viewer) else None
    if story is None:
        raise NotFound("未找到该故事")
    return story


def stories_related(
    *, industry_ids: list[int] | None = None, town_ids: list[int] | None = None, limit: int = 3
) -> list[Story]:
    """Published stories of these industries or towns, newest first (one query)."""
    cond = Q()
    if industry_ids:
        cond |= Q(industry_id__in=industry_ids)
    if town_ids:
        cond |= Q(town_id__in=town_ids)
    if not cond:
        return []
    return list(Story.objects.filter(cond, state=Story.State.PUBLISHED)[:limit])
