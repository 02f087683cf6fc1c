"""Writes for enterprises and internship bases. The enterprise's verification and the
internship base's certification are status tables (``ENTERPRISE_TRANSITIONS``,
``BASE_TRANSITIONS``) run by the one engine, ``qinghe.core.workflow.transition``: lock the row,
check the move against the table, save, write an EnterpriseEvent and an audit entry."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from qinghe.accounts.models import Organisation, User
from qinghe.accounts.phones import InvalidPhone, normalize_phone
from qinghe.accounts.services import user_create
from qinghe.core.audit import audit_record
from qinghe.core.errors import ApplicationError, PermissionDenied
from qinghe.core.roles import Role
from qinghe.core.workflow import Move, Step, Workflow, table, transition
from qinghe.reference.models import Industry, Town

from .models import Enterprise, EnterpriseEvent, InternshipBase
from .selectors import is_enterprise_staff
from .uscc import validate_uscc

_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")

DUPLICATE_USCC = "该统一社会信用代码已经注册。如您是该企业的人事，请联系本企业已有的账号把您添加为同事，或致电鹤山市人社局。"
DUPLICATE_NAME = "该企业名称已经注册，请核对名称或联系鹤山市人社局。"


def normalise_contact_phone(raw: str) -> str:
    """A mobile number in its normal form, or a landline like 0750-8888888."""
    text = (raw or "").strip().replace(" ", "")
    if not text:
        raise ValidationError({"contact_phone": "请填写联系电话"})
    try:
        return normalize_phone(text)
    except InvalidPhone:
        if _LANDLINE.match(text):
            return text
        raise ValidationError(
            {"contact_phone": "请填写有效的手机号或固定电话（如 0750-8888888）"}
        ) from None


@dataclass
class ProfileData:
    """The editable profile of an enterprise (everything but its code and name)."""

    industry: Industry
    town: Town
    size: str
    contact_name: str
    contact_phone: str
    park: str = ""
    address: str = ""
    description: str = ""

    def clean(self) -> dict[str, Any]:
        errors: dict[str, str] = {}
        if self.industry is None or self.industry.level != Industry.Level.DIVISION:
            errors["industry"] = "请选择行业大类（GB/T 4754 两位代码）"
        if self.town is None:
            errors["town"] = "请选择所在镇街"
        if self.size not in Enterprise.Size.values:
            errors["size"] = "请选择企业规模"
        if self.park not in Enterprise.Park.values:
            errors["park"] = "请选择所在园区"
        if not (self.contact_name or "").strip():
            errors["contact_name"] = "请填写联系人"
        if len(self.description or "") > 5000:
            errors["description"] = "企业简介不能超过 5000 字"
        phone = ""
        try:
            phone = normalise_contact_phone(self.contact_phone)
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
        if errors:
            raise ValidationError(errors)
        return {
            "industry": self.industry,
            "town": self.town,
            "size": self.size,
            "park": self.park,
            "address": (self.address or "").strip()[:200],
            "description": (self.description or "").strip(),
            "contact_name": self.contact_name.strip()[:64],
            "contact_phone": phone,
        }


def _event(
    enterprise: Enterprise,
    *,
    action: str,
    from_state: str,
    to_state: str,
    actor: User | None,
    note: str = "",
    base: InternshipBase | None = None,
) -> EnterpriseEvent:
    return EnterpriseEvent.objects.create(
        enterprise=enterprise,
        internship_base=base,
        action=action,
        from_state=from_state,
        to_state=to_state,
        note=note[:300],
        actor=actor if getattr(actor, "pk", None) else None,
    )


@transaction.atomic
def enterprise_register(
    *,
    uscc: str,
    name: str,
    profile: ProfileData,
    username: str,
    display_name: str,
    password: str,
    phone: str = "",
) -> Enterprise:
    """Registers an enterprise (pending verification) and its first HR account. On any error
    nothing is created."""
    errors: dict[str, Any] = {}
    code = ""
    try:
        code = validate_uscc(uscc)
    except ValidationError as exc:
        errors["uscc"] = exc.messages[0]
    name = re.sub(r"\s+", "", name or "")
    if not name:
        errors["name"] = "请填写企业名称（与营业执照一致）"
    try:
        fields = profile.clean()
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
        fields = {}
    if code and Enterprise.objects.filter(uscc=code).exists():
        errors["uscc"] = DUPLICATE_USCC
    if name and (
        Enterprise.objects.filter(name=name).exists()
        or Organisation.objects.filter(kind=Organisation.Kind.ENTERPRISE, name=name).exists()
    ):
        errors["name"] = DUPLICATE_NAME
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            organisation = Organisation.objects.create(
                kind=Organisation.Kind.ENTERPRISE, name=name, code=code
            )
            enterprise = Enterprise.objects.create(
                organisation=organisation, uscc=code, name=name, **fields
            )
    except IntegrityError as exc:  # a concurrent registration of the same code or name
        raise ValidationError({"uscc": DUPLICATE_USCC}) from exc
    user = user_create(
        username=(username or "").strip(),
        password=password,
        role=Role.ENTERPRISE_HR,
        display_name=(display_name or "").strip(),
        phone=phone,
        organisation=organisation,
    )
    _event(enterprise, action="register", from_state="", to_state=enterprise.state, actor=user)
    audit_record(
        action="create",
        actor=user,
        target=enterprise,
        summary=f"企业注册：{name}（{code}），待人社局审核",
    )
    return enterprise


def _require_own(actor: User, enterprise: Enterprise) -> None:
    if not (
        actor.role == Role.ENTERPRISE_HR and actor.organisation_id == enterprise.organisation_id
    ):
        raise PermissionDenied("只能管理本企业的信息")


@transaction.atomic
def enterprise_update_profile(
    *, actor: User, enterprise: Enterprise, profile: ProfileData
) -> list[str]:
    """The enterprise's HR edits its profile. Returns the changed field names."""
    _require_own(actor, enterprise)
    fields = profile.clean()
    enterprise = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
    changed = [f for f, v in fields.items() if getattr(enterprise, f) != v]
    if not changed:
        return []
    for field in changed:
        setattr(enterprise, field, fields[field])
    enterprise.save(update_fields=[*changed, "updated_at"])
    audit_record(
        action="update",
        actor=actor,
        target=enterprise,
        summary=f"修改企业信息：{', '.join(changed)}",
    )
    return changed


# --- The enterprise's verification, on qinghe.core.workflow ------------------------------------

STAFF = "staff"
ENTERPRISE = "enterprise"
E = Enterprise.State
STAFF_ONLY = "只有人社局工作人员可以审核企业"
OWN_ONLY = "只能管理本企业的信息"

ENTERPRISE_TRANSITIONS: dict[str, Move] = table(
    Move(
        "verify",
        "认证通过",
        frozenset({E.PENDING}),
        E.VERIFIED,
        frozenset({STAFF}),
        denied=STAFF_ONLY,
    ),
    Move(
        "reject",
        "不予认证/撤销认证",
        frozenset({E.PENDING, E.VERIFIED}),
        E.REJECTED,
        frozenset({STAFF}),
        needs_reason=True,
        denied=STAFF_ONLY,
    ),
    Move(
        "resubmit",
        "修改后重新提交",
        frozenset({E.REJECTED}),
        E.PENDING,
        frozenset({ENTERPRISE}),
        denied=OWN_ONLY,
    ),
)


def _enterprise_party(actor: User | None, enterprise: Enterprise) -> str | None:
    if is_enterprise_staff(actor):
        return STAFF
    if (
        actor is not None
        and actor.role == Role.ENTERPRISE_HR
        and actor.organisation_id == enterprise.organisation_id
    ):
        return ENTERPRISE
    return None


def _enterprise_apply(step: Step[Enterprise]) -> list[str]:
    enterprise = step.row
    if step.move.action == "verify":
        enterprise.verified_by, enterprise.verified_at = step.actor, step.now
        enterprise.reject_reason = ""
        return ["verified_by", "verified_at", "reject_reason"]
    if step.move.action == "reject":
        enterprise.reject_reason = step.reason[:300]
        return ["reject_reason"]
    return []


ENTERPRISE_WORKFLOW: Workflow[Enterprise] = Workflow(
    name="enterprise",
    model=Enterprise,
    moves=ENTERPRISE_TRANSITIONS,
    party=_enterprise_party,
    reason_required="请填写原因，企业将看到这段说明",
    refused="企业当前状态为“{state}”，不能{label}",
    apply=_enterprise_apply,
    event=lambda step: _event(
        step.row,
        action=step.move.action,
        from_state=step.old,
        to_state=step.new,
        actor=step.actor,
        note=step.reason,
    ),
    summary=lambda step: f"企业 {step.row.name}：{step.label(step.old)} → {step.label(step.new)}",
    effects=lambda step: _notify_verification_outcome(step),
)

VERIFICATION_SUBJECTS: dict[str, str] = {
    "verify": "【青鹤】企业“{name}”已通过认证",
    "reject": "【青鹤】企业“{name}”未通过认证",
}


def _notify_verification_outcome(step: Step[Enterprise]) -> None:
    """Tells the enterprise's active HR users the outcome of staff's review, in the same
    transaction (inbox and e-mail)."""
    from django.urls import reverse

    from qinghe.notifications.models import Category, Channel
    from qinghe.notifications.services import make_key, notify

    action = step.move.action
    if action not in VERIFICATION_SUBJECTS:
        return
    enterprise = step.row
    subject = VERIFICATION_SUBJECTS[action].format(name=enterprise.name)
    if action == "verify":
        body = "贵企业已通过认证，可以发布岗位。"
    else:
        body = f"贵企业未通过认证。\n原因：{step.reason[:300]}\n请修改企业信息后重新提交。"
    hr_users = User.objects.filter(
        organisation_id=enterprise.organisation_id, role=Role.ENTERPRISE_HR, is_active=True
    ).order_by("pk")
    for user in hr_users:
        notify(
            user=user,
            channels=(Channel.INBOX, Channel.EMAIL),
            category=Category.SYSTEM,
            subject=subject,
            body=body,
            key=make_key("enterprise-verification", enterprise.pk, action, step.now.isoformat()),
            template=f"enterprises.{action}",
            data={"url": reverse("enterprises:mine"), "enterprise": enterprise.pk},
        )


def enterprise_transition(
    *,
    actor: User,
    enterprise: Enterprise,
    action: str,
    reason: str = "",
) -> Enterprise:
    return transition(
        ENTERPRISE_WORKFLOW,
        row=enterprise,
        action=action,
        actor=actor,
        reason=reason,
    )


@transaction.atomic
def enterprise_set_key(*, actor: User, enterprise: Enterprise, is_key: bool) -> Enterprise:
    if not is_enterprise_staff(actor):
        raise PermissionDenied("只有人社局工作人员可以设置重点企业")
    enterprise = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
    if enterprise.is_key == is_key:
        return enterprise
    enterprise.is_key = is_key
    enterprise.save(update_fields=["is_key", "updated_at"])
    audit_record(
        action="update",
        actor=actor,
        target=enterprise,
        summary=f"{'设为' if is_key else '取消'}重点企业：{enterprise.name}",
    )
    return enterprise


@transaction.atomic
def colleague_add(
    *,
    actor: User,
    enterprise: Enterprise,
    username: str,
    display_name: str,
    password: str,
    phone: str = "",
) -> User:
    """An enterprise's HR adds a colleague: another HR account of the same enterprise."""
    _require_own(actor, enterprise)
    if not enterprise.is_verified:
        raise ApplicationError("企业通过认证后才能添加同事账号")
    if not (display_name or "").strip():
        raise ValidationError({"display_name": "请填写同事姓名"})
    user = user_create(
        username=(username or "").strip(),
        password=password,
        role=Role.ENTERPRISE_HR,
        display_name=display_name.strip(),
        phone=phone,
        organisation=enterprise.organisation,
        actor=actor,
    )
    audit_record(
        action="create",
        actor=actor,
        target=enterprise,
        summary=f"添加企业人事账号 {user.username}",
    )
    return user


# --- Internship bases --------------------------------------------------------------------------

B = InternshipBase.State
BASE_STAFF_ONLY = "只有人社局工作人员可以审核实习基地"
BASE_TRANSITIONS: dict[str, Move] = table(
    Move("certify", "认定", frozenset({B.APPLIED}), B.CERTIFIED, frozenset({STAFF})),
    Move(
        "reject",
        "不予认定",
        frozenset({B.APPLIED}),
        B.REJECTED,
        frozenset({STAFF}),
        needs_reason=True,
    ),
    Move(
        "revoke",
        "撤销认定",
        frozenset({B.CERTIFIED}),
        B.REVOKED,
        frozenset({STAFF}),
        needs_reason=True,
    ),
)


def _base_validate(step: Step[InternshipBase]) -> None:
    if step.move.action != "certify":
        return
    valid_from, valid_to = step.params.get("valid_from"), step.params.get("valid_to")
    if valid_from is None or valid_to is None:
        raise ValidationError({"valid_to": "请填写认定有效期"})
    if valid_to <= valid_from:
        raise ValidationError({"valid_to": "有效期结束日期应晚于开始日期"})


def _base_apply(step: Step[InternshipBase]) -> list[str]:
    base = step.row
    base.decision_note = step.reason[:300]
    if step.move.action != "certify":
        return ["decision_note"]
    base.valid_from, base.valid_to = step.params["valid_from"], step.params["valid_to"]
    base.certified_by, base.certified_at = step.actor, step.now
    return ["decision_note", "valid_from", "valid_to", "certified_by", "certified_at"]


def _base_event(step: Step[InternshipBase]) -> EnterpriseEvent:
    certify = step.move.action == "certify"
    validity = f"有效期 {step.params.get('valid_from')}–{step.params.get('valid_to')}"
    return _event(
        step.row.enterprise,
        action=f"base_{step.move.action}",
        from_state=step.old,
        to_state=step.new,
        actor=step.actor,
        note=step.reason or (validity if certify else ""),
        base=step.row,
    )


INTERNSHIP_BASE_WORKFLOW: Workflow[InternshipBase] = Workflow(
    name="internship_base",
    model=InternshipBase,
    moves=BASE_TRANSITIONS,
    party=lambda actor, base: STAFF if is_enterprise_staff(actor) else None,
    denied=BASE_STAFF_ONLY,
    select_related=("enterprise",),
    refused="该申请当前为“{state}”，不能{label}",
    validate=_base_validate,
    apply=_base_apply,
    event=_base_event,
    summary=lambda step: (
        f"实习基地 {step.row.enterprise.name}：{step.label(step.old)} → {step.label(step.new)}"
    ),
    audit_data=lambda step: {
        "action": step.move.action,
        "from": step.old,
        "to": step.new,
        "valid_from": str(step.params.get("valid_from") or ""),
        "valid_to": str(step.params.get("valid_to") or ""),
    },
)


@transaction.atomic
def internship_base_apply(
    *,
    actor: User,
    enterprise: Enterprise,
    description: str,
    capacity: int,
    requested_from: dt.date,
    requested_to: dt.date,
) -> InternshipBase:
    _require_own(actor, enterprise)
    enterprise = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
    if not enterprise.is_verified:
        raise ApplicationError("企业通过认证后才能申请实习基地")
    errors: dict[str, str] = {}
    if len((description or "").strip()) < 10:
        errors["description"] = "请介绍实习岗位、带教安排与食宿（至少 10 个字）"
    if not capacity or capacity < 1 or capacity > 2000:
        errors["capacity"] = "每年可接收人数应在 1 到 2000 之间"
    if requested_from and requested_to and requested_to <= requested_from:
        errors["requested_to"] = "结束日期应晚于开始日期"
    if errors:
        raise ValidationError(errors)
    if InternshipBase.objects.filter(enterprise=enterprise, state=B.APPLIED).exists():
        raise ApplicationError("已有一份待审核的实习基地申请")
    base = InternshipBase.objects.create(
        enterprise=enterprise,
        description=description.strip(),
        capacity=capacity,
        requested_from=requested_from,
        requested_to=requested_to,
        applied_by=actor,
    )
    _event(
        enterprise, action="base_apply", from_state="", to_state=base.state, actor=actor, base=base
    )
    audit_record(
        action="create",
        actor=actor,
        target=base,
        summary=f"申请实习基地：{enterprise.name}（{requested_from}–{requested_to}）",
    )
    return base


def internship_base_transition(
    *,
    actor: User,
    base: InternshipBase,
    action: str,
    reason: str = "",
    valid_from: dt.date | None = None,
    valid_to: dt.date | None = None,
) -> InternshipBase:
    return transition(
        INTERNSHIP_BASE_WORKFLOW,
        row=base,
        action=action,
        actor=actor,
        reason=reason,
        valid_from=valid_from,
        valid_to=valid_to,
    )
