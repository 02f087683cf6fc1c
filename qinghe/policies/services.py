"""Writes: rules (validated, versioned, audited), programmes, policies, eligibility checks,
applications (one workflow on qinghe.core.workflow, maker-checker), materials (encrypted at
rest) and payments (once per application and period, enforced by the database)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps as django_apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.core.audit import audit_record
from qinghe.core.errors import ApplicationError, PermissionDenied
from qinghe.core.roles import Role
from qinghe.core.workflow import Move, Step, Workflow, table, transition
from qinghe.jobs.search import document_tokens
from qinghe.notifications.models import Category, Channel
from qinghe.notifications.services import make_key, notify
from qinghe.talents.importing.storage import save_private

from . import builtin, rules, selectors
from .models import (
    Application,
    ApplicationEvent,
    Material,
    Payment,
    Policy,
    PolicyAttachment,
    Programme,
    Rule,
    RuleVersion,
)

STAFF_EDITORS = frozenset({Role.HR_STAFF, Role.SYSADMIN})


def builtin_ensure() -> None:
    """Puts the built-in policies and programmes back if missing (a test flush removes what
    migration 0002 seeded); never overwrites staff edits."""
    builtin.seed(django_apps)


def _require_staff(actor: User) -> None:
    if actor.role not in STAFF_EDITORS:
        raise PermissionDenied("只有人社局工作人员可以进行该操作")


# ------------------------------------------------------------------ rules


_CODE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")


@dataclass(frozen=True)
class RuleInput:
    code: str
    explanation: str
    expression: str
    passes_from: str = ""
    position: int = 0


def _clean_rule(data: RuleInput) -> RuleInput:
    code = (data.code or "").strip()
    if not _CODE.match(code):
        raise ValidationError({"code": "规则代码应为小写字母开头的字母、数字或下划线（2–64 位）"})
    explanation = (data.explanation or "").strip()
    if len(explanation) < 2:
        raise ValidationError({"explanation": "请填写规则的中文说明"})
    if len(explanation) > 300:
        raise ValidationError({"explanation": "说明最多 300 个字符"})
    expression = (data.expression or "").strip()
    rules.check_expression(expression, kind=rules.BOOL, field_name="expression")
    passes_from = (data.passes_from or "").strip()
    if passes_from:
        rules.check_expression(passes_from, kind=rules.DATE, field_name="passes_from")
    return RuleInput(code, explanation, expression, passes_from, data.position)


def _version(rule: Rule, actor: User | None, note: str) -> RuleVersion:
    return RuleVersion.objects.create(
        rule=rule,
        version=rule.version,
        code=rule.code,
        explanation=rule.explanation,
        expression=rule.expression,
        passes_from=rule.passes_from,
        active=rule.active,
        changed_by=actor,
        note=note[:300],
    )


@transaction.atomic
def rule_create(*, actor: User, programme: Programme, data: RuleInput) -> Rule:
    """A new rule, validated before anything is saved; version 1 and an audit row."""
    _require_staff(actor)
    clean = _clean_rule(data)
    if programme.rules.filter(code=clean.code).exists():
        raise ValidationError({"code": f"该项目已有代码为“{clean.code}”的规则"})
    position = clean.position or (programme.rules.count() + 1)
    rule = Rule.objects.create(
        programme=programme,
        code=clean.code,
        explanation=clean.explanation,
        expression=clean.expression,
        passes_from=clean.passes_from,
        position=position,
    )
    _version(rule, actor, "新建")
    audit_record(
        action="policies.rule_create",
        actor=actor,
        target=rule,
        summary=f"新建资格规则 {programme.code}/{rule.code}",
        data={"expression": rule.expression, "passes_from": rule.passes_from, "version": 1},
    )
    return rule


@transaction.atomic
def rule_update(*, actor: User, rule: Rule, data: RuleInput, note: str = "") -> Rule:
    """Edits a rule: validated first (a refusal saves nothing), then a new version row and an
    audit row holding the old and new expressions."""
    _require_staff(actor)
    clean = _clean_rule(data)
    locked = Rule.objects.select_for_update().get(pk=rule.pk)
    if clean.code != locked.code and locked.programme.rules.filter(code=clean.code).exists():
        raise ValidationError({"code": f"该项目已有代码为“{clean.code}”的规则"})
    before = {
        "code": locked.code,
        "explanation": locked.explanation,
        "expression": locked.expression,
        "passes_from": locked.passes_from,
    }
    after = {
        "code": clean.code,
        "explanation": clean.explanation,
        "expression": clean.expression,
        "passes_from": clean.passes_from,
    }
    if before == after:
        return locked
    for name, value in after.items():
        setattr(locked, name, value)
    locked.version += 1
    locked.save()
    _version(locked, actor, note or "修改")
    audit_record(
        action="policies.rule_update",
        actor=actor,
        target=locked,
        summary=f"修改资格规则 {locked.programme.code}/{locked.code}（第 {locked.version} 版）",
        reason=note,
        data={"before": before, "after": after, "version": locked.version},
    )
    return locked


@transaction.atomic
def rule_retire(*, actor: User, rule: Rule, note: str = "") -> Rule:
    _require_staff(actor)
    locked = Rule.objects.select_for_update().get(pk=rule.pk)
    if not locked.active:
        raise ApplicationError("该规则已停用")
    locked.active = False
    locked.version += 1
    locked.save(update_fields=["active", "version"])
    _version(locked, actor, note or "停用")
    audit_record(
        action="policies.rule_retire",
        actor=actor,
        target=locked,
        summary=f"停用资格规则 {locked.programme.code}/{locked.code}",
        reason=note,
        data={"version": locked.version},
    )
    return locked


# ------------------------------------------------------------------ programmes (staff)


@dataclass(frozen=True)
class ProgrammeInput:
    code: str
    name: str
    amount_expression: str
    amount_text: str = ""
    description: str = ""
    schedule: str = Programme.Schedule.ONCE
    periods: int = 1
    materials: tuple[str, ...] = ()
    policy_id: int | None = None


@transaction.atomic
def programme_create(*, actor: User, data: ProgrammeInput) -> Programme:
    """A programme added by staff (Heshan's own: living allowance, rental subsidy ...)."""
    _require_staff(actor)
    code = (data.code or "").strip()
    if not _CODE.match(code):
        raise ValidationError({"code": "项目代码应为小写字母开头的字母、数字或下划线"})
    if Programme.objects.filter(code=code).exists():
        raise ValidationError({"code": f"已有代码为“{code}”的补贴项目"})
    name = (data.name or "").strip()
    if len(name) < 2:
        raise ValidationError({"name": "请填写项目名称"})
    rules.check_expression(data.amount_expression, kind=rules.INT, field_name="amount_expression")
    if data.schedule not in Programme.Schedule.values:
        raise ValidationError({"schedule": "发放方式不正确"})
    if not 1 <= data.periods <= 120 or (data.schedule == "once" and data.periods != 1):
        raise ValidationError({"periods": "期数不正确（一次性发放为 1 期，其余 1–120 期）"})
    policy = Policy.objects.filter(pk=data.policy_id).first() if data.policy_id else None
    programme = Programme.objects.create(
        code=code,
        name=name,
        amount_expression=data.amount_expression.strip(),
        amount_text=data.amount_text.strip(),
        description=data.description.strip(),
        schedule=data.schedule,
        periods=data.periods,
        materials=[m.strip() for m in data.materials if m.strip()],
        policy=policy,
    )
    audit_record(
        action="policies.programme_create",
        actor=actor,
        target=programme,
        summary=f"新建补贴项目 {code} {name}",
        data={"amount_expression": programme.amount_expression},
    )
    return programme


# ------------------------------------------------------------------ policies (staff)


@dataclass(frozen=True)
class PolicyInput:
    title: str
    level: str
    issuer: str
    doc_number: str = ""
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None
    summary: str = ""
    full_text: str = ""
    tags: tuple[str, ...] = ()
    replaces_id: int | None = None


@transaction.atomic
def policy_create(*, actor: User, data: PolicyInput) -> Policy:
    """A published policy. With ``replaces_id`` it is a new version: the old one stays
    readable and points at this one."""
    _require_staff(actor)
    title = data.title.strip()
    if len(title) < 4:
        raise ValidationError({"title": "请填写政策标题"})
    if data.level not in Policy.Level.values:
        raise ValidationError({"level": "层级不正确"})
    if not data.issuer.strip():
        raise ValidationError({"issuer": "请填写发文机关"})
    if data.effective_from and data.effective_to and data.effective_to < data.effective_from:
        raise ValidationError({"effective_to": "失效日期不能早于生效日期"})
    tags = [t.strip() for t in data.tags if t.strip()]
    policy = Policy.objects.create(
        title=title,
        level=data.level,
        issuer=data.issuer.strip(),
        doc_number=data.doc_number.strip(),
        effective_from=data.effective_from,
        effective_to=data.effective_to,
        summary=data.summary.strip(),
        full_text=data.full_text.strip(),
        tags=tags,
        tag_index=" " + " ".join(tags) + " ",
        search_tokens=document_tokens(
            title, data.issuer, data.doc_number, data.summary, data.full_text, " ".join(tags)
        ),
    )
    if data.replaces_id:
        old = Policy.objects.select_for_update().filter(pk=data.replaces_id).first()
        if old is None or old.pk == policy.pk:
            raise ValidationError({"replaces_id": "被替代的政策不存在"})
        if old.replaced_by_id is not None:
            raise ValidationError({"replaces_id": "该政策已被其他版本替代"})
        old.replaced_by = policy
        old.save(update_fields=["replaced_by", "updated_at"])
    audit_record(
        action="policies.policy_create",
        actor=actor,
        target=policy,
        summary=f"发布政策：{title}",
        data={"replaces": data.replaces_id},
    )
    return policy


# ------------------------------------------------------------------ eligibility


DECLARED_FIELDS = tuple(n for n, f in rules.FIELDS.items() if f.source == rules.DECLARED)


def declared_fields_for(programme: Programme) -> list[str]:
    """The declared fields a programme's rules and amount read: the only ones its form asks."""
    used: set[str] = set()
    expressions = [programme.amount_expression]
    for rule in selectors.rule_list(programme):
        expressions += [rule.expression, rule.passes_from]
    for expression in expressions:
        if expression.strip():
            try:
                used |= rules.names_in(expression)[0]
            except rules.ExpressionError:
                continue
    return [name for name in DECLARED_FIELDS if name in used]


def clean_declared(raw: dict[str, Any], *, fields: list[str] | None = None) -> dict[str, Any]:
    """The applicant's declared values from a form (strings) -> typed JSON-safe values, for
    ``fields`` (default: every declared field). Refuses a bad value with a Chinese message
    keyed by the field."""
    out: dict[str, Any] = {}
    for name in DECLARED_FIELDS if fields is None else fields:
        spec = rules.FIELDS[name]
        value = raw.get(name)
        text = str(value).strip() if value is not None else ""
        if spec.type == rules.STRING:
            if name == "category" and text not in rules.CATEGORIES:
                raise ValidationError({name: f"请选择{spec.label}"})
            out[name] = text
        elif spec.type == rules.DATE:
            if not text:
                out[name] = None
                continue
            try:
                out[name] = dt.date.fromisoformat(text).isoformat()
            except ValueError as exc:
                raise ValidationError({name: f"{spec.label}不是有效日期"}) from exc
        elif spec.type == rules.INT:
            if not text:
                out[name] = 0
                continue
            if not text.isdigit() or int(text) > 100_000:
                raise ValidationError({name: f"{spec.label}应为不小于 0 的整数"})
            out[name] = int(text)
        elif spec.type == rules.BOOL:
            out[name] = text in ("1", "true", "on", "是", "True")
    return out


def facts_for(user: User, declared: dict[str, Any], *, as_of: dt.date) -> dict[str, Any]:
    facts = dict(selectors.platform_facts(user))
    for name in DECLARED_FIELDS:
        value = declared.get(name)
        if rules.FIELDS[name].type == rules.DATE and isinstance(value, str) and value:
            value = dt.date.fromisoformat(value)
        facts[name] = value
    facts["as_of"] = as_of
    return facts


def eligibility_check(
    *, programme: Programme, user: User, declared: dict[str, Any], as_of: dt.date
) -> rules.Eligibility:
    return rules.check(
        selectors.rule_specs(programme),
        programme.amount_expression,
        facts_for(user, declared, as_of=as_of),
    )


def eligibility_json(result: rules.Eligibility, *, as_of: dt.date) -> dict[str, Any]:
    return {
        "at": timezone.now().isoformat(),
        "as_of": as_of.isoformat(),
        "eligible": result.eligible,
        "amount": result.amount,
        "results": [
            {
                "code": r.code,
                "explanation": r.explanation,
                "passed": r.passed,
                "passes_on": r.passes_on.isoformat() if r.passes_on else None,
                "problem": r.problem,
            }
            for r in result.results
        ],
    }


# ------------------------------------------------------------------ materials

MAX_MATERIAL_BYTES = 10 * 1024 * 1024
MATERIAL_TYPES = {
    ".pdf": (b"%PDF-", "application/pdf"),
    ".jpg": (b"\xff\xd8\xff", "image/jpeg"),
    ".jpeg": (b"\xff\xd8\xff", "image/jpeg"),
    ".png": (b"\x89PNG\r\n\x1a\n", "image/png"),
}


@dataclass(frozen=True)
class CheckedFile:
    kind: str
    name: str
    data: bytes
    content_type: str


def check_materials(files: list[tuple[str, UploadedFile]]) -> list[CheckedFile]:
    """Every upload checked (type by extension and content, size) before anything is saved."""
    checked: list[CheckedFile] = []
    for kind, upload in files:
        name = Path(upload.name or "").name[:200]
        suffix = Path(name).suffix.lower()
        if suffix not in MATERIAL_TYPES:
            raise ValidationError({"files": f"“{name}”不是 PDF、JPG 或 PNG 文件"})
        size = upload.size or 0
        if size == 0:
            raise ValidationError({"files": f"“{name}”是空文件"})
        if size > MAX_MATERIAL_BYTES:
            raise ValidationError({"files": f"“{name}”超过 10 MB"})
        data = upload.read(MAX_MATERIAL_BYTES + 1)
        magic, content_type = MATERIAL_TYPES[suffix]
        if len(data) > MAX_MATERIAL_BYTES:
            raise ValidationError({"files": f"“{name}”超过 10 MB"})
        if not data.startswith(magic):
            raise ValidationError({"files": f"“{name}”的内容与扩展名不符"})
        checked.append(CheckedFile(kind[:100], name, data, content_type))
    return checked


def _store_materials(application: Application, files: list[CheckedFile]) -> None:
    """Stored encrypted at rest (AES-256-GCM, the storage name as associated data), owner-only;
    named by content under policies/<application>/."""
    for f in files:
        digest = hashlib.sha256(f.data).hexdigest()
        stored = save_private(f"policies/{application.pk}/{digest}", f.data)
        Material.objects.create(
            application=application,
            kind=f.kind,
            filename=f.name,
            content_type=f.content_type,
            size=len(f.data),
            storage_name=stored,
        )


# ------------------------------------------------------------------ policy attachments

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the Compound File of .doc and .xls
# extension -> (content type, Chinese kind)
ATTACHMENT_TYPES: dict[str, tuple[str, str]] = {
    ".pdf": ("application/pdf", "PDF"),
    ".doc": ("application/msword", "Word"),
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "Word",
    ),
    ".xls": ("application/vnd.ms-excel", "Excel"),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel"),
    ".jpg": ("image/jpeg", "JPG"),
    ".jpeg": ("image/jpeg", "JPG"),
    ".png": ("image/png", "PNG"),
}


def _ooxml_part(data: bytes, folder: str) -> bool:
    """A .docx / .xlsx is a zip whose content types name the Word / Excel main part."""
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return False
    main = {"word": "word/document.xml", "xl": "xl/workbook.xml"}[folder]
    return "[Content_Types].xml" in names and main in names


def _content_matches(suffix: str, data: bytes) -> bool:
    if suffix == ".pdf":
        return data.startswith(b"%PDF-")
    if suffix in (".doc", ".xls"):
        return data.startswith(OLE2)
    if suffix == ".docx":
        return data.startswith(b"PK\x03\x04") and _ooxml_part(data, "word")
    if suffix == ".xlsx":
        return data.startswith(b"PK\x03\x04") and _ooxml_part(data, "xl")
    if suffix in (".jpg", ".jpeg"):
        return data.startswith(b"\xff\xd8\xff")
    if suffix == ".png":
        return data.startswith(b"\x89PNG\r\n\x1a\n")
    return False


@transaction.atomic
def policy_attachment_add(
    *, actor: User, policy: Policy, title: str, upload: UploadedFile
) -> PolicyAttachment:
    """Staff attach a PDF, Word, Excel or image file to a policy version. The type is read
    from the content (a renamed file is refused), at most 20 MB; a refusal saves nothing."""
    _require_staff(actor)
    name = Path(upload.name or "").name[:200]
    suffix = Path(name).suffix.lower()
    if suffix not in ATTACHMENT_TYPES:
        raise ValidationError({"file": f"“{name}”不是 PDF、Word、Excel 或图片（JPG、PNG）文件"})
    size = upload.size or 0
    if size == 0:
        raise ValidationError({"file": f"“{name}”是空文件"})
    if size > MAX_ATTACHMENT_BYTES:
        raise ValidationError({"file": f"“{name}”超过 20 MB"})
    data = upload.read(MAX_ATTACHMENT_BYTES + 1)
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise ValidationError({"file": f"“{name}”超过 20 MB"})
    if not _content_matches(suffix, data):
        kind = ATTACHMENT_TYPES[suffix][1]
        raise ValidationError({"file": f"“{name}”的内容不是 {kind} 文件，请上传原始文件"})
    title = (title or "").strip() or Path(name).stem
    if len(title) > 200:
        raise ValidationError({"title": "附件名称不能超过 200 字"})
    digest = hashlib.sha256(data).hexdigest()
    from qinghe.core.diskspace import storage_save

    stored = storage_save(f"policies/attachments/{policy.pk}/{digest}{suffix}", data)
    attachment = PolicyAttachment.objects.create(
        policy=policy,
        title=title,
        filename=name,
        content_type=ATTACHMENT_TYPES[suffix][0],
        size=len(data),
        storage_name=stored,
        uploaded_by=actor,
    )
    audit_record(
        action="create",
        actor=actor,
        target=policy,
        summary=f"政策“{policy.title}”添加附件“{title}”",
    )
    return attachment


@transaction.atomic
def policy_attachment_remove(*, actor: User, attachment: PolicyAttachment) -> None:
    _require_staff(actor)
    from django.core.files.storage import default_storage

    name, policy, title = attachment.storage_name, attachment.policy, attachment.title
    attachment.delete()
    audit_record(
        action="delete",
        actor=actor,
        target=policy,
        summary=f"政策“{policy.title}”删除附件“{title}”",
    )
    transaction.on_commit(lambda: default_storage.delete(name))


# ------------------------------------------------------------------ retention


@dataclass(frozen=True)
class MaterialPurge:
    files: int
    applications: int


def materials_purge(*, now: dt.datetime | None = None) -> MaterialPurge:
    """Deletes the uploaded materials of applications that ended without a subsidy — rejected
    or withdrawn — once ``QINGHE_SUBSIDY_MATERIAL_RETENTION_DAYS`` (default 180: the six months
    in which the decision can still be challenged) have passed since the decision. Approved
    applications keep their materials: they are the evidence behind the payments. The file is
    deleted, the row keeps its kind and size with ``purged_at`` set, one audit row per
    application. Idempotent: a purged row is never touched again (a daily job)."""
    from qinghe.talents.importing.storage import delete as delete_private

    now = now or timezone.now()
    days = int(getattr(settings, "QINGHE_SUBSIDY_MATERIAL_RETENTION_DAYS", 180))
    cutoff = now - dt.timedelta(days=days)
    S = Application.State
    ended = Q(application__state=S.REJECTED, application__decided_at__lte=cutoff) | Q(
        application__state=S.WITHDRAWN, application__updated_at__lte=cutoff
    )
    due = Material.objects.filter(ended, purged_at__isnull=True).select_related("application")
    by_app: dict[int, list[Material]] = {}
    for material in due.order_by("application_id", "id"):
        by_app.setdefault(material.application_id, []).append(material)
    files = 0
    for items in by_app.values():
        with transaction.atomic():
            for material in items:
                delete_private(material.storage_name)
                material.storage_name = ""
                material.filename = ""
                material.purged_at = now
                material.save(update_fields=["storage_name", "filename", "purged_at"])
                files += 1
            audit_record(
                action="delete",
                actor=None,
                target=items[0].application,
                summary=f"补贴申请材料超过保留期（{days} 天），删除 {len(items)} 个文件",
            )
    return MaterialPurge(files=files, applications=len(by_app))


# ------------------------------------------------------------------ applications


def _as_of(application: Application) -> dt.date:
    return timezone.localdate(application.created_at)


def _notify(application: Application, text: str, key: str) -> None:
    notify(
        user=application.applicant,
        channels=[Channel.INBOX],
        category=Category.SYSTEM,
        subject=text[:60],
        body=text,
        key=key,
        data={"url": reverse("policies:application", args=[application.pk])},
    )


def _failed_text(result: rules.Eligibility) -> str:
    return "；".join(r.explanation for r in result.results if not r.passed)


@transaction.atomic
def application_submit(
    *,
    actor: User,
    programme: Programme,
    declared_raw: dict[str, Any],
    files: list[tuple[str, UploadedFile]],
    today: dt.date | None = None,
) -> Application:
    """A student applies: declared values checked, eligibility checked as of today (refused
    with the failing rules' explanations), each required material uploaded and stored
    encrypted, one open application per programme."""
    if actor.role not in (Role.STUDENT, Role.AMBASSADOR):
        raise PermissionDenied("只有学子本人可以申请补贴")
    if not programme.active:
        raise ApplicationError("该补贴项目已停止受理")
    declared = clean_declared(declared_raw, fields=declared_fields_for(programme))
    today = today or timezone.localdate()
    open_states = [
        Application.State.SUBMITTED,
        Application.State.MORE_MATERIALS,
        Application.State.REVIEWED,
        Application.State.APPROVED,
    ]
    if Application.objects.filter(
        applicant=actor, programme=programme, state__in=open_states
    ).exists():
        raise ApplicationError("您已申请过该项目，请在“我的申请”中查看进度")
    result = eligibility_check(programme=programme, user=actor, declared=declared, as_of=today)
    if not result.eligible:
        raise ApplicationError(f"暂不符合申请条件：{_failed_text(result)}")
    given = {kind for kind, _ in files}
    missing = [m for m in programme.materials if m not in given]
    if missing:
        raise ValidationError({"files": f"请上传：{'、'.join(missing)}"})
    checked = check_materials(files)
    facts = selectors.platform_facts(actor)
    application = Application.objects.create(
        programme=programme,
        applicant=actor,
        declared=declared,
        eligibility=eligibility_json(result, as_of=today),
        amount=result.amount,
        double_first_class=bool(facts.get("double_first_class")),
    )
    _store_materials(application, checked)
    ApplicationEvent.objects.create(
        application=application,
        action="submit",
        to_state=application.state,
        actor=actor,
        eligible=True,
    )
    audit_record(
        action="policies.application_submit",
        actor=actor,
        target=application,
        summary=f"申请补贴：{programme.name}",
        data={"amount": result.amount, "files": len(files)},
    )
    _notify(
        application,
        f"您的“{programme.name}”申请已提交，待初审。",
        make_key("subsidy", application.pk, "submit"),
    )
    return application


def _party(actor: User | None, row: Application) -> str | None:
    if actor is None:
        return None
    if actor.pk == row.applicant_id:
        return "applicant"
    if actor.role in STAFF_EDITORS:
        return "staff"
    return None


def _validate(step: Step[Application]) -> None:
    row = step.row
    if (
        step.move.action == "approve"
        and step.actor is not None
        and row.reviewed_by_id == step.actor.pk
    ):
        raise PermissionDenied("复审须由初审以外的工作人员进行")
    if step.move.action in ("review", "approve"):
        result = eligibility_check(
            programme=row.programme, user=row.applicant, declared=row.declared, as_of=_as_of(row)
        )
        step.params["_result"].append(result)
        if not result.eligible:
            raise ApplicationError(
                f"按当前数据复核不符合条件（{_failed_text(result)}），请退回补充材料或不予通过"
            )


def _apply(step: Step[Application]) -> list[str]:
    row = step.row
    changed: list[str] = []
    results = step.params.get("_result") or []
    if results:
        row.eligibility = eligibility_json(results[-1], as_of=_as_of(row))
        row.amount = results[-1].amount
        changed += ["eligibility", "amount"]
    action = step.move.action
    if action == "review":
        row.reviewed_by = step.actor
        changed.append("reviewed_by")
    elif action == "approve":
        row.approved_by = step.actor
        row.decided_at = step.now
        changed += ["approved_by", "decided_at"]
    elif action in ("reject", "request_materials"):
        row.reason = step.reason
        changed.append("reason")
        if action == "reject":
            row.decided_at = step.now
            changed.append("decided_at")
    elif action == "resubmit":
        row.reviewed_by = None
        changed.append("reviewed_by")
    return changed


def _event(step: Step[Application]) -> None:
    results = step.params.get("_result") or []
    ApplicationEvent.objects.create(
        application=step.row,
        action=step.move.action,
        from_state=step.old,
        to_state=step.new,
        actor=step.actor,
        reason=step.reason,
        eligible=results[-1].eligible if results else None,
    )


def _effects(step: Step[Application]) -> None:
    row = step.row
    texts = {
        "review": "已通过初审，待复审",
        "approve": f"已批准，金额 {row.amount} 元",
        "reject": f"未通过，原因：{step.reason}",
        "request_materials": f"需要补充材料：{step.reason}",
        "resubmit": "已补充材料，重新进入初审",
        "withdraw": "已撤回",
    }
    _notify(
        row,
        f"您的“{row.programme.name}”申请{texts[step.move.action]}。",
        make_key("subsidy", row.pk, step.move.action, step.now.isoformat()),
    )


S = Application.State
APPLICATION_WORKFLOW: Workflow[Application] = Workflow(
    name="subsidy_application",
    model=Application,
    moves=table(
        Move("review", "初审通过", frozenset({S.SUBMITTED}), S.REVIEWED, frozenset({"staff"})),
        Move("approve", "复审批准", frozenset({S.REVIEWED}), S.APPROVED, frozenset({"staff"})),
        Move(
            "request_materials",
            "退回补充材料",
            frozenset({S.SUBMITTED, S.REVIEWED}),
            S.MORE_MATERIALS,
            frozenset({"staff"}),
            needs_reason=True,
        ),
        Move(
            "reject",
            "不予通过",
            frozenset({S.SUBMITTED, S.REVIEWED, S.MORE_MATERIALS}),
            S.REJECTED,
            frozenset({"staff"}),
            needs_reason=True,
        ),
        Move(
            "resubmit",
            "补充材料后重新提交",
            frozenset({S.MORE_MATERIALS}),
            S.SUBMITTED,
            frozenset({"applicant"}),
        ),
        Move(
            "withdraw",
            "撤回",
            frozenset({S.SUBMITTED, S.MORE_MATERIALS, S.REVIEWED}),
            S.WITHDRAWN,
            frozenset({"applicant"}),
        ),
    ),
    party=_party,
    event=_event,
    summary=lambda step: f"补贴申请 #{step.row.pk} {step.move.label}",
    refused="申请当前为“{state}”，不能{label}",
    select_related=("programme", "applicant"),
    validate=_validate,
    apply=_apply,
    effects=_effects,
    audit_action="policies.application",
    reason_required="请填写原因",
)

ACTION_LABELS = {
    "submit": "提交申请",
    **{m.action: m.label for m in APPLICATION_WORKFLOW.moves.values()},
}


def application_move(
    *, actor: User, application: Application, action: str, reason: str = ""
) -> Application:
    """Every staff and applicant step: review, approve (a different person from the reviewer),
    request_materials, reject, resubmit, withdraw. Eligibility is re-checked on review and
    approve with the data as it is now and the application date as the as-of date."""
    return transition(
        APPLICATION_WORKFLOW,
        row=application,
        action=action,
        actor=actor,
        reason=reason,
        _result=[],
    )


@transaction.atomic
def application_add_materials(
    *, actor: User, application: Application, files: list[tuple[str, UploadedFile]]
) -> Application:
    """The applicant uploads what was asked for and the application goes back to 初审."""
    if application.applicant_id != actor.pk:
        raise PermissionDenied("只能为自己的申请补充材料")
    if application.state != Application.State.MORE_MATERIALS:
        raise ApplicationError("该申请当前不需要补充材料")
    if not files:
        raise ValidationError({"files": "请选择要上传的文件"})
    _store_materials(application, check_materials(files))
    return application_move(actor=actor, application=application, action="resubmit")


# ------------------------------------------------------------------ payments


_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_YEAR = re.compile(r"^\d{4}$")


def _check_period(programme: Programme, period: str) -> None:
    if programme.schedule == Programme.Schedule.ONCE and period != "1":
        raise ValidationError({"period": "一次性发放的期次为 1"})
    if programme.schedule == Programme.Schedule.MONTHLY and not _MONTH.match(period):
        raise ValidationError({"period": "按月发放的期次应为 YYYY-MM"})
    if programme.schedule == Programme.Schedule.YEARLY and not _YEAR.match(period):
        raise ValidationError({"period": "按年发放的期次应为 YYYY"})


def payment_record(
    *, actor: User, application: Application, period: str, paid_on: dt.date
) -> Payment:
    """Records one payment. The same application and period can never be paid twice: the
    database refuses it (UniqueConstraint), so two staff pressing the button at the same moment
    leave one payment and the second gets a Chinese refusal."""
    _require_staff(actor)
    period = (period or "").strip()
    try:
        with transaction.atomic():
            locked = (
                Application.objects.select_for_update()
                .select_related("programme", "applicant")
                .get(pk=application.pk)
            )
            if locked.state != Application.State.APPROVED:
                raise ApplicationError("只有已批准的申请可以记录发放")
            _check_period(locked.programme, period)
            if locked.payments.filter(period=period).exists():
                raise ApplicationError(f"第 {period} 期已记录发放，不能重复记录")
            if locked.payments.count() >= locked.programme.periods:
                raise ApplicationError("已发放全部期数")
            payment = Payment.objects.create(
                application=locked,
                period=period,
                amount=locked.amount,
                paid_on=paid_on,
                recorded_by=actor,
            )
            audit_record(
                action="policies.payment_record",
                actor=actor,
                target=locked,
                summary=f"记录补贴发放 #{locked.pk} 第 {period} 期 {locked.amount} 元",
                data={"period": period, "amount": locked.amount},
            )
            _notify(
                locked,
                f"您的“{locked.programme.name}”第 {period} 期 {locked.amount} 元已发放。",
                make_key("subsidy", locked.pk, "payment", period),
            )
    except IntegrityError as exc:
        raise ApplicationError(f"第 {period} 期已记录发放，不能重复记录") from exc
    return payment
