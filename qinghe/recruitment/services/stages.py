"""Pipeline stages: the platform's defaults (seeded by migration jobs/0002 and put back here,
on a write path, if a database lost them) and an enterprise's own stages."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import transaction

from qinghe.accounts.models import User
from qinghe.core.audit import audit_record
from qinghe.core.errors import ApplicationError, NotFound, PermissionDenied
from qinghe.core.roles import Role
from qinghe.enterprises.models import Enterprise

from .. import pipeline
from ..default_stages import DEFAULT_STAGES
from ..models import PipelineStage
from ..selectors import stages_for


def default_stages_ensure() -> None:
    """The platform's default stages are seeded by migration jobs/0002. Should they be missing
    (a database flushed by tests, or rows removed by hand), they are put back, never changed.
    Called by the services that need a default stage; selectors only read."""
    if PipelineStage.objects.filter(enterprise__isnull=True).count() >= len(DEFAULT_STAGES):
        return
    for code, name, kind, position, terminal, hire, notify, message in DEFAULT_STAGES:
        PipelineStage.objects.get_or_create(
            enterprise=None,
            code=code,
            defaults={
                "name": name,
                "kind": kind,
                "position": position,
                "is_terminal": terminal,
                "counts_as_hire": hire,
                "notify_student": notify,
                "message_template": message,
            },
        )


def default_stage(code: str) -> PipelineStage:
    """The platform's default stage ``code`` for a write (seeded first if missing)."""
    stage = PipelineStage.objects.filter(enterprise__isnull=True, code=code).first()
    if stage is None:
        default_stages_ensure()
        stage = PipelineStage.objects.get(enterprise__isnull=True, code=code)
    return stage


def _require_hr(actor: User, enterprise: Enterprise) -> None:
    if not (
        getattr(actor, "role", None) == Role.ENTERPRISE_HR
        and actor.organisation_id == enterprise.organisation_id
    ):
        raise PermissionDenied("只能管理本企业的招聘阶段")


def _clean_stage_fields(
    *,
    enterprise: Enterprise,
    name: str,
    message_template: str,
    notify_student: bool,
    exclude: int | None,
) -> tuple[str, str]:
    name = (name or "").strip()
    message_template = pipeline.message_template_normalise((message_template or "").strip())
    errors: dict[str, str] = {}
    if not 1 <= len(name) <= 32:
        errors["name"] = "请填写阶段名称（不超过 32 字）"
    elif (
        stages_for(enterprise=enterprise, active_only=False)
        .exclude(pk=exclude or 0)
        .filter(name=name)
        .exists()
    ):
        errors["name"] = "已有同名阶段"
    if len(message_template) > 500:
        errors["message_template"] = "通知内容不能超过 500 字"
    if notify_student and not message_template:
        errors["message_template"] = "要通知学生，请填写通知内容"
    if errors:
        raise ValidationError(errors)
    return name, message_template


@transaction.atomic
def stage_create(
    *,
    actor: User,
    enterprise: Enterprise,
    name: str,
    after: PipelineStage,
    notify_student: bool = False,
    message_template: str = "",
) -> PipelineStage:
    """Adds one of the enterprise's own stages right after ``after`` (a default or own stage
    that is not an end). Own stages never count as a hire and never end an application."""
    _require_hr(actor, enterprise)
    default_stages_ensure()
    if after.enterprise_id not in (None, enterprise.pk):
        raise NotFound("未找到该阶段")
    if after.is_terminal or after.kind in pipeline.FAILURE_KINDS:
        raise ValidationError({"after": "不能加在结束阶段之后"})
    name, message_template = _clean_stage_fields(
        enterprise=enterprise,
        name=name,
        message_template=message_template,
        notify_student=notify_student,
        exclude=None,
    )
    Enterprise.objects.select_for_update().filter(pk=enterprise.pk).first()
    codes = PipelineStage.objects.filter(enterprise=enterprise).values_list("code", flat=True)
    numbers = [int(m.group(1)) for c in codes if (m := re.fullmatch(r"custom-(\d+)", c))]
    stage = PipelineStage.objects.create(
        enterprise=enterprise,
        code=f"custom-{max(numbers, default=0) + 1}",
        name=name,
        kind=PipelineStage.Kind.CUSTOM,
        position=after.position + 1,
        notify_student=notify_student,
        message_template=message_template,
    )
    audit_record(
        action="create",
        actor=actor,
        target=stage,
        summary=f"新增招聘阶段：{name}（{after.name}之后）",
    )
    return stage


@transaction.atomic
def stage_update(
    *,
    actor: User,
    stage: PipelineStage,
    name: str,
    notify_student: bool,
    message_template: str,
    is_active: bool,
) -> list[str]:
    """Renames, (de)activates or changes the message of one of the enterprise's own stages.
    Applications already in a deactivated stage stay there and may move on."""
    stage = (
        PipelineStage.objects.select_for_update(of=("self",))
        .select_related("enterprise")
        .get(pk=stage.pk)
    )
    if stage.enterprise is None:
        raise ApplicationError("平台默认阶段不能修改")
    _require_hr(actor, stage.enterprise)
    name, message_template = _clean_stage_fields(
        enterprise=stage.enterprise,
        name=name,
        message_template=message_template,
        notify_student=notify_student,
        exclude=stage.pk,
    )
    values = {
        "name": name,
        "notify_student": bool(notify_student),
        "message_template": message_template,
        "is_active": bool(is_active),
    }
    changed = [k for k, v in values.items() if getattr(stage, k) != v]
    if not changed:
        return []
    before = {k: getattr(stage, k) for k in changed}
    for k, v in values.items():
        setattr(stage, k, v)
    stage.save(update_fields=changed)
    audit_record(
        action="update",
        actor=actor,
        target=stage,
        summary=f"修改招聘阶段：{stage.name}（{', '.join(changed)}）",
        data={"before": before},
    )
    return changed
