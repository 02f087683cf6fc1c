"""Writes for postings and favourites.

``posting_transition`` is the one function that moves a posting: ``POSTING_WORKFLOW`` is the
table ``workflow.POSTING_TRANSITIONS`` plus the posting's hooks (the rules of publishing, the
changed fields, the PostingEvent, the matching update on commit), run by
``qinghe.core.workflow.transition``, which locks, checks, saves and audits. Dates are taken from ``now`` when given (tests pass it rather
than patching the clock)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from qinghe.core import fragments
from qinghe.core.audit import audit_record
from qinghe.core.errors import ApplicationError, PermissionDenied
from qinghe.core.roles import Role
from qinghe.core.workflow import Step, Workflow, transition
from qinghe.enterprises.models import Enterprise
from qinghe.enterprises.selectors import is_enterprise_staff
from qinghe.reference.models import Major, MajorCategory, Town

from . import search
from .models import FACT_FIELDS, Favourite, MinLevel, Posting, PostingEvent
from .workflow import (
    ATTESTED_CRITERIA,
    CRITERIA_BY_CODE,
    ENTERPRISE,
    POSTING_TRANSITIONS,
    QUALITY_MIN_SALARY,
    STAFF,
    SYSTEM,
)

if TYPE_CHECKING:
    from qinghe.accounts.models import User

FACT_LABELS: dict[str, str] = {
    "working_hours": "工作时间",
    "housing": "住宿",
    "meals": "餐食",
    "social_insurance": "社会保险",
    "leave": "休假",
    "safety": "劳动安全",
}
MAX_SALARY = 1_000_000


@dataclass
class PostingData:
    """Everything an enterprise fills in for a posting."""

    kind: str
    title: str
    description: str
    town: Town | None
    headcount: int = 1
    min_level: str = ""
    salary_min: int | None = None
    salary_max: int | None = None
    start_date: dt.date | None = None
    closing_date: dt.date | None = None
    working_hours: str = ""
    housing: str = ""
    meals: str = ""
    social_insurance: str = ""
    leave: str = ""
    safety: str = ""
    natives_first: bool = False
    majors: list[Major] = field(default_factory=list)
    categories: list[MajorCategory] = field(default_factory=list)

    def clean(self) -> dict[str, Any]:
        """Field checks that hold for drafts too; the publishing rules are checked on submit."""
        errors: dict[str, str] = {}
        title = (self.title or "").strip()
        if not title:
            errors["title"] = "请填写岗位名称"
        elif len(title) > 120:
            errors["title"] = "岗位名称不能超过 120 字"
        if self.kind not in Posting.Kind.values:
            errors["kind"] = "请选择岗位类型"
        if self.town is None:
            errors["town"] = "请选择工作镇街"
        if self.min_level not in MinLevel.values:
            errors["min_level"] = "请选择最低学历"
        if not self.headcount or not 1 <= int(self.headcount) <= 10000:
            errors["headcount"] = "招聘人数应在 1 到 10000 之间"
        for name in ("salary_min", "salary_max"):
            value = getattr(self, name)
            if value is not None and not 0 <= int(value) <= MAX_SALARY:
                errors[name] = "请填写合理的月薪（元）"
        if (
            self.salary_min is not None
            and self.salary_max is not None
            and self.salary_min > self.salary_max
        ):
            errors["salary_max"] = "月薪上限不能低于下限"
        if (
            self.start_date
            and self.closing_date
            and self.start_date < self.closing_date - dt.timedelta(days=3650)
        ):
            errors["start_date"] = "到岗日期不合理"
        if errors:
            raise ValidationError(errors)
        data = {
            "kind": self.kind,
            "title": title,
            "description": (self.description or "").strip(),
            "town": self.town,
            "headcount": int(self.headcount),
            "min_level": self.min_level,
            "salary_min": self.salary_min,
            "salary_max": self.salary_max,
            "start_date": self.start_date,
            "closing_date": self.closing_date,
            "natives_first": bool(self.natives_first),
        }
        for name in FACT_FIELDS:
            data[name] = (getattr(self, name) or "").strip()
        return data


def _actor_party(actor: User | None, enterprise: Enterprise) -> str:
    """Which party of the workflow the actor is, for this posting's enterprise."""
    if actor is None:
        return SYSTEM
    role = getattr(actor, "role", None)
    if role == Role.ENTERPRISE_HR and actor.organisation_id == enterprise.organisation_id:
        return ENTERPRISE
    if is_enterprise_staff(actor):
        return STAFF
    raise PermissionDenied("无权操作该岗位")


def _require_owner(actor: User, enterprise: Enterprise) -> None:
    if not (
        getattr(actor, "role", None) == Role.ENTERPRISE_HR
        and actor.organisation_id == enterprise.organisation_id
    ):
        raise PermissionDenied("只能管理本企业的岗位")


def posting_refresh_tokens(*, posting: Posting) -> str:
    posting.search_tokens = search.document_tokens(
        posting.title, posting.description, posting.enterprise.name
    )
    return posting.search_tokens


def _set_majors(posting: Posting, majors: list[Major], categories: list[MajorCategory]) -> None:
    posting.required_majors.set(majors)
    posting.required_categories.set(categories)
    unrestricted = not majors and not categories
    if posting.majors_unrestricted != unrestricted:
        posting.majors_unrestricted = unrestricted
        Posting.objects.filter(pk=posting.pk).update(majors_unrestricted=unrestricted)
        fragments.bump(fragments.POSTINGS)  # an update() sends no post_save (jobs/signals.py)


@transaction.atomic
def posting_create(*, actor: User, enterprise: Enterprise, data: PostingData) -> Posting:
    """A new draft. Any registered enterprise may draft; only a verified one may submit."""
    _require_owner(actor, enterprise)
    if enterprise.state == Enterprise.State.REJECTED:
        raise ApplicationError("企业认证未通过，请先修改企业信息并重新提交审核")
    fields = data.clean()
    posting = Posting(enterprise=enterprise, created_by=actor, **fields)
    posting_refresh_tokens(posting=posting)
    posting.save()
    _set_majors(posting, data.majors, data.categories)
    PostingEvent.objects.create(
        posting=posting, action="create", from_state="", to_state=posting.state, actor=actor
    )
    audit_record(
        action="create",
        actor=actor,
        target=posting,
        summary=f"新建岗位草稿：{posting.title}",
    )
    return posting


@transaction.atomic
def posting_update(*, actor: User, posting: Posting, data: PostingData) -> list[str]:
    """Edits a draft (a posting under review is withdrawn first; a published one is taken
    down to a draft with the "revise" move, keeping its applications, and reviewed again).
    Returns the changed field names."""
    posting = (
        Posting.objects.select_for_update(of=("self",))
        .select_related("enterprise")
        .get(pk=posting.pk)
    )
    _require_owner(actor, posting.enterprise)
    if posting.state != Posting.State.DRAFT:
        raise ApplicationError("只有草稿可以修改：待审核的岗位请先撤回，已发布的岗位请先“撤下修改”")
    fields = data.clean()
    changed = [name for name, value in fields.items() if getattr(posting, name) != value]
    old_majors = set(posting.required_majors.values_list("pk", flat=True))
    old_categories = set(posting.required_categories.values_list("pk", flat=True))
    if old_majors != {m.pk for m in data.majors}:
        changed.append("required_majors")
    if old_categories != {c.pk for c in data.categories}:
        changed.append("required_categories")
    if not changed:
        return []
    for name, value in fields.items():
        setattr(posting, name, value)
    posting_refresh_tokens(posting=posting)
    posting.save()
    _set_majors(posting, data.majors, data.categories)
    PostingEvent.objects.create(
        posting=posting,
        action="edit",
        from_state=posting.state,
        to_state=posting.state,
        actor=actor,
        note=", ".join(changed)[:300],
    )
    audit_record(
        action="update",
        actor=actor,
        target=posting,
        summary=f"修改岗位：{posting.title}（{', '.join(changed)}）",
    )
    return changed


def publishing_problems(posting: Posting, *, today: dt.date) -> dict[str, str]:
    """What stops a posting from going before students, by field (empty when nothing)."""
    problems: dict[str, str] = {}
    if len(posting.description.strip()) < 10:
        problems["description"] = "请填写岗位描述（至少 10 个字）"
    for name in FACT_FIELDS:
        if not getattr(posting, name).strip():
            problems[name] = f"发布前须写明{FACT_LABELS[name]}"
    if posting.closing_date is None:
        problems["closing_date"] = "发布前须填写截止日期"
    elif posting.closing_date < today:
        problems["closing_date"] = "截止日期已过，请修改后再提交"
    if posting.salary_min is None and posting.salary_max is None:
        problems["salary_min"] = "发布前须写明月薪范围"
    return problems


def _posting_party(actor: User | None, posting: Posting) -> str:
    return _actor_party(actor, posting.enterprise)


def _posting_guard(step: Step[Posting]) -> None:
    posting, today = step.row, timezone.localdate(step.now)
    if "due" in step.move.checks and not posting.is_expired_on(today):
        raise ApplicationError("岗位尚未到截止日期")
    if "publishable" in step.move.checks:
        if not posting.enterprise.is_verified:
            raise ApplicationError("企业尚未通过人社局认证，不能提交或发布岗位")
        problems = publishing_problems(posting, today=today)
        if problems:
            raise ValidationError(problems)


def _posting_apply(step: Step[Posting]) -> list[str]:
    posting, action, now = step.row, step.move.action, step.now
    if action == "submit":
        posting.submitted_at, posting.review_note = now, ""
        return ["submitted_at", "review_note"]
    if action == "approve":
        posting.published_at, posting.review_note = now, step.reason[:300]
        return ["published_at", "review_note"]
    if action == "reject":
        posting.review_note = step.reason[:300]
        return ["review_note"]
    if action in ("close", "expire"):
        posting.closed_at = now
        return ["closed_at"]
    return []


def _posting_event(step: Step[Posting]) -> PostingEvent:
    return PostingEvent.objects.create(
        posting=step.row,
        action=step.move.action,
        from_state=step.old,
        to_state=step.new,
        note=step.reason[:300],
        actor=step.actor,
        created_at=step.now,
    )


POSTING_WORKFLOW: Workflow[Posting] = Workflow(
    name="posting",
    model=Posting,
    moves=POSTING_TRANSITIONS,
    party=_posting_party,
    select_related=("enterprise",),
    reason_field="note",
    reason_required="请填写原因，企业将看到这段说明",
    refused="岗位当前为“{state}”，不能{label}",
    guard=_posting_guard,
    apply=_posting_apply,
    event=_posting_event,
    summary=lambda step: f"岗位 {step.row.title}：{step.label(step.old)} → {step.label(step.new)}",
    effects=lambda step: _posting_effects(step),
)


def posting_transition(
    *,
    actor: User | None,
    posting: Posting,
    action: str,
    note: str = "",
    now: dt.datetime | None = None,
) -> Posting:
    """Moves a posting through ``POSTING_WORKFLOW`` (qinghe.core.workflow.transition)."""
    return transition(
        POSTING_WORKFLOW,
        row=posting,
        action=action,
        actor=actor,
        reason=note,
        now=now,
    )


# The moves the enterprise learns of in 我的消息 (and by e-mail): what staff or the clock did
# to its posting. Its own moves (submit, withdraw, revise, close) need no message.
POSTING_OUTCOME_SUBJECTS: dict[str, str] = {
    "approve": "岗位“{title}”已审核通过并发布",
    "reject": "岗位“{title}”被退回修改",
    "expire": "岗位“{title}”已到期下线",
    "close": "岗位“{title}”已被工作人员关闭",
}


def _posting_effects(step: Step[Posting]) -> None:
    _queue_matching_update(step.row.pk, step.old, step.new)
    _notify_posting_outcome(step)


def _notify_posting_outcome(step: Step[Posting]) -> None:
    """Tells the enterprise's active HR users, in the transition's transaction."""
    from django.urls import reverse

    from qinghe.accounts.models import User
    from qinghe.notifications.models import Category, Channel
    from qinghe.notifications.services import make_key, notify

    action = step.move.action
    if action not in POSTING_OUTCOME_SUBJECTS or (action == "close" and step.party != STAFF):
        return
    posting = step.row
    subject = "【青鹤】" + POSTING_OUTCOME_SUBJECTS[action].format(title=posting.title)
    body = subject.removeprefix("【青鹤】") + "。"
    if step.reason:
        body += f"\n说明：{step.reason[:300]}"
    url = reverse("jobs:my_detail", args=[posting.pk])
    hr_users = User.objects.filter(
        organisation_id=posting.enterprise.organisation_id,
        role=Role.ENTERPRISE_HR,
        is_active=True,
    ).order_by("pk")
    for user in hr_users:
        notify(
            user=user,
            channels=(Channel.INBOX, Channel.EMAIL),
            category=Category.SYSTEM,
            subject=subject,
            body=body,
            key=make_key("posting-outcome", posting.pk, action, step.now.isoformat()),
            template=f"jobs.posting_{action}",
            data={"url": url, "posting": posting.pk},
        )


def _queue_matching_update(posting_id: int, old: str, new: str) -> None:
    """Recommendations follow postings as they open and close (after the commit)."""
    from qinghe.matching import tasks as matching_tasks

    if new == Posting.State.PUBLISHED and old != new:
        transaction.on_commit(lambda: matching_tasks.posting_published.enqueue(posting_id))
    elif old == Posting.State.PUBLISHED and new != old:
        transaction.on_commit(lambda: matching_tasks.posting_closed.enqueue(posting_id))


def posting_submit(*, actor: User, posting: Posting, **kwargs: Any) -> Posting:
    return posting_transition(actor=actor, posting=posting, action="submit", **kwargs)


def posting_approve(*, actor: User, posting: Posting, **kwargs: Any) -> Posting:
    return posting_transition(actor=actor, posting=posting, action="approve", **kwargs)


def posting_reject(*, actor: User, posting: Posting, note: str, **kwargs: Any) -> Posting:
    return posting_transition(actor=actor, posting=posting, action="reject", note=note, **kwargs)


def posting_close(*, actor: User, posting: Posting, **kwargs: Any) -> Posting:
    return posting_transition(actor=actor, posting=posting, action="close", **kwargs)


def postings_expire(*, now: dt.datetime | None = None) -> int:
    """Moves every published posting past its closing date to 'expired'. Returns how many.
    Each posting moves in its own transaction, so one failure does not hold the others."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    due = list(
        Posting.objects.filter(state=Posting.State.PUBLISHED, closing_date__lt=today).values_list(
            "pk", flat=True
        )
    )
    moved = 0
    for pk in due:
        try:
            posting_transition(actor=None, posting=Posting(pk=pk), action="expire", now=now)
        except ApplicationError:
            continue  # closed by its enterprise in the meantime
        moved += 1
    return moved


def quality_problems(posting: Posting, criteria: list[str]) -> list[str]:
    """The criteria a posting does not meet (the texts), given the attested ones."""
    unmet: list[str] = []
    if posting.kind != Posting.Kind.JOB:
        unmet.append(CRITERIA_BY_CODE["full_time"].text)
    if (posting.salary_min or 0) < QUALITY_MIN_SALARY or posting.salary_max is None:
        unmet.append(CRITERIA_BY_CODE["salary"].text)
    if any(not getattr(posting, name).strip() for name in FACT_FIELDS):
        unmet.append(CRITERIA_BY_CODE["facts"].text)
    for code in ATTESTED_CRITERIA:
        if code not in criteria:
            unmet.append(CRITERIA_BY_CODE[code].text)
    return unmet


@transaction.atomic
def posting_certify_quality(
    *,
    actor: User,
    posting: Posting,
    criteria: list[str],
    note: str = "",
    now: dt.datetime | None = None,
) -> Posting:
    """HR bureau staff certify a published full-time job as a 优质岗位 against the written
    criteria (``workflow.QUALITY_CRITERIA``). Audited."""
    if not is_enterprise_staff(actor):
        raise PermissionDenied("只有人社局工作人员可以认定优质岗位")
    posting = (
        Posting.objects.select_for_update(of=("self",))
        .select_related("enterprise")
        .get(pk=posting.pk)
    )
    if posting.state != Posting.State.PUBLISHED:
        raise ApplicationError("只有已发布的岗位可以认定为优质岗位")
    if posting.is_quality:
        raise ApplicationError("该岗位已经是优质岗位")
    criteria = sorted({c for c in criteria if c in CRITERIA_BY_CODE})
    unmet = quality_problems(posting, criteria)
    if unmet:
        raise ApplicationError("未满足优质岗位标准：" + "；".join(unmet), extra={"unmet": unmet})
    now = now or timezone.now()
    posting.is_quality = True
    posting.quality_criteria = sorted({*criteria, "full_time", "salary", "facts"})
    posting.quality_note = (note or "").strip()[:300]
    posting.quality_certified_by = actor
    posting.quality_certified_at = now
    posting.save(
        update_fields=[
            "is_quality",
            "quality_criteria",
            "quality_note",
            "quality_certified_by",
            "quality_certified_at",
            "updated_at",
        ]
    )
    PostingEvent.objects.create(
        posting=posting,
        action="certify_quality",
        from_state=posting.state,
        to_state=posting.state,
        note=posting.quality_note,
        actor=actor,
        created_at=now,
    )
    audit_record(
        action="update",
        actor=actor,
        target=posting,
        summary=f"认定优质岗位：{posting.enterprise.name} {posting.title}",
        reason=posting.quality_note,
        data={"quality": True, "criteria": posting.quality_criteria},
    )
    return posting


@transaction.atomic
def posting_revoke_quality(*, actor: User, posting: Posting, reason: str) -> Posting:
    if not is_enterprise_staff(actor):
        raise PermissionDenied("只有人社局工作人员可以撤销优质岗位")
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationError({"reason": "请填写撤销原因"})
    posting = (
        Posting.objects.select_for_update(of=("self",))
        .select_related("enterprise")
        .get(pk=posting.pk)
    )
    if not posting.is_quality:
        raise ApplicationError("该岗位不是优质岗位")
    posting.is_quality = False
    posting.save(update_fields=["is_quality", "updated_at"])
    PostingEvent.objects.create(
        posting=posting,
        action="revoke_quality",
        from_state=posting.state,
        to_state=posting.state,
        note=reason[:300],
        actor=actor,
    )
    audit_record(
        action="update",
        actor=actor,
        target=posting,
        summary=f"撤销优质岗位：{posting.enterprise.name} {posting.title}",
        reason=reason,
        data={"quality": False},
    )
    return posting


@transaction.atomic
def favourite_toggle(*, user: User, posting: Posting) -> bool:
    """Saves or un-saves a posting; returns whether it is now saved."""
    deleted, _ = Favourite.objects.filter(user=user, posting=posting).delete()
    if deleted:
        return False
    Favourite.objects.get_or_create(user=user, posting=posting)
    return True
