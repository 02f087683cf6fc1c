"""The student's own record: claiming it, correcting it, seeing and exporting everything the
city holds, consents, the yearly confirmation and deleting the account; and the staff side of
claiming: deciding whether a record a student created is genuine.

Reads and writes live together here because they share one idea: the student acts only on
the talent linked to their own account (``own_talent``); nothing takes a talent id from the
request."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import xlsxwriter
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from qinghe.accounts.models import Organisation, PhoneVerification, User
from qinghe.core.audit import audit_record
from qinghe.core.errors import ApplicationError, NotFound, PermissionDenied
from qinghe.core.models import AuditLog
from qinghe.core.roles import Role
from qinghe.core.spreadsheets import escape_cell
from qinghe.notifications.models import WechatBinding

from . import claims
from .consent import consent_decisions
from .identity import InvalidValue, parse_id_number, parse_name, parse_phone
from .importing import storage as resume_storage
from .models import Consent, ImportBatch, Resume, Source, Talent, TalentClaim, ValueChange
from .selectors import FIELD_LABELS, can_verify, talent_for_student
from .services import (
    NOTICE_VERSION,
    consent_record,
    id_number_set,
    source_stamp,
    talent_add_phone,
    talent_update,
)

# --------------------------------------------------------------------------------------------
# Claiming an imported record

# What the student reads. One answer whether the ID number matched an imported record or a
# new record was created, and a refusal that names no cause (the audit entry keeps it).
CLAIM_DONE = "认领完成：以下是城市人才库中关于你的信息。请逐项核对，并补充联系方式和教育经历。"
CLAIM_REFUSED = "无法完成认领。请核对身份证号和姓名是否与身份证一致；如确认无误，请联系服务专员"
CLAIM_DAILY_LIMIT = 5
# How a claim appears in the student's own view of the audit trail, whatever its outcome.
CLAIM_SEEN_BY_STUDENT = ("认领", "学生本人认领档案")


def own_talent(*, user: User) -> Talent | None:
    return talent_for_student(user=user)


def _day_start(now: datetime) -> datetime:
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def claim_attempts_today(*, user: User, now: datetime | None = None) -> int:
    """Refused claims are counted from the audit trail, the one place they are written."""
    now = now or timezone.now()
    return AuditLog.objects.filter(
        actor=user,
        target_type="accounts.user",
        target_id=str(user.pk),
        data__claim="refused",
        created_at__gte=_day_start(now),
    ).count()


@dataclass(frozen=True)
class ClaimResult:
    """``talent`` is the record the claim concerns (for staff, the audit trail and tests:
    when ``claim`` is set nothing of it may be shown to the student, who must first prove
    they are its owner)."""

    talent: Talent
    created: bool
    claim: TalentClaim | None = None


def talent_claim(
    *,
    user: User,
    id_number: str,
    name: str,
    now: datetime | None = None,
) -> ClaimResult:
    """Creates a record when the city holds none with this ID number (it awaits verification
    by staff, and shows the student only what they typed until then). For a record the city
    holds, an ID number and a name (both printed on survey sheets) prove nothing: with a
    matching name this opens a ``TalentClaim`` that links nothing until the student enters a
    code sent to a phone on file or staff verify them (``qinghe.talents.claims``). That also
    holds for a record another student created and staff have not verified: the real owner
    can always take their ID back. A name that does not match and a record someone else
    properly holds give the same answer (``CLAIM_REFUSED``); a refusal changes no record and
    only adds the audit entry that counts it (5 a day)."""
    if own_talent(user=user) is not None:
        raise ApplicationError("你已认领档案，无需重复认领")
    try:
        parsed = parse_id_number(id_number)
    except InvalidValue as exc:
        raise ValidationError({"id_number": str(exc)}) from exc
    try:
        clean_name = parse_name(name)
    except InvalidValue as exc:
        raise ValidationError({"name": str(exc)}) from exc
    if claim_attempts_today(user=user, now=now) >= CLAIM_DAILY_LIMIT:
        raise ApplicationError(
            f"今天的认领尝试已达 {CLAIM_DAILY_LIMIT} 次，请明天再试或联系服务专员"
        )

    why = ""
    with transaction.atomic():
        talent = Talent.objects.select_for_update().filter(id_index=parsed.index).first()
        if talent is None:
            stamp = source_stamp(Source.STUDENT, user.pk, "学生本人")
            derived = source_stamp(Source.SYSTEM, user.pk, "由身份证号推导")
            talent = Talent(
                name=clean_name,
                user=user,
                provenance={"name": stamp},
                verification=Talent.Verification.PENDING,
            )
            id_number_set(talent=talent, raw=parsed.number, stamp=stamp)
            talent.provenance.update({"birth_date": derived, "gender": derived})
            talent.save()
            audit_record(
                action="create",
                actor=user,
                target=talent,
                summary="学生本人认领：新建档案，待工作人员核实",
                data={"claim": "created"},
            )
            return ClaimResult(talent=talent, created=True)
        if talent.merged_into_id is not None or (
            talent.user_id is not None and not claims.unverified(talent)
        ):
            why = "claimed"
        elif claims.name_on_file(talent, clean_name):
            claim = claims.claim_start(user=user, talent=talent, name=clean_name)
            return ClaimResult(talent=talent, created=False, claim=claim)
        else:
            why = "name_mismatch"
    audit_record(
        action="view",
        actor=user,
        target=user,
        summary="认领档案未成功",
        data={"claim": "refused", "why": why},
    )
    raise ApplicationError(CLAIM_REFUSED)


# --------------------------------------------------------------------------------------------
# Staff: is a record a student created genuine?

VERIFICATION_DECISIONS: dict[str, str] = {
    Talent.Verification.VERIFIED: "核实无误",
    Talent.Verification.REJECTED: "不属实",
}


@transaction.atomic
def talent_verification_decide(
    *,
    viewer: User,
    talent: Talent,
    decision: str,
    reason: str = "",
    now: datetime | None = None,
) -> Talent:
    """Records that a record a student created is genuine (``verified``) or not
    (``rejected``, with a reason): who, when, why, and an audit entry. Only a pending record
    can be decided; a refusal changes nothing. A record found not genuine stays (its history
    and the account link are kept for follow-up) but leaves the staff list's default view."""
    if not can_verify(viewer, talent):
        raise PermissionDenied(
            "只能核实分配给你的学生的档案"
            if getattr(viewer, "role", None) == Role.LIAISON
            else "无权核实学生自建档案"
        )
    if decision not in VERIFICATION_DECISIONS:
        raise ValidationError({"decision": "请选择“核实无误”或“不属实”"})
    reason = (reason or "").strip()
    if decision == Talent.Verification.REJECTED and len(reason) < 2:
        raise ValidationError({"reason": "请填写不属实的原因"})
    if len(reason) > 300:
        raise ValidationError({"reason": "说明不能超过 300 个字"})
    talent = Talent.objects.select_for_update().get(pk=talent.pk)
    if talent.merged_into_id is not None:
        raise ApplicationError("该记录已合并到另一条记录，请核实保留的记录")
    if talent.verification == Talent.Verification.NOT_NEEDED:
        raise ApplicationError("该档案不是学生自建的，无需核实")
    if talent.verification != Talent.Verification.PENDING:
        raise ApplicationError(f"该档案已核实过：{talent.get_verification_display()}")
    now = now or timezone.now()
    talent.verification = decision
    talent.verification_by = viewer
    talent.verification_at = now
    talent.verification_reason = reason
    talent.save(
        update_fields=[
            "verification",
            "verification_by",
            "verification_at",
            "verification_reason",
            "updated_at",
        ]
    )
    audit_record(
        action="update",
        actor=viewer,
        target=talent,
        summary=f"核实档案真实性：{VERIFICATION_DECISIONS[decision]}",
        reason=reason,
        data={"verification": decision},
    )
    return talent


# --------------------------------------------------------------------------------------------
# Editing, confirming

SELF_EDITABLE = ("wechat", "email", "hukou_text", "high_school")
CONFIRM_EVERY = timedelta(days=365)


@transaction.atomic
def self_profile_update(
    *,
    talent: Talent,
    user: User,
    data: dict[str, str],
    phone: str = "",
    confirm: bool = False,
) -> list[str]:
    """The student's own corrections, stamped with source 'student'. Returns changed fields."""
    unknown = set(data) - set(SELF_EDITABLE)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "该字段不能由本人修改，请联系服务专员"})
    changed = talent_update(talent=talent, data=data, source=Source.STUDENT, actor=user)
    phone = (phone or "").strip()
    if phone:
        try:
            number = parse_phone(phone)
        except InvalidValue as exc:
            raise ValidationError({"phone": str(exc)}) from exc
        current = talent.phones.filter(is_current=True).first()
        if current is None or current.number != number:
            talent_add_phone(
                talent=talent, raw=number, source=Source.STUDENT, ref=str(user.pk), actor=user
            )
            changed.append("phone")
    if confirm:
        self_confirm(talent=talent, user=user)
    return changed


def confirmation_due(talent: Talent, *, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return talent.last_confirmed_at is None or talent.last_confirmed_at < now - CONFIRM_EVERY


@transaction.atomic
def self_confirm(*, talent: Talent, user: User, now: datetime | None = None) -> Talent:
    now = now or timezone.now()
    Talent.objects.filter(pk=talent.pk).update(last_confirmed_at=now, updated_at=now)
    talent.last_confirmed_at = now
    audit_record(action="update", actor=user, target=talent, summary="本人确认信息仍然准确")
    return talent


# --------------------------------------------------------------------------------------------
# Consents

CONSENT_NOTICES: dict[str, str] = {
    Consent.Purpose.LIAISON: (
        "同意鹤山市人力资源和社会保障局安排的服务专员通过电话、微信等方式与你联系，"
        "推送政策、岗位与活动信息，并记录每次联络。可随时撤回；撤回后服务专员不再主动联系你。"
    ),
    Consent.Purpose.MATCHING: (
        "同意平台根据你的专业、学历与毕业去向，为你匹配和推荐岗位与实习。"
        "匹配只在平台内进行，不向企业提供你的个人信息。可随时撤回。"
    ),
    Consent.Purpose.SHARE_ENTERPRISE: (
        "向某家企业提供你的姓名、联系方式和教育经历，须在你投递该企业岗位时针对该企业单独同意"
        "（《个人信息保护法》第二十三条）。你可以在这里逐家撤回。"
    ),
}
GENERAL_PURPOSES = (Consent.Purpose.LIAISON, Consent.Purpose.MATCHING)


def consent_overview(*, talent: Talent) -> dict[str, Any]:
    latest = consent_decisions(talent=talent)
    general = []
    for purpose in GENERAL_PURPOSES:
        consent = latest.get((purpose, None))
        general.append(
            {
                "purpose": purpose,
                "label": Consent.Purpose(purpose).label,
                "notice": CONSENT_NOTICES[purpose],
                "granted": bool(consent and consent.granted),
                "consent": consent,
            }
        )
    enterprises = [
        {"enterprise": consent.enterprise, "granted": consent.granted, "consent": consent}
        for (purpose, enterprise_id), consent in latest.items()
        if purpose == Consent.Purpose.SHARE_ENTERPRISE and enterprise_id is not None
    ]
    enterprises.sort(key=lambda e: (not e["granted"], str(e["enterprise"])))
    return {
        "general": general,
        "enterprises": enterprises,
        "share_notice": CONSENT_NOTICES[Consent.Purpose.SHARE_ENTERPRISE],
        "notice_version": NOTICE_VERSION,
    }


def self_consent_set(
    *, talent: Talent, user: User, purpose: str, granted: bool, enterprise_id: int | None = None
) -> Consent | None:
    """Grants or withdraws a general purpose; withdraws sharing with one enterprise (granting
    that happens when applying to its job). None when the decision is already in force.

    An enterprise the student never consented to answers NotFound, like a missing one."""
    if purpose in GENERAL_PURPOSES:
        if enterprise_id is not None:
            raise ValidationError({"enterprise": "该授权不针对具体企业"})
        current = consent_decisions(talent=talent).get((purpose, None))
        if (
            current is not None
            and current.granted == granted
            and current.notice_version == NOTICE_VERSION
        ):
            return None
        if current is None and not granted:
            return None
        return consent_record(talent=talent, purpose=purpose, granted=granted, actor=user)
    if purpose == Consent.Purpose.SHARE_ENTERPRISE:
        if granted:
            raise ApplicationError("向企业提供信息的授权须在投递该企业岗位时单独给出")
        current = (
            consent_decisions(talent=talent).get((purpose, enterprise_id))
            if enterprise_id
            else None
        )
        if current is None:
            raise NotFound()
        if not current.granted:
            return None
        return consent_record(
            talent=talent, purpose=purpose, granted=False, actor=user, enterprise=current.enterprise
        )
    raise ValidationError({"purpose": "未知的授权用途"})


# --------------------------------------------------------------------------------------------
# Everything the city holds, for the page and the exports

PROFILE_FIELDS: list[tuple[str, str]] = [
    ("name", "姓名"),
    ("gender", "性别"),
    ("id_number", "身份证号"),
    ("birth_date", "出生日期"),
    ("wechat", "微信号"),
    ("email", "电子邮箱"),
    ("hukou_text", "户籍地"),
    ("hukou_county_code", "户籍县区代码"),
    ("town", "鹤山镇街"),
    ("high_school", "高中"),
    ("native_evidence", "鹤山籍依据"),
    ("status", "当前状态"),
    ("returned_home", "已返乡就业"),
    ("graduation_year", "最近毕业年份"),
    ("note", "工作人员备注"),
    ("last_confirmed_at", "本人最近确认时间"),
]
# Values the platform works out from the others; no source of their own.
DERIVED_FIELDS = frozenset({"native_evidence", "status", "returned_home", "graduation_year"})


def _iso(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _local_iso(text: Any) -> str:
    """A stamp's ISO time in local time (stamps are written in UTC)."""
    if not text:
        return ""
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return str(text)
    if timezone.is_naive(moment):
        return moment.isoformat(timespec="seconds")
    return timezone.localtime(moment).isoformat(timespec="seconds")


def _source_label(source: str) -> str:
    return str(Source(source).label) if source in Source.values else source


def _display(talent: Talent, field: str) -> str:
    if field == "gender":
        return str(talent.get_gender_display()) if talent.gender else ""
    if field == "town":
        return talent.town.name if talent.town else ""
    if field == "native_evidence":
        return str(talent.get_native_evidence_display())
    if field == "status":
        return str(talent.get_status_display())
    if field == "returned_home":
        return "是" if talent.returned_home else "否"
    value = getattr(talent, field)
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _describe_source(stamp: dict[str, Any], batches: dict[str, ImportBatch]) -> str:
    """'毕业生调查导入 · 2025届毕业生调查（survey.xlsx 第 12 行）' and the like."""
    if not stamp:
        return ""
    source = str(stamp.get("source", ""))
    text = str(stamp.get("label") or _source_label(source))
    if source == Source.SURVEY:
        batch = batches.get(str(stamp.get("ref", "")))
        if batch is not None:
            row = stamp.get("row")
            text += f" · {batch.source_name}（{batch.file_name}{f' 第 {row} 行' if row else ''}）"
    return text


def _batches_for(stamps: list[dict[str, Any]]) -> dict[str, ImportBatch]:
    ids = {
        str(s.get("ref"))
        for s in stamps
        if s.get("source") == Source.SURVEY and str(s.get("ref", "")).isdigit()
    }
    return {str(b.pk): b for b in ImportBatch.objects.filter(pk__in=[int(i) for i in ids])}


def self_data(*, talent: Talent, user: User) -> dict[str, Any]:
    """Everything the city holds about the student, each value with where it came from.

    The student's own full ID number and phones are shown: they are theirs. Of an unverified
    record (``unverified``) the student sees only what they typed themselves (and what the
    platform worked out from their ID number): knowing an ID number and a name must not show
    anything a survey or staff recorded about whoever really holds that ID."""
    talent = Talent.objects.select_related("town").get(pk=talent.pk)
    # A record a student created that staff have not (or not favourably) decided: nothing in
    # it is known to be the student's own except what the student typed.
    if claims.unverified(talent):
        return _own_input_only(_self_data(talent=talent, user=user), talent=talent, user=user)
    return _self_data(talent=talent, user=user)


def _own_input_only(data: dict[str, Any], *, talent: Talent, user: User) -> dict[str, Any]:
    own = {Source.STUDENT.value}
    profile = []
    for item in data["profile"]:
        typed = item["source"] in own or (
            item["source"] == Source.SYSTEM.value and item["field"] in ("gender", "birth_date")
        )
        if not typed or item["field"] in DERIVED_FIELDS or item["field"] == "note":
            item = {**item, "value": "", "source": "", "source_label": "", "ref": "", "at": ""}
        profile.append(item)
    return {
        **data,
        "profile": profile,
        "provenance": {
            field: stamp
            for field, stamp in data["provenance"].items()
            if isinstance(stamp, dict)
            and (
                stamp.get("source") in own
                or (stamp.get("source") == Source.SYSTEM and field in ("gender", "birth_date"))
            )
        },
        "phones": [p for p in data["phones"] if p["source"] in own],
        "educations": [e for e in data["educations"] if e["source"] in own],
        "destinations": [d for d in data["destinations"] if d["source"] in own],
        "imports": [],
        "value_changes": [],
        "consents": [
            c
            for c, by in zip(
                data["consents"],
                talent.consents.order_by("-recorded_at", "-id").values_list(
                    "recorded_by_id", flat=True
                ),
                strict=True,
            )
            if by == user.pk
        ],
        "access_log": [a for a in data["access_log"] if a["by"] == "本人"],
    }


def _self_data(*, talent: Talent, user: User) -> dict[str, Any]:
    provenance = talent.provenance or {}
    changes = list(talent.value_changes.all())
    stamps = (
        list(provenance.values())
        + [c.old_source for c in changes]
        + [c.new_source for c in changes]
    )
    batches = _batches_for([s for s in stamps if isinstance(s, dict)])

    profile = []
    for field, label in PROFILE_FIELDS:
        stamp = provenance.get(field) or {}
        if field in DERIVED_FIELDS and not stamp:
            stamp = {"source": Source.SYSTEM.value, "label": "系统根据以上信息推导"}
        if field in ("gender", "birth_date") and not stamp and talent.id_number:
            stamp = {"source": Source.SYSTEM.value, "label": "由身份证号推导"}
        if field == "last_confirmed_at" and talent.last_confirmed_at:
            stamp = {
                "source": Source.STUDENT.value,
                "label": "学生本人",
                "at": _iso(talent.last_confirmed_at),
            }
        profile.append(
            {
                "field": field,
                "label": label,
                "value": _display(talent, field),
                "source": str(stamp.get("source", "")),
                "source_label": _describe_source(stamp, batches),
                "ref": str(stamp.get("ref", "")),
                "at": _local_iso(stamp.get("at", "")),
            }
        )

    phones = [
        {
            "number": p.number,
            "current": p.is_current,
            "marked_wrong": p.is_wrong,
            "source": p.source,
            "source_label": _source_label(p.source),
            "ref": p.source_ref,
            "first_seen": _iso(p.first_seen),
        }
        for p in talent.phones.order_by("-is_current", "-first_seen", "-id")
    ]
    educations = [
        {
            "university": e.university_name,
            "major": e.major_name,
            "major_category": e.major_category.name if e.major_category else "",
            "level": str(e.get_level_display()) if e.level else "",
            "enrolment_year": e.enrolment_year,
            "graduation_year": e.graduation_year,
            "double_first_class": e.is_double_first_class,
            "source": e.source,
            "source_label": _source_label(e.source),
            "ref": e.source_ref,
            "recorded_at": _iso(e.created_at),
        }
        for e in talent.educations.select_related("major_category")
    ]
    destinations = [
        {
            "kind": str(d.get_kind_display()),
            "employer": d.employer,
            "employer_uscc": d.employer_uscc,
            "region": d.region_text,
            "area": str(d.get_area_display()) if d.area else "",
            "industry": d.industry.name if d.industry else "",
            "occupation": d.occupation.name if d.occupation else "",
            "start_date": _iso(d.start_date),
            "year": d.year,
            "source": d.source,
            "source_label": _source_label(d.source),
            "ref": d.source_ref,
            "recorded_at": _iso(d.created_at),
        }
        for d in talent.destinations.select_related("industry", "occupation")
    ]
    imports = [
        {
            "batch": r.batch.source_name,
            "file": r.batch.file_name,
            "imported_at": _iso(r.batch.created_at),
            "row": r.row_number,
            "outcome": str(r.get_outcome_display()),
            "note": r.reason,
            "raw": r.raw,
        }
        for r in talent.import_rows.select_related("batch").order_by(
            "-batch__created_at", "row_number"
        )
    ]
    consents = [
        {
            "purpose": c.purpose,
            "purpose_label": str(c.get_purpose_display()),
            "enterprise": c.enterprise.name if c.enterprise else "",
            "granted": c.granted,
            "notice_version": c.notice_version,
            "recorded_at": _iso(c.recorded_at),
        }
        for c in talent.consents.select_related("enterprise").order_by("-recorded_at", "-id")
    ]
    value_changes = [
        {
            "field": c.field,
            "field_label": FIELD_LABELS.get(c.field, c.field),
            "old_value": c.old_value,
            "new_value": c.new_value,
            "old_source": c.old_source,
            "old_source_label": _describe_source(c.old_source, batches),
            "new_source": c.new_source,
            "new_source_label": _describe_source(c.new_source, batches),
            "state": str(c.get_state_display()),
            "at": _iso(c.created_at),
        }
        for c in changes
    ]
    access_log = [
        {
            "at": _iso(entry.created_at),
            "action": action,
            "by": "本人" if entry.actor_id == user.pk else _role_label(entry.actor_role),
            "summary": summary,
        }
        for entry in AuditLog.objects.filter(
            target_type="talents.talent", target_id=str(talent.pk)
        )[:500]
        for action, summary in [_as_seen_by_student(entry)]
    ]
    return {
        "generated_at": _iso(timezone.now()),
        "notice_version": NOTICE_VERSION,
        "account": {
            "username": user.username,
            "display_name": user.display_name,
            "phone": user.phone,
            "email": user.email,
            "registered_at": _iso(user.date_joined),
            "last_login": _iso(user.last_login),
        },
        "talent_id": talent.pk,
        "profile": profile,
        "provenance": provenance,
        "phones": phones,
        "educations": educations,
        "destinations": destinations,
        "imports": imports,
        "consents": consents,
        "value_changes": value_changes,
        "access_log": access_log,
    }


def _as_seen_by_student(entry: AuditLog) -> tuple[str, str]:
    """(action, summary) of an audit entry on the student's page and exports. A claim reads the
    same whether it linked an imported record or created one: the difference is for staff."""
    if isinstance(entry.data, dict) and entry.data.get("claim") in {"created", "linked"}:
        return CLAIM_SEEN_BY_STUDENT
    return str(entry.get_action_display()), entry.summary


def _role_label(role: str) -> str:
    return str(Role(role).label) if role in Role.values else (role or "系统")


def self_export_json(*, talent: Talent, user: User) -> bytes:
    data = self_data(talent=talent, user=user)
    audit_record(
        action="export",
        actor=user,
        target=talent,
        count=1,
        summary="本人导出个人数据（JSON）",
    )
    return json.dumps(data, ensure_ascii=False, indent=2, default=str).encode("utf-8")


XLSX_SHEETS: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "phones",
        "手机号",
        [
            ("number", "号码"),
            ("current", "当前"),
            ("marked_wrong", "号码有误"),
            ("source_label", "来源"),
            ("ref", "来源编号"),
            ("first_seen", "首次出现"),
        ],
    ),
    (
        "educations",
        "教育经历",
        [
            ("university", "院校"),
            ("major", "专业"),
            ("major_category", "专业类"),
            ("level", "学历"),
            ("enrolment_year", "入学年份"),
            ("graduation_year", "毕业年份"),
            ("double_first_class", "双一流"),
            ("source_label", "来源"),
            ("ref", "来源编号"),
            ("recorded_at", "记录时间"),
        ],
    ),
    (
        "destinations",
        "毕业去向",
        [
            ("kind", "去向"),
            ("employer", "单位"),
            ("employer_uscc", "统一社会信用代码"),
            ("region", "地区"),
            ("area", "区域"),
            ("industry", "行业"),
            ("occupation", "职业"),
            ("start_date", "开始日期"),
            ("year", "年份"),
            ("source_label", "来源"),
            ("ref", "来源编号"),
            ("recorded_at", "记录时间"),
        ],
    ),
    (
        "imports",
        "导入记录",
        [
            ("batch", "导入批次"),
            ("file", "文件"),
            ("imported_at", "导入时间"),
            ("row", "行号"),
            ("outcome", "结果"),
            ("note", "说明"),
            ("raw", "原始数据"),
        ],
    ),
    (
        "consents",
        "授权记录",
        [
            ("purpose_label", "用途"),
            ("enterprise", "企业"),
            ("granted", "同意"),
            ("notice_version", "告知书版本"),
            ("recorded_at", "时间"),
        ],
    ),
    (
        "value_changes",
        "取值变更",
        [
            ("field_label", "字段"),
            ("old_value", "原值"),
            ("old_source_label", "原值来源"),
            ("new_value", "新值"),
            ("new_source_label", "新值来源"),
            ("state", "状态"),
            ("at", "时间"),
        ],
    ),
    (
        "access_log",
        "访问与操作记录",
        [("at", "时间"), ("action", "动作"), ("by", "操作方"), ("summary", "摘要")],
    ),
]


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if value is None:
        return ""
    return str(escape_cell(str(value)))


def self_export_xlsx(*, talent: Talent, user: User) -> bytes:
    """The same data as the JSON export, one sheet per kind; formula-like text is escaped."""
    data = self_data(talent=talent, user=user)
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    sheet = workbook.add_worksheet("基本信息")
    for col, title in enumerate(("字段", "值", "来源", "来源编号", "记录时间")):
        sheet.write_string(0, col, title)
    rows: list[list[Any]] = [
        [p["label"], p["value"], p["source_label"], p["ref"], p["at"]] for p in data["profile"]
    ]
    account = data["account"]
    rows += [
        ["账号用户名", account["username"], "", "", ""],
        ["账号姓名", account["display_name"], "学生本人", "", ""],
        ["登录手机号", account["phone"], "学生本人", "", account["registered_at"]],
    ]
    for row, values in enumerate(rows, start=1):
        for col, value in enumerate(values):
            sheet.write_string(row, col, _cell(value))
    for key, title, columns in XLSX_SHEETS:
        sheet = workbook.add_worksheet(title)
        for col, (_, heading) in enumerate(columns):
            sheet.write_string(0, col, heading)
        for row, item in enumerate(data[key], start=1):
            for col, (name, _) in enumerate(columns):
                sheet.write_string(row, col, _cell(item.get(name)))
    workbook.close()
    audit_record(
        action="export",
        actor=user,
        target=talent,
        count=1,
        summary="本人导出个人数据（Excel）",
    )
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------
# Deleting the account

DELETE_CONFIRMATION = "注销"


def audit_retention_days() -> int:
    return max(int(settings.AUDIT_RETENTION_DAYS), 183)


CLEARED_ON_DELETE = ("wechat", "email")


@dataclass(frozen=True)
class DeletionReport:
    talent_kept: bool
    cleared_fields: list[str]
    phones_removed: int
    consents_withdrawn: int


def account_delete(*, user: User, password: str, confirmation: str) -> DeletionReport:
    """Closes the student's account. Kept: the talent record (the city's administrative record
    from the education bureau's surveys: education, destinations, import rows) and the audit
    trail. Removed: the login (username, phone, e-mail, name, password), the link to the
    record, every consent (withdrawn by new rows), and contact details the student entered
    (WeChat, e-mail, phones with source 'student', and their copies in value changes)."""
    if not user.check_password(password or ""):
        raise ValidationError({"password": "密码不正确"})
    if (confirmation or "").strip() != DELETE_CONFIRMATION:
        raise ValidationError({"confirmation": f"请输入“{DELETE_CONFIRMATION}”二字确认"})
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        talent = Talent.objects.select_for_update().filter(user=user).first()
        cleared: list[str] = []
        phones_removed = 0
        withdrawn = 0
        if talent is not None:
            # Every decision in force ends as a withdrawal; a general purpose never decided
            # gets one too, so the record states plainly that nothing is consented.
            latest = consent_decisions(talent=talent)
            for (purpose, enterprise_id), consent in latest.items():
                if consent.granted:
                    _withdraw(talent, user, purpose, consent.enterprise if enterprise_id else None)
                    withdrawn += 1
            for purpose in GENERAL_PURPOSES:
                if (purpose, None) not in latest:
                    _withdraw(talent, user, purpose, None)
            stamp = source_stamp(Source.SYSTEM, user.pk, "本人注销账号，已删除本人填写的值")
            for field in CLEARED_ON_DELETE:
                if (talent.provenance.get(field) or {}).get("source") == Source.STUDENT and getattr(
                    talent, field
                ):
                    # The city's own earlier value (a survey's, staff's) comes back if any.
                    value, origin = _latest_official_value(talent, field)
                    setattr(talent, field, value)
                    talent.provenance[field] = origin or stamp
                    cleared.append(field)
            for change in ValueChange.objects.filter(talent=talent, field__in=CLEARED_ON_DELETE):
                scrubbed = [
                    attr
                    for attr, stamp in (
                        ("old_value", change.old_source),
                        ("new_value", change.new_source),
                    )
                    if (stamp or {}).get("source") == Source.STUDENT and getattr(change, attr)
                ]
                for attr in scrubbed:
                    setattr(change, attr, "")
                if scrubbed:
                    change.save(update_fields=scrubbed)
            phones_removed, _ = talent.phones.filter(source=Source.STUDENT).delete()
            talent.user = None
            talent.save()
            audit_record(
                action="update",
                actor=user,
                target=talent,
                summary="本人注销账号：解除账号关联，撤回全部授权，删除本人填写的联系方式",
                data={
                    "cleared": cleared,
                    "phones_removed": phones_removed,
                    "consents_withdrawn": withdrawn,
                },
            )
        audit_record(
            action="delete",
            actor=user,
            target=user,
            summary="学子注销账号",
            data={"talent_id": talent.pk if talent else None},
        )
        if user.phone_index:
            PhoneVerification.objects.filter(phone_index=user.phone_index).delete()
        # The WeChat binding signs in and receives messages: it goes with the account, and so
        # does the résumé (its encrypted file once the deletion commits).
        WechatBinding.objects.filter(user=user).delete()
        resume_files = list(Resume.objects.filter(user=user).values_list("storage_name", flat=True))
        Resume.objects.filter(user=user).delete()
        transaction.on_commit(lambda: [resume_storage.delete(name) for name in resume_files])
        user.username = f"deleted-{user.pk}"
        user.email = ""
        user.display_name = ""
        user.first_name = ""
        user.last_name = ""
        user.phone = ""
        user.phone_index = None
        user.is_active = False
        user.set_unusable_password()
        user.save()
    return DeletionReport(
        talent_kept=talent is not None,
        cleared_fields=cleared,
        phones_removed=phones_removed,
        consents_withdrawn=withdrawn,
    )


def _latest_official_value(talent: Talent, field: str) -> tuple[str, dict[str, Any] | None]:
    """The newest value of ``field`` that did not come from the student, from the change
    history; ('', None) when there is none."""
    best: tuple[Any, ...] | None = None
    for change in ValueChange.objects.filter(talent=talent, field=field):
        sides = ((0, change.old_value, change.old_source), (1, change.new_value, change.new_source))
        for side, value, origin in sides:
            if value and (origin or {}).get("source") != Source.STUDENT:
                key = (change.created_at, change.pk, side)
                if best is None or key > best[0]:
                    best = (key, value, origin)
    if best is None:
        return "", None
    return best[1], best[2]


def _withdraw(talent: Talent, user: User, purpose: str, enterprise: Organisation | None) -> None:
    consent_record(talent=talent, purpose=purpose, granted=False, actor=user, enterprise=enterprise)


# --------------------------------------------------------------------------------------------
# The student's own education, entered by the student (source ``student``); staff verify it.

# The earliest enrolment a student of the platform can have, and how far ahead a graduation
# may lie (a doctorate begun this year).
EDUCATION_FIRST_YEAR = 1960
EDUCATION_YEARS_AHEAD = 8
EDUCATION_LONGEST = 10


@dataclass(frozen=True)
class EducationSaved:
    education: Any  # Education
    matching_consent: bool


def _year(value: Any, field: str, label: str, errors: dict[str, str]) -> int | None:
    text = str(value if value is not None else "").strip()
    if not text:
        errors[field] = f"请填写{label}"
        return None
    # An <input type="month"> sends 2021-09; a year alone is accepted too.
    head = text.split("-", 1)[0]
    if not head.isdigit() or len(head) != 4:
        errors[field] = f"{label}格式不正确，例如 2021 或 2021-09"
        return None
    year = int(head)
    last = timezone.localdate().year + EDUCATION_YEARS_AHEAD
    if not EDUCATION_FIRST_YEAR <= year <= last:
        errors[field] = f"{label}应在 {EDUCATION_FIRST_YEAR}–{last} 年之间"
        return None
    return year


def self_education_save(
    *,
    user: Any,
    university: str,
    level: str,
    major: str,
    enrolment: str,
    graduation: str,
) -> EducationSaved:
    """Saves the education the student enters on their own record: a university and a major
    from the reference catalog (undergraduate majors, or a vocational 专业大类), the level,
    and the enrolment and graduation years. The row's source is the student
    (``Source.STUDENT``, with the account as its reference) and it stands unverified until
    staff check it. Saving again replaces the student's own unverified row; rows from
    surveys or staff are never touched. Every refusal is a ``ValidationError`` in Chinese and
    saves nothing. Recommendations are recomputed after the commit."""
    from qinghe.reference.models import MajorCategory
    from qinghe.reference.selectors import major_match, university_match

    from .consent import consent_state
    from .models import Education, Level

    talent = own_talent(user=user)
    if talent is None:
        raise ApplicationError("请先认领你的人才档案，再填写教育经历")
    errors: dict[str, str] = {}
    university_text = (university or "").strip()
    school = university_match(university_text) if university_text else None
    if not university_text:
        errors["university"] = "请填写就读院校"
    elif len(university_text) > 120:
        errors["university"] = "院校名称不能超过 120 个字"
    elif school is None:
        errors["university"] = "未找到该院校，请从列表中选择院校的全称"
    if level not in Level.values:
        errors["level"] = "请选择学历层次：专科、本科、硕士或博士"
    major_text = (major or "").strip()
    major_row = major_match(major_text) if major_text else None
    category = None
    if major_row is None and major_text:
        category = (
            MajorCategory.objects.filter(name=major_text, kind=MajorCategory.Kind.VOCATIONAL)
            .order_by("code")
            .first()
        )
    if not major_text:
        errors["major"] = "请填写所学专业"
    elif len(major_text) > 120:
        errors["major"] = "专业名称不能超过 120 个字"
    elif major_row is None and category is None:
        errors["major"] = "未找到该专业，请从列表中选择本科专业或高职专科专业大类"
    enrolment_year = _year(enrolment, "enrolment", "入学时间", errors)
    graduation_year = _year(graduation, "graduation", "毕业时间", errors)
    if enrolment_year is not None and graduation_year is not None:
        if graduation_year < enrolment_year:
            errors["graduation"] = "毕业时间不能早于入学时间"
        elif graduation_year - enrolment_year > EDUCATION_LONGEST:
            errors["graduation"] = f"入学到毕业不能超过 {EDUCATION_LONGEST} 年"
    if errors:
        raise ValidationError(errors)
    assert school is not None
    with transaction.atomic():
        talent = Talent.objects.select_for_update().get(pk=talent.pk)
        row = (
            talent.educations.filter(source=Source.STUDENT, verified_at__isnull=True)
            .order_by("-id")
            .first()
        )
        created = row is None
        if row is None:
            row = Education(talent=talent)
        row.university = school
        row.university_name = school.name
        row.is_double_first_class = school.is_double_first_class
        row.major = major_row
        row.major_category = major_row.category if major_row is not None else category
        row.major_name = major_row.name if major_row is not None else major_text
        row.level = level
        row.enrolment_year = enrolment_year
        row.graduation_year = graduation_year
        row.source = Source.STUDENT
        row.source_ref = str(user.pk)
        row.save()
        audit_record(
            action="create" if created else "update",
            actor=user,
            target=talent,
            summary=(
                f"学生填报教育经历：{row.university_name} {row.major_name} "
                f"{row.get_level_display()} {enrolment_year}–{graduation_year}"
            ),
            data={"education": row.pk, "source": Source.STUDENT},
        )
        from qinghe.matching.tasks import refresh_talent

        talent_pk = talent.pk
        transaction.on_commit(lambda: refresh_talent.enqueue(talent_pk))
    consenting = bool(consent_state(talent=talent).get(Consent.Purpose.MATCHING))
    return EducationSaved(education=row, matching_consent=consenting)


def self_education_current(*, user: Any) -> Any:
    """The student's own unverified education row (what the form edits), or None."""
    talent = own_talent(user=user)
    if talent is None:
        return None
    return (
        talent.educations.filter(source=Source.STUDENT, verified_at__isnull=True)
        .select_related("major_category")
        .order_by("-id")
        .first()
    )


@transaction.atomic
def education_verify(*, viewer: Any, talent: Talent, education_id: int) -> Any:
    """Staff confirm an education row a student entered (核实): who and when, audited. Only
    rows from the student and not yet verified; a refusal changes nothing."""
    from .models import Education

    if not can_verify(viewer, talent):
        raise PermissionDenied(
            "只能核实分配给你的学生的档案"
            if getattr(viewer, "role", None) == Role.LIAISON
            else "无权核实学生填报的教育经历"
        )
    row = Education.objects.select_for_update().filter(talent=talent, pk=education_id).first()
    if row is None:
        raise NotFound("未找到该记录")
    if row.source != Source.STUDENT:
        raise ApplicationError("该教育经历不是学生填报的，无需核实")
    if row.verified_at is not None:
        raise ApplicationError("该教育经历已核实过")
    row.verified_at = timezone.now()
    row.verified_by = viewer
    row.save(update_fields=["verified_at", "verified_by"])
    audit_record(
        action="update",
        actor=viewer,
        target=talent,
        summary=f"核实学生填报的教育经历：{row.university_name} {row.major_name}",
        data={"education": row.pk},
    )
    return row
