"""Reads of the talent database, scoped by who asks."""

from __future__ import annotations

import io
import re
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from django.core.files.storage import default_storage
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.http import QueryDict

from qinghe.core.audit import audit_record
from qinghe.core.errors import NotFound
from qinghe.core.roles import Role

# consent_state lives in .consent; views.py still reads it from here.
from .consent import consent_state as consent_state
from .models import Education, ImportBatch, PhoneNumber, Segment, Talent, ValueChange

if TYPE_CHECKING:
    from qinghe.accounts.models import User

# Who may read the talent database, and who may see full ID numbers / phone numbers when they
# ask for them (each unmasking is audited with a reason).
TALENT_READERS = frozenset(
    {
        Role.HR_STAFF,
        Role.EDU_STAFF,
        Role.LEAGUE_STAFF,
        Role.LIAISON,
        Role.STATION_STAFF,
        Role.SYSADMIN,
    }
)
TALENT_EDITORS = frozenset({Role.HR_STAFF, Role.SYSADMIN})
UNMASK_ID_ROLES = frozenset({Role.HR_STAFF, Role.SYSADMIN})
UNMASK_PHONE_ROLES = frozenset({Role.HR_STAFF, Role.LIAISON, Role.STATION_STAFF, Role.SYSADMIN})
# Who may decide whether a record a student created is genuine. The same rule as editing a
# talent: HR bureau staff and system administrators any record, a liaison only the students
# actively assigned to them (as with the edits a liaison's contact log applies).
VERIFY_ANY_ROLES = TALENT_EDITORS


def can_unmask(user: User, field_name: str) -> bool:
    role = getattr(user, "role", None)
    if field_name == "id_number":
        return role in UNMASK_ID_ROLES
    if field_name == "phone":
        return role in UNMASK_PHONE_ROLES
    return False


def can_verify(viewer: User, talent: Talent) -> bool:
    role = getattr(viewer, "role", None)
    if role in VERIFY_ANY_ROLES:
        return True
    if role == Role.LIAISON:
        return talent.liaison_assignments.filter(liaison=viewer, active=True).exists()
    return False


# The verification filter of the staff list. Without it the list (and everything built on
# it: the status overview, exports, segments, the API) leaves out records staff found not
# genuine; the page says how many were left out. Pending records are counted, and the page
# says how many of them there are.
VERIFICATION_FILTERS: dict[str, str] = {
    Talent.Verification.PENDING: "学生自建，待核实",
    Talent.Verification.VERIFIED: "学生自建，已核实",
    Talent.Verification.REJECTED: "学生自建，核实不属实",
}

# native_evidence=any: every record with some evidence of being a Heshan native (the plan's
# board and funnel link here).
NATIVE_ANY = "any"


@dataclass
class TalentFilter:
    q: str = ""
    university: str = ""
    major_category: str = ""
    graduation_year: int | None = None
    status: str = ""
    native_evidence: str = ""
    town: str = ""
    returned_home: str = ""
    chapter: int | None = None
    verification: str = ""
    # "1": only records with a value two sources disagree on, awaiting HR staff's choice.
    conflict: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_query(cls, data: QueryDict | dict[str, Any]) -> TalentFilter:
        def get(name: str) -> str:
            value = data.get(name, "")
            return str(value).strip() if value is not None else ""

        year = get("graduation_year")
        return cls(
            q=get("q")[:50],
            university=get("university")[:100],
            major_category=get("major_category")[:16],
            graduation_year=int(year) if year.isdigit() and 1950 < int(year) < 2100 else None,
            status=get("status") if get("status") in Talent.Status.values else "",
            native_evidence=get("native_evidence")
            if get("native_evidence") in {*Talent.Evidence.values, NATIVE_ANY}
            else "",
            town=get("town")[:16],
            returned_home=get("returned_home") if get("returned_home") in {"1", "0"} else "",
            chapter=int(get("chapter")) if get("chapter").isdigit() else None,
            verification=get("verification") if get("verification") in VERIFICATION_FILTERS else "",
            conflict="1" if get("conflict") == "1" else "",
        )

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in ("", None, {}) and k != "extra"}

    def as_shown_dict(self) -> dict[str, Any]:
        """``as_dict`` with a search by ID number or phone masked (for audit rows and pages)."""
        shown = self.as_dict()
        query = self.query
        if query is not None and query.sensitive:
            shown["q"] = query.shown
        return shown

    @property
    def query(self) -> TalentQuery | None:
        """The search box's text read as an ID number, a phone or a name (``talent_query``)."""
        return talent_query(self.q)


@dataclass(frozen=True)
class TalentQuery:
    """What the staff list's search box was given: an ID number or a phone (looked up by
    its blind index, shown only masked) or a name."""

    kind: str  # "id_number" | "phone" | "name"
    value: str  # the blind index, or the name as typed
    shown: str  # what the page may show of it

    @property
    def sensitive(self) -> bool:
        return self.kind != "name"


_QUERY_DIGITS = re.compile(r"[\d\s+()\-.xX]+")


def talent_query(text: str) -> TalentQuery | None:
    """An ID number when it parses as one (check digit and birth date), else a phone when it
    parses as a mobile number, else a name. Only text made of digits and separators is tried
    as a number, so a name never reaches the parsers."""
    from qinghe.accounts.phones import phone_index
    from qinghe.core.masking import mask_id_number, mask_phone

    from .identity import InvalidValue, parse_id_number, parse_phone

    text = (text or "").strip()
    if not text:
        return None
    if _QUERY_DIGITS.fullmatch(text) and sum(c.isdigit() for c in text) >= 11:
        try:
            parsed = parse_id_number(text)
        except InvalidValue:
            pass
        else:
            return TalentQuery("id_number", parsed.index, mask_id_number(parsed.number))
        try:
            number = parse_phone(text)
        except InvalidValue:
            pass
        else:
            return TalentQuery("phone", phone_index(number), mask_phone(number))
    return TalentQuery("name", text, text)


class _AnyOf(Func):
    """``column = ANY(ARRAY(subquery))`` on PostgreSQL — the subquery is run once and its
    list looked up, never turned into a join the planner may walk in the outer query's order
    — and ``column IN (subquery)`` elsewhere."""

    output_field = BooleanField()
    arity = 2

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:  # type: ignore[override]
        column, subquery = self.source_expressions
        column_sql, column_params = compiler.compile(column)
        subquery_sql, subquery_params = compiler.compile(subquery)
        params = (*column_params, *subquery_params)
        if connection.vendor == "postgresql":
            return f"{column_sql} = ANY(ARRAY{subquery_sql})", params
        return f"{column_sql} IN {subquery_sql}", params


def talent_list(
    *, viewer: User, filters: TalentFilter, among: list[int] | None = None
) -> QuerySet[Talent]:
    """The talents ``viewer`` may list that match ``filters``, in the list's order; with
    ``among``, only those of these ids that still match (a kept page's records, read again)."""
    if getattr(viewer, "role", None) not in TALENT_READERS:
        return Talent.objects.none()
    qs = Talent.objects.filter(merged_into__isnull=True).select_related("town")
    if among is not None:
        qs = qs.filter(pk__in=among)
    query = talent_query(filters.q)
    exact_first = False
    if query is not None and query.kind == "id_number":
        qs = qs.filter(id_index=query.value)
    elif query is not None and query.kind == "phone":
        qs = qs.filter(
            Exists(PhoneNumber.objects.filter(talent=OuterRef("pk"), number_index=query.value))
        )
    elif query is not None:
        # A full name matches exactly (listed first), and a part of one as before.
        qs = qs.filter(name__contains=query.value)
        exact_first = True
    if filters.university or filters.major_category or filters.graduation_year:
        educations = Education.objects.all()
        if filters.university.isdigit():
            educations = educations.filter(university_id=int(filters.university))
        elif filters.university:
            # The school chosen, not every school whose name contains the text (中山 is not
            # 中山职业技术学院).
            educations = educations.filter(
                Q(university_name=filters.university) | Q(university__name=filters.university)
            )
        if filters.major_category:
            educations = educations.filter(major_category__code=filters.major_category)
        if filters.graduation_year:
            educations = educations.filter(graduation_year=filters.graduation_year)
        if (filters.university or filters.graduation_year) and among is None:
            # A school's or a cohort's educations (at most a few tenths of them): the talents
            # are read from that list, then sorted. Asked as EXISTS, PostgreSQL walked the
            # list's order until 30 matched, which for an early cohort is most of the talents
            # (graduation_year is the order's first key and the filter's: 270 ms at 115,000
            # talents for 2022, against 12 ms). A few given ids are checked one by one.
            cohort = educations.order_by().values("talent_id")
            qs = qs.filter(_AnyOf(F("pk"), Subquery(cohort)))
        else:
            qs = qs.filter(Exists(educations.filter(talent=OuterRef("pk"))))
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.native_evidence == NATIVE_ANY:
        qs = qs.exclude(native_evidence=Talent.Evidence.NONE)
    elif filters.native_evidence:
        qs = qs.filter(native_evidence=filters.native_evidence)
    if filters.town:
        qs = qs.filter(town__code=filters.town)
    if filters.returned_home:
        qs = qs.filter(returned_home=filters.returned_home == "1")
    if filters.chapter:
        qs = qs.filter(chapter_id=filters.chapter)
    if filters.conflict:
        qs = qs.filter(
            Exists(
                ValueChange.objects.filter(talent=OuterRef("pk"), state=ValueChange.State.CONFLICT)
            )
        )
    if filters.verification:
        qs = qs.filter(verification=filters.verification)
    else:
        qs = qs.exclude(verification=Talent.Verification.REJECTED)
    if exact_first and query is not None:
        exact = Case(When(name=query.value, then=Value(0)), default=Value(1))
        return qs.order_by(exact, "-graduation_year", "name", "id")
    return qs.order_by("-graduation_year", "name", "id")


def talent_get_for_viewer(*, viewer: User, talent_id: int) -> Talent:
    """The talent if the viewer may see it; NotFound alike for missing and forbidden."""
    role = getattr(viewer, "role", None)
    qs = Talent.objects.select_related("town", "user")
    if role in TALENT_READERS:
        talent = qs.filter(pk=talent_id).first()
    elif role == Role.STUDENT:
        talent = qs.filter(pk=talent_id, user=viewer).first()
    else:
        talent = None
    if talent is None:
        raise NotFound()
    return talent


def talent_for_student(*, user: User) -> Talent | None:
    return Talent.objects.filter(user=user, merged_into__isnull=True).first()


def student_has_talent(*, user: User) -> bool:
    """Whether the student has claimed a talent record (``talent_for_student`` without reading it)."""
    return Talent.objects.filter(user=user, merged_into__isnull=True).exists()


def talent_timeline(*, talent: Talent) -> list[dict[str, Any]]:
    """Education, destinations, imports and edits of one talent, newest first."""
    events: list[dict[str, Any]] = []
    for edu in talent.educations.select_related("university", "major"):
        events.append(
            {
                "at": edu.created_at,
                "kind": "education",
                "title": f"教育经历：{edu.university_name} {edu.major_name} {edu.get_level_display()}",
                "detail": f"{edu.enrolment_year or '?'}–{edu.graduation_year or '?'}",
                "source": edu.get_source_display(),
            }
        )
    for dest in talent.destinations.all():
        events.append(
            {
                "at": dest.created_at,
                "kind": "destination",
                "title": f"去向：{dest.get_kind_display()} {dest.employer}",
                "detail": dest.region_text,
                "source": dest.get_source_display(),
            }
        )
    for row in talent.import_rows.select_related("batch"):
        events.append(
            {
                "at": row.batch.created_at,
                "kind": "import",
                "title": f"导入：{row.batch.source_name}（{row.get_outcome_display()}）",
                "detail": f"{row.batch.file_name} 第 {row.row_number} 行",
                "source": "毕业生调查导入",
            }
        )
    for change in talent.value_changes.all():
        events.append(
            {
                "at": change.created_at,
                "kind": "change",
                "title": f"{FIELD_LABELS.get(change.field, change.field)}：{change.get_state_display()}",
                "detail": "",
                "source": change.new_source.get("label", change.new_source.get("source", "")),
            }
        )
    # Attendance at events is a liaison contact (qinghe.events writes it at check-in).
    for log in talent.contact_logs.filter(channel="event").order_by("-contacted_at")[:50]:
        events.append(
            {
                "at": log.contacted_at,
                "kind": "event",
                "title": log.notes or "参加活动",
                "detail": "",
                "source": "活动签到",
            }
        )
    events.sort(key=lambda e: e["at"], reverse=True)
    return events


FIELD_LABELS: dict[str, str] = {
    "name": "姓名",
    "gender": "性别",
    "id_number": "身份证号",
    "phone": "手机号",
    "wechat": "微信号",
    "email": "电子邮箱",
    "hukou_text": "户籍地",
    "high_school": "高中",
    "note": "备注",
}


def conflicts_for(*, talent: Talent) -> QuerySet[ValueChange]:
    return talent.value_changes.filter(state=ValueChange.State.CONFLICT)


def segment_list(*, viewer: User) -> QuerySet[Segment]:
    return Segment.objects.filter(owner=viewer)


def segment_get_for_viewer(*, viewer: User, segment_id: int) -> Segment:
    segment = Segment.objects.filter(pk=segment_id, owner=viewer).first()
    if segment is None:
        raise NotFound()
    return segment


def segment_members(*, viewer: User, segment: Segment) -> QuerySet[Talent]:
    return talent_list(viewer=viewer, filters=TalentFilter.from_query(segment.filters))


def duplicate_groups(*, viewer: User, limit: int = 200) -> list[dict[str, Any]]:
    """Likely duplicates: same name and phone, or same name, birth date and university.

    (The same ID number cannot occur twice: the blind index is unique.)"""
    from django.db.models import Count

    from .models import PhoneNumber

    if getattr(viewer, "role", None) not in TALENT_READERS:
        return []
    groups: list[dict[str, Any]] = []
    active = Talent.objects.filter(merged_into__isnull=True)
    by_phone = (
        PhoneNumber.objects.filter(talent__merged_into__isnull=True)
        .values("number_index", "talent__name")
        .annotate(n=Count("talent", distinct=True))
        .filter(n__gt=1)[:limit]
    )
    for entry in by_phone:
        ids = list(
            PhoneNumber.objects.filter(
                number_index=entry["number_index"],
                talent__name=entry["talent__name"],
                talent__merged_into__isnull=True,
            )
            .values_list("talent_id", flat=True)
            .distinct()
        )
        groups.append({"reason": "姓名与手机号相同", "talents": list(active.filter(pk__in=ids))})
    by_birth = _same_birth_and_university()[:limit]
    for same in by_birth:
        talents = active.filter(
            name=same["talent__name"],
            birth_date=same["talent__birth_date"],
            educations__university_name=same["university_name"],
        ).distinct()
        groups.append({"reason": "姓名、出生日期与院校相同", "talents": list(talents)})
    return groups


def duplicate_group_count(*, viewer: User) -> int:
    """How many groups the duplicates page lists (before its limit): two grouped COUNTs. Kept
    for the HR workbench (workbench/selectors.py) under the TALENTS version, ≤ 5 minutes."""
    from django.db.models import Count

    from .models import PhoneNumber

    if getattr(viewer, "role", None) not in TALENT_READERS:
        return 0
    by_phone = (
        PhoneNumber.objects.filter(talent__merged_into__isnull=True)
        .values("number_index", "talent__name")
        .annotate(n=Count("talent", distinct=True))
        .filter(n__gt=1)
        .count()
    )
    return by_phone + _same_birth_and_university().count()


def _same_birth_and_university() -> QuerySet[Any]:
    """(name, birth date, university) shared by more than one active talent's educations.
    "More than one talent" is the group's smallest and largest talent differing: a hash
    aggregate, where COUNT(DISTINCT talent) sorted every group (258 against ~130 ms of database
    time over 134,000 educations, the HR workbench's slowest query)."""
    from django.db.models import F, Max, Min

    return (
        Education.objects.filter(talent__merged_into__isnull=True, talent__birth_date__isnull=False)
        .values("talent__name", "talent__birth_date", "university_name")
        .annotate(lo=Min("talent_id"), hi=Max("talent_id"))
        .exclude(lo=F("hi"))
    )


def upcoming_graduates(*, today: date | None = None) -> QuerySet[Talent]:
    year = (today or date.today()).year
    return Talent.objects.filter(graduation_year__in=[year, year + 1, year + 2])


def verification_counts(*, viewer: User) -> dict[str, int]:
    """How many active records the viewer can read are in each verification state (one
    query): the count beside the staff list's filter and the note of what it leaves out."""
    from django.db.models import Count

    if getattr(viewer, "role", None) not in TALENT_READERS:
        return dict.fromkeys(VERIFICATION_FILTERS, 0)
    # Only the records in one of these states are read (the verification index): records
    # students created are few, and counting every record cost a scan of the table
    # (18 ms of the staff list's 74 ms of database time at 100k talents).
    totals = Talent.objects.filter(
        merged_into__isnull=True, verification__in=list(VERIFICATION_FILTERS)
    ).aggregate(
        **{state: Count("id", filter=Q(verification=state)) for state in VERIFICATION_FILTERS}
    )
    return {state: int(totals[state] or 0) for state in VERIFICATION_FILTERS}


def talent_overview(*, viewer: User, filters: TalentFilter) -> dict[str, Any]:
    """Counts by status of the filtered list, as an ECharts option, how many of them are
    records students created that still await verification, and how many rows the list has
    (``rows``: the page's paginator takes it instead of counting again), in one query."""
    from django.db.models import Count

    # Grouped by status alone, the pending ones counted beside (grouping by status and
    # verification cost ~6 ms more of database CPU over 75,000 natives on the board bench).
    rows = (
        talent_list(viewer=viewer, filters=filters)
        .order_by()
        .values("status")
        .annotate(
            n=Count("id"),
            waiting=Count("id", filter=Q(verification=Talent.Verification.PENDING)),
        )
    )
    counts: dict[str, int] = {}
    pending = 0
    listed = 0
    for row in rows:
        listed += row["n"]
        counts[row["status"]] = counts.get(row["status"], 0) + row["n"]
        pending += row["waiting"]
    labels = [str(label) for value, label in Talent.Status.choices if counts.get(value)]
    values = [counts[value] for value, _label in Talent.Status.choices if counts.get(value)]
    return {
        "total": sum(values),
        "rows": listed,
        "pending": pending,
        "chart": {
            "tooltip": {"trigger": "axis"},
            "grid": {"left": 10, "right": 40, "top": 10, "bottom": 20, "containLabel": True},
            "xAxis": {"type": "value"},
            "yAxis": {"type": "category", "data": labels, "inverse": True},
            "series": [
                {
                    "type": "bar",
                    "data": values,
                    "itemStyle": {"color": "#0f6b5c"},
                    "label": {"show": True, "position": "right"},
                }
            ],
        },
    }


# --- survey import batches ------------------------------------------------------------------

# Who sees which batches: HR and system administrators see every batch; education bureau staff
# see the batches they uploaded (and nothing else exists for them: 404 alike).
IMPORT_ALL_BATCHES_ROLES = frozenset({"hr_staff", "sysadmin"})


# Quick filter of the import list that the workbench links to.
IMPORT_SHOW_LABELS: dict[str, str] = {
    "attention": "有拒绝、暂缓或待跟进行的批次，以及失败的批次",
}


def import_batch_list(*, viewer: User, show: str = "") -> QuerySet[ImportBatch]:
    """``show`` "attention": batches that left work for a person (rejected, held or flagged
    rows, or a failed run)."""
    batches = ImportBatch.objects.select_related("created_by").order_by("-created_at", "-id")
    if show == "attention":
        batches = batches.filter(
            Q(rejected__gt=0) | Q(held__gt=0) | Q(flagged__gt=0) | Q(state=ImportBatch.State.FAILED)
        )
    if getattr(viewer, "role", None) in IMPORT_ALL_BATCHES_ROLES:
        return batches
    if getattr(viewer, "pk", None) is None:
        return batches.none()
    return batches.filter(created_by=viewer)


def import_batch_get_for_viewer(*, viewer: User, batch_id: int) -> ImportBatch:
    batch = import_batch_list(viewer=viewer).filter(pk=batch_id).first()
    if batch is None:
        raise NotFound()
    return batch


def import_rejected_open(*, viewer: User, batch: ImportBatch) -> Any:
    """Opens the rejected rows file of a batch for download. It holds the rows as they were
    written, unmasked ID numbers and phones included, so every download is audited."""
    if batch.rejected_purged_at is not None:
        raise NotFound("拒绝行文件已按保留期限删除")
    if not batch.rejected_file or not default_storage.exists(batch.rejected_file):
        raise NotFound("该批次没有拒绝的行")
    audit_record(
        action="export",
        actor=viewer,
        target=batch,
        summary=f"下载导入批次 {batch.pk} 的拒绝行",
        count=batch.rejected,
    )
    from .importing.rejected import rejected_file_read

    return io.BytesIO(rejected_file_read(batch))


@dataclass(frozen=True)
class RejectedRowView:
    """A rejected survey row as the import page shows it: its row number, the name masked
    (张*) and the Chinese reason (already scrubbed of ID numbers and phones when written)."""

    row_number: int
    name: str
    reason: str


def import_rejected_rows(*, batch: ImportBatch) -> QuerySet[Any]:
    """The batch's rejected rows in file order (the batch comes from
    ``import_batch_get_for_viewer``, so the viewer may see it)."""
    from .models import ImportRow

    return (
        ImportRow.objects.filter(batch=batch, outcome=ImportRow.Outcome.REJECTED)
        .order_by("row_number")
        .only("row_number", "reason", "raw")
    )


def rejected_rows_shown(*, batch: ImportBatch, rows: Any) -> list[RejectedRowView]:
    """One page of rejected rows for the screen: only the name is read from the row's
    encrypted raw cells, and only masked."""
    import json

    from qinghe.core.masking import mask_name

    from .normalize import NAME

    columns = (batch.header_map or {}).get("columns") or {}
    name_at = next((int(i) for i, canonical in columns.items() if canonical == NAME), None)
    shown = []
    for row in rows:
        name = ""
        if name_at is not None and row.raw:
            try:
                cells = json.loads(row.raw)
            except ValueError:
                cells = []
            if isinstance(cells, list) and name_at < len(cells):
                name = mask_name(str(cells[name_at] or ""))
        shown.append(RejectedRowView(row.row_number, name, row.reason))
    return shown
