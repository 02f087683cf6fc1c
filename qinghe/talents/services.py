"""Writes to the talent database. Every value keeps its source; nothing is silently replaced."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import xlsxwriter
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from qinghe.core.audit import audit_record
from qinghe.core.errors import ApplicationError, PermissionDenied
from qinghe.core.masking import mask_id_number, mask_name, mask_phone
from qinghe.core.spreadsheets import escape_cell

from .identity import InvalidValue, native_evidence, parse_id_number, parse_phone
from .models import (
    Consent,
    Education,
    Level,
    PhoneNumber,
    Segment,
    Source,
    Talent,
    ValueChange,
)
from .selectors import TALENT_EDITORS, TalentFilter, can_unmask, talent_list

if TYPE_CHECKING:
    from qinghe.accounts.models import User

HUMAN_SOURCES = frozenset({Source.STUDENT, Source.STAFF, Source.LIAISON})
EDITABLE_FIELDS = ("name", "gender", "wechat", "email", "hukou_text", "high_school", "note")
NOTICE_VERSION = "2026-01"


def source_stamp(source: str, ref: str | int = "", label: str = "") -> dict[str, Any]:
    return {
        "source": str(source),
        "ref": str(ref),
        "label": label,
        "at": timezone.now().isoformat(),
    }


def _current_source(talent: Talent, field: str) -> str:
    return str(talent.provenance.get(field, {}).get("source", ""))


def talent_apply_value(
    *, talent: Talent, field: str, value: str, stamp: dict[str, Any], authoritative: bool
) -> str:
    """Applies one value from one source. Returns 'set', 'same', 'replaced' or 'conflict'.

    ``authoritative`` sources (the student, staff, a liaison's log) replace the current value
    and the old one is kept as a ValueChange. A non-authoritative source (a survey import) that
    disagrees with a value a person gave is recorded as a conflict for staff to resolve."""
    current = getattr(talent, field) or ""
    if str(current) == str(value):
        return "same"
    if not current:
        setattr(talent, field, value)
        talent.provenance[field] = stamp
        return "set"
    old_stamp = talent.provenance.get(field, {})
    if not authoritative and _current_source(talent, field) in HUMAN_SOURCES:
        ValueChange.objects.create(
            talent=talent,
            field=field,
            old_value=str(current),
            new_value=str(value),
            old_source=old_stamp,
            new_source=stamp,
            state=ValueChange.State.CONFLICT,
        )
        return "conflict"
    ValueChange.objects.create(
        talent=talent,
        field=field,
        old_value=str(current),
        new_value=str(value),
        old_source=old_stamp,
        new_source=stamp,
        state=ValueChange.State.REPLACED,
    )
    setattr(talent, field, value)
    talent.provenance[field] = stamp
    return "replaced"


def talent_refresh_evidence(*, talent: Talent) -> None:
    talent.native_evidence = native_evidence(
        id_prefix=talent.id_prefix,
        hukou_text=talent.hukou_text,
        hukou_county_code=talent.hukou_county_code,
    )


@transaction.atomic
def talent_update(
    *, talent: Talent, data: dict[str, str], source: str, actor: User | None, ref: str | int = ""
) -> list[str]:
    """An edit by the student, staff or a liaison. Returns the names of the changed fields."""
    talent = Talent.objects.select_for_update().get(pk=talent.pk)
    labels: dict[str, str] = {
        Source.STUDENT: "学生本人",
        Source.STAFF: "工作人员",
        Source.LIAISON: "服务专员",
    }
    label = labels.get(source, "")
    stamp = source_stamp(source, ref or getattr(actor, "pk", ""), label)
    changed: list[str] = []
    for field, value in data.items():
        if field not in EDITABLE_FIELDS:
            raise ValidationError({field: "该字段不能在此修改"})
        outcome = talent_apply_value(
            talent=talent, field=field, value=value, stamp=stamp, authoritative=True
        )
        if outcome != "same":
            changed.append(field)
    if changed:
        talent_refresh_evidence(talent=talent)
        talent.save()
        audit_record(
            action="update", actor=actor, target=talent, summary=f"修改 {', '.join(changed)}"
        )
    return changed


@transaction.atomic
def talent_add_phone(
    *, talent: Talent, raw: str, source: str, ref: str = "", actor: User | None = None
) -> PhoneNumber:
    try:
        number = parse_phone(raw)
    except InvalidValue as exc:
        raise ValidationError({"phone": str(exc)}) from exc
    from qinghe.accounts.phones import phone_index

    index = phone_index(number)
    phone = talent.phones.filter(number_index=index).first()
    talent.phones.exclude(number_index=index).update(is_current=False)
    if phone is None:
        phone = PhoneNumber.objects.create(
            talent=talent,
            number=number,
            number_index=index,
            is_current=True,
            source=source,
            source_ref=ref,
        )
    elif not phone.is_current:
        phone.is_current = True
        phone.save(update_fields=["is_current"])
    if actor is not None:
        audit_record(
            action="update",
            actor=actor,
            target=talent,
            summary=f"手机号更新为 {mask_phone(number)}",
        )
    return phone


@transaction.atomic
def value_change_resolve(*, viewer: User, change: ValueChange, choose: str) -> Talent:
    if getattr(viewer, "role", None) not in TALENT_EDITORS:
        raise PermissionDenied("无权核实该记录")
    if choose not in {"old", "new"}:
        raise ValidationError({"choose": "请选择采用原值或新值"})
    change = ValueChange.objects.select_for_update().get(pk=change.pk)
    if change.state != ValueChange.State.CONFLICT:
        raise ApplicationError("该差异已经处理过")
    talent = Talent.objects.select_for_update().get(pk=change.talent_id)
    if choose == "new":
        setattr(talent, change.field, change.new_value)
        talent.provenance[change.field] = {**change.new_source, "confirmed_by": viewer.pk}
    else:
        talent.provenance[change.field] = {**change.old_source, "confirmed_by": viewer.pk}
    talent_refresh_evidence(talent=talent)
    talent.save()
    change.state = ValueChange.State.RESOLVED
    change.resolved_by = viewer
    change.resolved_value = choose
    change.resolved_at = timezone.now()
    change.save(update_fields=["state", "resolved_by", "resolved_value", "resolved_at"])
    audit_record(
        action="update",
        actor=viewer,
        target=talent,
        summary=f"核实 {change.field}：采用{'新值' if choose == 'new' else '原值'}",
    )
    return talent


@transaction.atomic
def talent_unmask(
    *,
    viewer: User,
    talent: Talent,
    field: str,
    reason: str,
    now: datetime | None = None,
) -> str:
    """The full value of an ID number or the current phone, for a permitted viewer, audited.
    Liaisons and station staff need a relationship, the student's liaison consent and stay
    under a daily limit (``qinghe.talents.unmasking``); a refusal reads and writes nothing."""
    from django.contrib.auth import get_user_model

    from .unmasking import UNMASK_LIMITED_ROLES, unmask_refusal

    reason = (reason or "").strip()
    if getattr(viewer, "role", None) in UNMASK_LIMITED_ROLES:
        # One unmasking at a time per user, so two requests cannot both pass the daily limit.
        get_user_model().objects.select_for_update().filter(pk=viewer.pk).first()
    refusal = unmask_refusal(viewer=viewer, talent=talent, field=field, now=now)
    if refusal is not None:
        raise PermissionDenied(refusal)
    if len(reason) < 2:
        raise ValidationError({"reason": "请填写查看事由"})
    if field == "id_number":
        value = talent.id_number
    else:
        phone = talent.phones.filter(is_current=True).first()
        value = phone.number if phone else ""
    audit_record(
        action="unmask",
        actor=viewer,
        target=talent,
        summary=f"查看完整{'身份证号' if field == 'id_number' else '手机号'}",
        reason=reason[:300],
        data={"field": field},
    )
    return value


EXPORT_COLUMNS = [
    "姓名",
    "性别",
    "身份证号",
    "手机号",
    "院校",
    "专业",
    "学历",
    "毕业年份",
    "状态",
    "鹤山籍依据",
    "镇街",
]


EXPORT_CHUNK = 500


def batched(items: Iterable[Talent], size: int) -> Iterator[list[Talent]]:
    batch: list[Talent] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def talents_export_check(*, viewer: User, unmask: bool, reason: str) -> None:
    """Refuses a full (unmasked) export without the permission or a reason; reads nothing."""
    if unmask and not (can_unmask(viewer, "id_number") and can_unmask(viewer, "phone")):
        raise PermissionDenied("无权导出完整个人信息")
    if unmask and len(reason.strip()) < 2:
        raise ValidationError({"reason": "导出完整信息须填写事由"})


def talents_export(
    *,
    viewer: User,
    filters: TalentFilter,
    unmask: bool,
    reason: str = "",
    progress: Callable[[int, int], None] | None = None,
    chunk: int | None = None,
) -> tuple[bytes, int]:
    """An .xlsx of the filtered list. Masked unless the viewer may unmask and asked to.
    Rows are read ``chunk`` at a time; ``progress(done, total)`` is told after each chunk
    (the background export's progress bar)."""
    talents_export_check(viewer=viewer, unmask=unmask, reason=reason)
    chunk = chunk or EXPORT_CHUNK
    talents = talent_list(viewer=viewer, filters=filters)
    total = talents.count() if progress is not None else 0
    if progress is not None:
        progress(0, total)
    # Choice labels looked up once (get_FOO_display hashes lazy labels on every call).
    genders = {k: str(v) for k, v in Talent.Gender.choices}
    statuses = {k: str(v) for k, v in Talent.Status.choices}
    evidences = {k: str(v) for k, v in Talent.Evidence.choices}
    levels = {k: str(v) for k, v in Level.choices}
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    sheet = workbook.add_worksheet("人才名单")
    for col, title in enumerate(EXPORT_COLUMNS):
        sheet.write_string(0, col, title)
    count = 0
    for batch in batched(talents.iterator(chunk_size=chunk), chunk):
        # Each chunk's current phones and educations in one query each (a prefetch would
        # build a queryset per talent).
        ids = [talent.pk for talent in batch]
        phone_of: dict[int, str] = {}
        for talent_id, number in (
            PhoneNumber.objects.filter(talent_id__in=ids, is_current=True)
            .order_by("pk")
            .values_list("talent_id", "number")
        ):
            phone_of.setdefault(talent_id, number)
        educations_of: dict[int, list[Education]] = {}
        for education in Education.objects.filter(talent_id__in=ids).only(
            "talent_id", "university_name", "major_name", "level", "graduation_year"
        ):
            educations_of.setdefault(education.talent_id, []).append(education)
        for talent in batch:
            count += 1
            phone = phone_of.get(talent.pk, "")
            educations = sorted(
                educations_of.get(talent.pk, []),
                key=lambda e: e.graduation_year or 0,
                reverse=True,
            )
            edu = educations[0] if educations else None
            values = [
                talent.name if unmask else mask_name(talent.name),
                genders.get(talent.gender, talent.gender) if talent.gender else "",
                talent.id_number if unmask else mask_id_number(talent.id_number),
                phone if unmask else mask_phone(phone),
                edu.university_name if edu else "",
                edu.major_name if edu else "",
                levels.get(edu.level, edu.level) if edu and edu.level else "",
                str(edu.graduation_year) if edu and edu.graduation_year else "",
                statuses.get(talent.status, talent.status),
                evidences.get(talent.native_evidence, talent.native_evidence),
                talent.town.name if talent.town else "",
            ]
            for col, value in enumerate(values):
                sheet.write_string(count, col, str(escape_cell(value)))
        if progress is not None:
            progress(count, total)
    workbook.close()
    audit_record(
        action="export",
        actor=viewer,
        target_type="talents.talent",
        summary=f"导出人才名单 {count} 条（{'完整信息' if unmask else '脱敏'}）",
        reason=reason,
        count=count,
        # The filters as the page shows them: a search by ID number or phone only masked.
        data={"filters": filters.as_shown_dict(), "unmasked": unmask},
    )
    return buffer.getvalue(), count


@transaction.atomic
def segment_create(*, owner: User, name: str, filters: TalentFilter) -> Segment:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "请填写分组名称"})
    if len(name) > 100:
        raise ValidationError({"name": "分组名称不能超过 100 个字"})
    if Segment.objects.filter(owner=owner, name=name).exists():
        raise ValidationError({"name": "已有同名分组"})
    query = filters.query
    if query is not None and query.sensitive:
        # A segment's filters are stored as they are: an ID number or a phone would sit in
        # plain text in the segments table.
        raise ValidationError({"q": "按身份证号或手机号查找的结果不能保存为分组"})
    segment = Segment.objects.create(owner=owner, name=name, filters=filters.as_dict())
    audit_record(action="create", actor=owner, target=segment, summary=f"保存人群分组 {name}")
    return segment


@transaction.atomic
def talent_merge(*, viewer: User, keep: Talent, others: list[Talent]) -> Talent:
    """Merges duplicates into ``keep``: every record moves over with its source; the others
    stay as empty shells pointing at ``keep`` so their history can still be followed."""
    if getattr(viewer, "role", None) not in TALENT_EDITORS:
        raise PermissionDenied("无权合并人才记录")
    others = [o for o in others if o.pk != keep.pk]
    if not others:
        raise ApplicationError("请至少选择一条要合并的记录")
    keep = Talent.objects.select_for_update().get(pk=keep.pk)
    if keep.merged_into_id:
        raise ApplicationError("保留的记录本身已被合并")
    stamp = source_stamp(Source.STAFF, viewer.pk, "工作人员合并")
    for other in Talent.objects.select_for_update().filter(pk__in=[o.pk for o in others]):
        if other.merged_into_id:
            raise ApplicationError("所选记录已被合并过")
        if keep.user_id and other.user_id:
            raise ApplicationError("两条记录都已被学生认领，不能合并")
        for field in ("name", "gender", "wechat", "email", "hukou_text", "high_school", "note"):
            value = getattr(other, field)
            if value:
                talent_apply_value(
                    talent=keep,
                    field=field,
                    value=value,
                    stamp=other.provenance.get(field, stamp),
                    authoritative=False,
                )
        if other.id_number and not keep.id_number:
            keep.id_number, keep.id_index, keep.id_prefix = (
                other.id_number,
                other.id_index,
                other.id_prefix,
            )
            keep.birth_date = keep.birth_date or other.birth_date
            other.id_index = None
            keep.provenance["id_number"] = other.provenance.get("id_number", stamp)
        existing_phones = set(keep.phones.values_list("number_index", flat=True))
        for phone in other.phones.all():
            if phone.number_index in existing_phones:
                phone.delete()
            else:
                phone.talent = keep
                phone.is_current = False
                phone.save(update_fields=["talent", "is_current"])
        other.educations.update(talent=keep)
        other.destinations.update(talent=keep)
        other.import_rows.update(talent=keep)
        other.value_changes.update(talent=keep)
        other.consents.update(talent=keep)
        if other.user_id and not keep.user_id:
            keep.user_id, other.user_id = other.user_id, None
        other.merged_into = keep
        other.save()
        audit_record(
            action="merge",
            actor=viewer,
            target=keep,
            summary=f"合并人才记录 #{other.pk} → #{keep.pk}",
        )
    talent_refresh_evidence(talent=keep)
    keep.save()
    talent_recompute(talent=keep)
    return keep


def talent_recompute(*, talent: Talent) -> Talent:
    """Re-derives status, returned-home and latest graduation year from the records."""
    from .normalize import derive_status

    educations = list(talent.educations.all())
    # derive_status takes the last destination given on a tie of year: oldest first here.
    destinations = list(talent.destinations.order_by("year", "created_at", "id"))
    status, returned = derive_status(educations, destinations, timezone.localdate())
    years = [e.graduation_year for e in educations if e.graduation_year]
    Talent.objects.filter(pk=talent.pk).update(
        status=status, returned_home=returned, graduation_year=max(years) if years else None
    )
    talent.status, talent.returned_home = status, returned
    talent.graduation_year = max(years) if years else None
    return talent


@transaction.atomic
def consent_record(
    *,
    talent: Talent,
    purpose: str,
    granted: bool,
    actor: User | None,
    enterprise: Any = None,
    notice_version: str = NOTICE_VERSION,
) -> Consent:
    if purpose not in Consent.Purpose.values:
        raise ValidationError({"purpose": "未知的授权用途"})
    if purpose == Consent.Purpose.SHARE_ENTERPRISE and enterprise is None:
        raise ValidationError({"enterprise": "向企业提供信息须针对具体企业单独授权"})
    consent = Consent.objects.create(
        talent=talent,
        purpose=purpose,
        enterprise=enterprise,
        granted=granted,
        notice_version=notice_version,
        recorded_by=actor,
    )
    audit_record(
        action="update",
        actor=actor,
        target=talent,
        summary=f"{'同意' if granted else '撤回'}：{consent.get_purpose_display()}",
    )
    return consent


def id_number_set(*, talent: Talent, raw: str, stamp: dict[str, Any]) -> None:
    """Sets a validated ID number with its blind index, prefix, birth date and gender."""
    try:
        parsed = parse_id_number(raw)
    except InvalidValue as exc:
        raise ValidationError({"id_number": str(exc)}) from exc
    clash = Talent.objects.filter(id_index=parsed.index).exclude(pk=talent.pk).exists()
    if clash:
        raise ApplicationError("该身份证号已对应另一条人才记录，请走合并流程")
    talent.id_number = parsed.number
    talent.id_index = parsed.index
    talent.id_prefix = parsed.prefix
    talent.birth_date = parsed.birth_date
    talent.gender = talent.gender or parsed.gender
    talent.provenance["id_number"] = stamp
    talent_refresh_evidence(talent=talent)
