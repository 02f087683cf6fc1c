"""Writes of the recruitment pipeline: applying (with the separate consent to share), the one
transition service that moves an application between stages, and the student's withdrawal.
An enterprise's own stages are in stages.py.

``application_transition`` locks the row, checks the move (``qinghe.recruitment.pipeline``), saves
the changed fields, writes an ApplicationEvent and an audit entry, writes (or undoes) the
talent's destination on a hire, and queues the student's message in the outbox (timeline.py), in the same transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.core.audit import audit_record
from qinghe.core.errors import ApplicationError, NotFound, PermissionDenied
from qinghe.core.roles import Role
from qinghe.enterprises.models import Enterprise
from qinghe.jobs.models import LEVEL_RANK, Posting
from qinghe.talents.models import Consent, Destination, Source, Talent
from qinghe.talents.selectors import talent_for_student
from qinghe.talents.services import consent_record, talent_recompute

from .. import pipeline
from ..models import Application, ApplicationEvent, PipelineStage
from ..selectors import share_consent_in_force
from .stages import default_stage
from .timeline import (
    KIND_APPLIED,
    KIND_STAGE,
    interviews_cancel_open,
    notify_enterprise_new_application,
    notify_student,
    stage_message,
)

SELF_ROLES = (Role.STUDENT, Role.AMBASSADOR)
HESHAN_REGION = "广东省江门市鹤山市"
SHARED_FIELDS: tuple[tuple[str, str], ...] = (
    ("name", "姓名"),
    ("gender", "性别"),
    ("phone", "手机号"),
    ("email", "电子邮箱"),
    ("educations", "教育经历"),
    ("destinations", "毕业去向"),
)
NOT_SHARED = "身份证号、出生日期、户籍、微信号及工作人员备注不会提供给企业。"


def consent_text(enterprise: Enterprise) -> str:
    return f"同意向【{enterprise.name}】提供以上信息（用途：招聘）"


# --- what is shared ---------------------------------------------------------------------------


PHONE_ACCOUNT = "account"
PHONE_NONE = "none"
PHONE_REFUSED = "所选手机号不是你的号码，请在列出的号码中选择"


def phone_choices(*, user: User | None, talent: Talent) -> list[dict[str, str]]:
    """The phones a student may share with an application, the default first: the sign-up
    phone (``User.phone``) when they have one, then the record's usable numbers (current first,
    the sign-up number not repeated). Each is ``{"value", "label", "number"}``; ``value`` is
    what the form and the API send back."""
    choices: list[dict[str, str]] = []
    account = (getattr(user, "phone", "") or "").strip()
    if account:
        choices.append({"value": PHONE_ACCOUNT, "label": "注册手机号", "number": account})
    for phone in talent.phones.filter(is_wrong=False).order_by("-is_current", "-first_seen", "-id"):
        if phone.number == account:
            continue
        label = "档案中的当前号码" if phone.is_current else "档案中的号码"
        choices.append({"value": str(phone.pk), "label": label, "number": phone.number})
    return choices


def default_phone_choice(choices: list[dict[str, str]]) -> str:
    """What the apply form pre-selects: the sign-up phone when there is one."""
    return choices[0]["value"] if choices else PHONE_NONE


def share_preview(
    *,
    talent: Talent,
    user: User | None = None,
    share_phone: str | None = None,
    share_email: bool = True,
) -> dict[str, Any]:
    """Exactly what an application shares with the enterprise: stored as the application's
    ``shared_snapshot`` and shown to the student before they agree. Never the ID number.

    ``share_phone``: the ``value`` of one of ``phone_choices`` ("account" for the sign-up
    phone, a record phone's id), "none" for no phone; None/"" keeps the
    behaviour from before the choice existed: the record's current number (the API without the
    field, the live room's button). The page pre-selects ``default_phone_choice`` (the sign-up
    phone when there is one) and always sends a choice. Any other value is refused
    (ValidationError) so nothing is created. ``share_email``: False leaves the e-mail out."""
    wanted = (share_phone or "").strip()
    if not wanted:
        # As before the choice existed (the API without it, the live room's button).
        current = (
            talent.phones.filter(is_current=True, is_wrong=False)
            .order_by("-first_seen", "-id")
            .first()
        )
        number = current.number if current else ""
    elif wanted == PHONE_NONE:
        number = ""
    else:
        choices = phone_choices(user=user, talent=talent)
        chosen = next((c for c in choices if c["value"] == wanted), None)
        if chosen is None:
            raise ValidationError({"share_phone": PHONE_REFUSED})
        number = chosen["number"]
    return {
        "name": talent.name,
        "gender": talent.get_gender_display() if talent.gender else "",
        "phone": number,
        "email": talent.email if share_email else "",
        "educations": [
            {
                "university": e.university_name,
                "major": e.major_name,
                "level": e.get_level_display() if e.level else "",
                "enrolment_year": e.enrolment_year,
                "graduation_year": e.graduation_year,
                "double_first_class": e.is_double_first_class,
            }
            for e in talent.educations.order_by("-graduation_year", "-id")
        ],
        "destinations": [
            {
                "kind": d.get_kind_display(),
                "employer": d.employer,
                "region": d.region_text,
                "year": d.year,
            }
            for d in talent.destinations.order_by("-year", "-id")
        ],
    }


def talent_level_rank(talent: Talent) -> int | None:
    """The highest known education level as a LEVEL_RANK, or None when none is known."""
    ranks = [
        LEVEL_RANK[level]
        for level in talent.educations.exclude(level="").values_list("level", flat=True)
        if level in LEVEL_RANK
    ]
    return max(ranks) if ranks else None


# --- applying ---------------------------------------------------------------------------------


@transaction.atomic
def application_apply(
    *,
    actor: User,
    posting: Posting,
    consent: bool,
    cover_letter: str = "",
    share_phone: str | None = None,
    share_email: bool = True,
    now: dt.datetime | None = None,
) -> Application:
    """Applies in one step: the share-with-this-enterprise consent, the application with the
    exact data shared, its first event, the audit entry. Refused (nothing written) when the
    posting takes no applications, the student applied already, did not consent, or chose a
    phone that is not theirs. ``share_phone``/``share_email``: see ``share_preview``."""
    if getattr(actor, "role", None) not in SELF_ROLES:
        raise PermissionDenied("只有学生可以投递岗位")
    talent = talent_for_student(user=actor)
    if talent is None:
        raise ApplicationError("投递前请先认领你的人才档案（我的档案 → 认领）")
    now = now or timezone.now()
    posting = (
        Posting.objects.select_for_update(of=("self",))
        .select_related("enterprise", "enterprise__organisation", "town")
        .get(pk=posting.pk)
    )
    if not posting.accepts_applications(today=timezone.localdate(now)):
        raise ApplicationError("该岗位已截止、已关闭或企业未通过认证，不再接收投递")
    if Application.objects.filter(posting=posting, talent=talent).exists():
        raise ApplicationError("你已投递过该岗位，可在“我的投递”查看进度")
    if not consent:
        raise ValidationError({"consent": f"请勾选“{consent_text(posting.enterprise)}”后再投递"})
    cover_letter = (cover_letter or "").strip()
    if len(cover_letter) > 2000:
        raise ValidationError({"cover_letter": "求职说明不能超过 2000 字"})
    required = LEVEL_RANK.get(posting.min_level, 0)
    rank = talent_level_rank(talent)
    if required and rank is not None and rank < required:
        raise ApplicationError(f"该岗位要求{posting.get_min_level_display()}及以上学历")
    snapshot = share_preview(
        talent=talent, user=actor, share_phone=share_phone, share_email=share_email
    )
    snapshot["shared_at"] = now.isoformat()
    snapshot["purpose"] = "招聘"
    consent_row = consent_record(
        talent=talent,
        purpose=Consent.Purpose.SHARE_ENTERPRISE,
        granted=True,
        actor=actor,
        enterprise=posting.enterprise.organisation,
    )
    stage = default_stage(pipeline.APPLIED)
    application = Application.objects.create(
        posting=posting,
        enterprise=posting.enterprise,
        talent=talent,
        applicant=actor,
        stage=stage,
        consent=consent_row,
        shared_snapshot=snapshot,
        cover_letter=cover_letter,
        applied_at=now,
        stage_changed_at=now,
    )
    text = stage_message(stage, application)
    event = ApplicationEvent.objects.create(
        application=application,
        action=ApplicationEvent.Action.APPLY,
        from_stage=None,
        to_stage=stage,
        message=text,
        message_sent=bool(text),
        actor=actor,
        created_at=now,
    )
    if text:
        notify_student(event=event, kind=KIND_APPLIED)
    notify_enterprise_new_application(application=application)
    audit_record(
        action="create",
        actor=actor,
        target=application,
        summary=f"投递岗位：{posting.enterprise.name} {posting.title}（同意向该企业提供个人信息）",
        data={"posting": posting.pk, "consent": consent_row.pk},
    )
    return application


# --- the one transition service -----------------------------------------------------------------


def _party(actor: User, application: Application) -> str:
    """Which side of the application the actor is; PermissionDenied for anyone else."""
    role = getattr(actor, "role", None)
    if (
        role == Role.ENTERPRISE_HR
        and actor.organisation_id == application.enterprise.organisation_id
    ):
        return pipeline.ENTERPRISE
    if role in SELF_ROLES and actor.pk == application.applicant_id:
        return pipeline.STUDENT
    raise PermissionDenied("无权操作该申请")


def share_in_force(application: Application) -> bool:
    return bool(
        Application.objects.filter(pk=application.pk)
        .annotate(granted=share_consent_in_force())
        .values_list("granted", flat=True)
        .first()
    )


def require_enterprise_side(actor: User, application: Application) -> None:
    """The enterprise acts only on its own applicants whose sharing consent is in force; any
    other application is, for it, missing."""
    try:
        party = _party(actor, application)
    except PermissionDenied:
        raise NotFound() from None
    if party != pipeline.ENTERPRISE or not share_in_force(application):
        raise NotFound()


def _hire_destination(application: Application, now: dt.datetime) -> Destination | None:
    """The destination a hire writes on the talent: employment in Heshan for a full-time job.
    An internship or traineeship is a placement, not employment: no destination."""
    posting = application.posting
    if posting.kind != Posting.Kind.JOB:
        return None
    talent = application.talent
    while talent.merged_into_id:  # the record may have been merged since the application
        talent = Talent.objects.get(pk=talent.merged_into_id)
    enterprise = application.enterprise
    return Destination.objects.create(
        talent=talent,
        kind=Destination.Kind.EMPLOYED,
        employer=enterprise.name,
        employer_uscc=enterprise.uscc,
        region_text=f"{HESHAN_REGION}{posting.town.name}",
        area=Destination.Area.HESHAN,
        industry=enterprise.industry,
        start_date=posting.start_date,
        year=timezone.localdate(now).year,
        source=Source.STAFF,
        source_ref=f"application:{application.pk}",
    )


@transaction.atomic
def application_transition(
    *,
    actor: User,
    application: Application,
    stage: PipelineStage,
    note: str = "",
    extra_message: str = "",
    kind: str = "",
    now: dt.datetime | None = None,
) -> Application:
    """Moves an application to a stage. See the module docstring; the rules are
    ``pipeline.move_refusal``. ``extra_message`` is appended to the stage's message (an
    interview invitation's details); ``kind`` names the student's message (default: a stage
    change)."""
    now = now or timezone.now()
    application = (
        Application.objects.select_for_update(of=("self",))
        .select_related(
            "stage", "posting", "posting__town", "enterprise", "enterprise__industry", "talent"
        )
        .get(pk=application.pk)
    )
    party = _party(actor, application)
    if party == pipeline.ENTERPRISE and not share_in_force(application):
        raise NotFound()
    if stage.enterprise_id not in (None, application.enterprise_id):
        raise NotFound("未找到该阶段")
    note = (note or "").strip()
    if len(note) > 500:
        raise ValidationError({"note": "说明不能超过 500 字"})
    if stage.kind == pipeline.WITHDRAWN and len(note) < 2:
        raise ValidationError({"reason": "请填写撤回原因"})
    hired = application.hired_at is not None
    refusal = pipeline.move_refusal(current=application.stage, target=stage, by=party, hired=hired)
    if refusal:
        raise ApplicationError(refusal)
    old = application.stage
    application.stage = stage
    application.stage_changed_at = now
    update = ["stage", "stage_changed_at", "updated_at"]
    removed: Destination | None = None
    if pipeline.makes_hire(target=stage, hired=hired):
        application.hired_at = now
        application.destination = _hire_destination(application, now)
        update += ["hired_at", "destination"]
    elif pipeline.undoes_hire(target=stage, hired=hired):
        removed = application.destination
        application.hired_at = None
        application.destination = None
        update += ["hired_at", "destination"]
    if stage.kind == pipeline.WITHDRAWN:
        application.withdrawn_at = now
        update.append("withdrawn_at")
    application.save(update_fields=update)
    if removed is not None:
        removed.delete()
    if "hired_at" in update:
        talent_recompute(talent=_current_talent(application.talent))
    if stage.is_terminal:
        interviews_cancel_open(application=application, actor=actor, reason=f"申请已{stage.name}")
    text = "\n".join(t for t in (stage_message(stage, application), extra_message.strip()) if t)
    event = ApplicationEvent.objects.create(
        application=application,
        action=ApplicationEvent.Action.WITHDRAW
        if stage.kind == pipeline.WITHDRAWN
        else ApplicationEvent.Action.MOVE,
        from_stage=old,
        to_stage=stage,
        note=note,
        message=text,
        message_sent=bool(text),
        actor=actor,
        created_at=now,
    )
    if text:
        notify_student(event=event, kind=kind or KIND_STAGE)
    summary = f"申请 #{application.pk}（{application.posting.title}）：{old.name} → {stage.name}"
    if application.destination_id and "destination" in update:
        summary += "；录用，写入毕业去向"
    elif removed is not None:
        summary += "；撤销录用，删除平台写入的毕业去向"
    audit_record(
        action="transition",
        actor=actor,
        target=application,
        summary=summary,
        reason=note,
        data={"from": old.code, "to": stage.code, "hired": application.hired_at is not None},
    )
    return application


def _current_talent(talent: Talent) -> Talent:
    while talent.merged_into_id:
        talent = Talent.objects.get(pk=talent.merged_into_id)
    return talent


def application_withdraw(*, actor: User, application: Application, reason: str) -> Application:
    """The student withdraws their application (reason kept)."""
    return application_transition(
        actor=actor,
        application=application,
        stage=default_stage(pipeline.WITHDRAWN),
        note=reason,
    )


def stage_for_move(*, application: Application, stage_id: int | str) -> PipelineStage:
    """A stage the application's enterprise may use (defaults or its own), by id or code."""
    qs = PipelineStage.objects.filter(enterprise__isnull=True) | PipelineStage.objects.filter(
        enterprise_id=application.enterprise_id
    )
    key = str(stage_id).strip()
    stage = (
        qs.filter(pk=int(key)).first()
        if key.isdigit()
        else qs.filter(code=key).order_by("enterprise_id").first()
    )
    if stage is None:
        raise NotFound("未找到该阶段")
    return stage
