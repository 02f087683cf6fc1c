"""The survey import: the education bureau's .xlsx / .csv files into the talent database.

Flow: ``check_file`` (extension, size, zip-bomb limits) -> ``survey_batch_start`` (find the
unfinished batch of the same file and source, or create one) -> ``survey_import_run`` (read
the rows, process them in chunks, write the rejected rows file, audit once).

Each chunk (``DEFAULT_CHUNK_SIZE`` rows) is one transaction: its talents, phones, educations,
destinations, value changes and ``ImportRow`` outcomes are written together with the batch's
counters and ``rows_done``. A crash or kill loses at most the chunk in flight, and running the
same file with the same source again resumes after ``rows_done``. ``rows_done`` counts data
rows (non-blank rows below the header), so a resume may use another chunk size.

Look-ups are done per chunk in a handful of queries (talents by ID blind index, then by name
and phone blind index; their phones, educations, destinations and open conflicts) and writes
are bulk operations. Reference data is matched in memory (``normalize.ReferenceIndex``).
A background thread reads and parses the next chunk while the database works on this one's
writes (``_ReadAhead``); everything that touches the database stays in the calling thread.

Nothing here logs an ID number or a phone: only batch ids and counts.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import logging
import queue
import re
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import xlsxwriter
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.db.models import F
from django.utils import timezone

from qinghe.accounts.phones import phone_index
from qinghe.core.audit import audit_record
from qinghe.core.crypto import EncryptedTextField, encrypt
from qinghe.core.errors import ApplicationError, NotFound
from qinghe.core.gcpause import gc_paused
from qinghe.core.masking import scrub_text
from qinghe.core.spreadsheets import escape_cell
from qinghe.reference.models import Major, Town, University
from qinghe.reference.text import name_key

from . import normalize
from .identity import native_evidence
from .models import (
    Destination,
    Education,
    ImportBatch,
    ImportRow,
    PhoneNumber,
    Source,
    Talent,
    ValueChange,
)
from .normalize import HeaderMap, ParsedRow, ReferenceIndex, Rejection

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = getattr(settings, "QINGHE_IMPORT_MAX_BYTES", 20 * 1024 * 1024)
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
MAX_ZIP_MEMBERS = 5000
DEFAULT_CHUNK_SIZE = 5000
ALLOWED_EXTENSIONS = (".xlsx", ".csv")
HUMAN_SOURCES = frozenset({Source.STUDENT, Source.STAFF, Source.LIAISON})

ProgressCallback = Callable[[ImportBatch], None]


class ImportFileError(ApplicationError):
    """The file cannot be imported at all (type, size, zip bomb, no header). Chinese message."""


class ImportConflict(ApplicationError):
    """Another process moved the batch on while this one worked on a chunk."""


# ---------------------------------------------------------------------------- file checks


def _human_size(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


def file_kind(file_name: str) -> str:
    suffix = Path(file_name or "").suffix.lower()
    if suffix not in ALLOWED_EXTENSIONS:
        raise ImportFileError(f"只能导入 .xlsx 或 .csv 文件（收到的是“{suffix or '无扩展名'}”）")
    return suffix[1:]


def check_size(size: int) -> None:
    if size > MAX_UPLOAD_BYTES:
        raise ImportFileError(
            f"文件过大（{_human_size(size)}），上限为 {_human_size(MAX_UPLOAD_BYTES)}"
        )
    if size == 0:
        raise ImportFileError("文件为空")


def check_xlsx_container(data: bytes) -> None:
    """An .xlsx is a zip: refuse one that would unpack to more than 200 MB, with a
    compression ratio above 100, or with absurdly many members (zip bombs)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ImportFileError("文件不是有效的 .xlsx 文件（无法按 Excel 格式打开）") from exc
    with archive:
        members = archive.infolist()
        if len(members) > MAX_ZIP_MEMBERS:
            raise ImportFileError("文件结构异常（压缩包内文件过多），已拒绝")
        total = sum(member.file_size for member in members)
        packed = sum(member.compress_size for member in members)
        if total > MAX_UNCOMPRESSED_BYTES:
            raise ImportFileError(
                f"文件解压后过大（{_human_size(total)}，上限 {_human_size(MAX_UNCOMPRESSED_BYTES)}），"
                "疑似压缩炸弹，已拒绝"
            )
        for member in members:
            if (
                member.compress_size
                and member.file_size / member.compress_size > MAX_COMPRESSION_RATIO
            ):
                raise ImportFileError("文件压缩比异常（超过 100 倍），疑似压缩炸弹，已拒绝")
        if packed and total / packed > MAX_COMPRESSION_RATIO:
            raise ImportFileError("文件压缩比异常（超过 100 倍），疑似压缩炸弹，已拒绝")
        _check_actual_sizes(archive, members)
        names = {member.filename for member in members}
        if "[Content_Types].xml" not in names or not any(
            n.startswith("xl/worksheets/") for n in names
        ):
            raise ImportFileError("文件不是有效的 .xlsx 文件（缺少工作表）")


def _check_actual_sizes(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo]) -> None:
    """The sizes above are what the archive declares. Unpack every member once (about 0.15 s
    for a 100,000-row survey) to prove them: Python's zipfile stops at the declared size and
    checks the CRC, so a member that would unpack to more than it declares is refused here
    instead of being inflated by the reader."""
    total = 0
    try:
        for member in members:
            with archive.open(member) as stream:
                while block := stream.read(1 << 20):
                    total += len(block)
                    if total > MAX_UNCOMPRESSED_BYTES:
                        raise ImportFileError("文件解压后过大，疑似压缩炸弹，已拒绝")
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise ImportFileError("文件已损坏或被篡改（压缩数据校验失败），已拒绝") from exc


def check_file(file_name: str, data: bytes) -> str:
    """Extension, size and container checks. Returns 'xlsx' or 'csv'."""
    kind = file_kind(file_name)
    check_size(len(data))
    if kind == "xlsx":
        check_xlsx_container(data)
    return kind


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------------- reading

SurveyTable = normalize.SurveyTable


def open_table(kind: str, data: bytes) -> SurveyTable:
    try:
        return normalize.open_table(kind, data)
    except normalize.UnreadableFile as exc:
        raise ImportFileError(str(exc)) from exc


# ---------------------------------------------------------------------------- reference


def reference_index() -> ReferenceIndex:
    """Universities, majors and Heshan towns in memory, three queries."""
    return ReferenceIndex.build(
        universities=University.objects.order_by("-is_double_first_class", "id").values_list(
            "id", "name", "name_key", "alias_keys", "is_double_first_class"
        ),
        majors=Major.objects.order_by("code").values_list("id", "code", "name", "category_id"),
        towns=Town.objects.filter(county_code="440784").order_by("code").values_list("id", "name"),
    )


# ---------------------------------------------------------------------------- chunks


class Record(SimpleNamespace):
    """A row to insert, not yet in the database: attributes named like the model's attnames
    (``talent_id``) or, for a foreign key, the related object itself (``talent``). Plain
    attribute objects instead of model instances because creating 500,000 model instances and
    compiling them one field at a time is most of the time an ORM bulk_create takes."""


_MISSING = object()


def _new_talent() -> Record:
    return Record(
        id=None,
        name="",
        gender="",
        id_number="",
        id_index=None,
        id_prefix="",
        birth_date=None,
        wechat="",
        email="",
        hukou_text="",
        hukou_county_code="",
        town_id=None,
        note="",
        provenance={},
        native_evidence=Talent.Evidence.NONE.value,
        status=Talent.Status.UNKNOWN.value,
        returned_home=False,
        graduation_year=None,
        merged_into_id=None,
    )


def _reserve_ids(model: type[models.Model], count: int) -> list[int] | None:
    """Primary keys for ``count`` new rows, taken inside the chunk's transaction (which holds
    the write lock on SQLite and takes them from the sequence on PostgreSQL). None on other
    databases."""
    table = model._meta.db_table
    column = model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, column, count],
            )
            return [row[0] for row in cursor.fetchall()]
        if connection.vendor == "sqlite":
            qn = connection.ops.quote_name
            cursor.execute(f"SELECT COALESCE(MAX({qn(str(column))}), 0) FROM {qn(table)}")
            highest = cursor.fetchone()[0]
            # AUTOINCREMENT never reuses the ids of deleted rows: respect its counter too.
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cursor.fetchone()
            start = max(highest, row[0] if row else 0) + 1
            return list(range(start, start + count))
    return None


_QUOTED_KEYS: dict[str, str] = {}


def _json_dumps(value: dict[str, Any]) -> str:
    """``json.dumps(value)`` (same output) for a dict whose values are often one shared
    object, as provenance maps every field a row set to the same source: each distinct value
    is serialised once."""
    done: dict[int, str] = {}
    parts = []
    for key, item in value.items():
        text = done.get(id(item))
        if text is None:
            text = done[id(item)] = json.dumps(item)
        quoted = _QUOTED_KEYS.get(key)
        if quoted is None:
            quoted = _QUOTED_KEYS[key] = json.dumps(key)
        parts.append(f"{quoted}: {text}")
    return "{" + ", ".join(parts) + "}"


def _json_param(value: dict[str, Any], conn: Any) -> Any:
    text = _json_dumps(value)
    if conn.vendor == "postgresql":
        from psycopg.types.json import Jsonb

        return Jsonb(text, dumps=str)
    return text


def _prep_value(field: models.Field, value: Any, conn: Any) -> Any:
    """What ``field.get_db_prep_save`` gives, for the field types that need any preparing."""
    if value is None:
        return None
    if isinstance(field, models.JSONField) and type(value) is dict and field.encoder is None:
        return _json_param(value, conn)
    if isinstance(field, EncryptedTextField | models.JSONField | models.DateField):
        return field.get_db_prep_save(value, conn)
    return value


def _insert(
    model: type[models.Model],
    records: Sequence[Any],
    *,
    now: dt.datetime,
    with_pk: bool,
    read_ahead: _ReadAhead | None = None,
) -> None:
    """INSERT of ``records``: ``executemany`` on SQLite, ``COPY`` on PostgreSQL.

    Values go through each field's ``get_db_prep_save`` where it matters (encryption, JSON,
    dates), so the stored form is the ORM's; defaults, ``auto_now`` and ``auto_now_add`` are
    filled as the ORM fills them. Columns no record sets are prepared once for all rows."""
    if not records:
        return
    conn = connections[DEFAULT_DB_ALIAS]  # the connection itself, not the thread-local proxy
    present: set[str] = set()
    for record in records:
        present.update(record.__dict__)
    fields = [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]
    template: list[Any] = []
    plain: list[tuple[int, str, Any]] = []  # (position, attname, default)
    related: list[tuple[int, str, str]] = []  # (position, relation name, attname)
    # (position, attname, field, auto, encrypted)
    prepared: list[tuple[int, str, models.Field, bool, bool]] = []
    for position, f in enumerate(fields):
        auto = bool(getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False))
        if not (f.attname in present or (f.is_relation and f.name in present)):
            template.append(_prep_value(f, now if auto else f.get_default(), conn))
            continue
        template.append(None)
        if isinstance(f, EncryptedTextField | models.JSONField | models.DateField):
            prepared.append((position, f.attname, f, auto, isinstance(f, EncryptedTextField)))
        elif f.is_relation and f.name in present:
            related.append((position, f.name, f.attname))
        else:
            plain.append((position, f.attname, None if f.primary_key else f.get_default()))
    now_db: dict[str, Any] = {}
    dates: dict[Any, Any] = {}

    def rows() -> Iterator[list[Any]]:
        for record in records:
            get = record.__dict__.get
            row = template.copy()
            for position, attname, default in plain:
                row[position] = get(attname, default)
            for position, relname, attname in related:
                obj = get(relname)
                row[position] = obj.id if obj is not None else get(attname)
            for position, attname, f, auto, encrypted in prepared:
                value = get(attname, _MISSING)
                if value is _MISSING:
                    value = now if auto else f.get_default()
                if value is None:
                    pass
                elif encrypted and type(value) is str and value and f.to_python(value) is value:
                    # What the field's get_prep_value does with a non-empty plain string,
                    # without the generic layers in front of it (a third of the cost, for
                    # 300,000 values an import: ID numbers, phones, raw rows).
                    value = encrypt(value)
                elif type(value) is dt.date:
                    # Birth dates repeat: prepare each once.
                    done = dates.get(value)
                    if done is None:
                        done = dates[value] = f.get_db_prep_save(value, conn)
                    value = done
                elif value is now:
                    if attname not in now_db:
                        now_db[attname] = f.get_db_prep_save(now, conn)
                    value = now_db[attname]
                else:
                    value = _prep_value(f, value, conn)
                row[position] = value
            yield row

    qn = conn.ops.quote_name
    table = qn(model._meta.db_table)
    columns = ", ".join(qn(str(f.column)) for f in fields)
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            # COPY, each row sent as soon as it is built: the server inserts and indexes
            # while Python prepares the next rows.
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows():
                    copy.write_row(row)
                if read_ahead is not None:
                    # Leaving the block waits for the server to insert, index and check the
                    # rows it has been sent: the next chunk is parsed meanwhile.
                    read_ahead.resume()
            if read_ahead is not None:
                read_ahead.pause()
        else:
            placeholders = ", ".join(["%s"] * len(fields))
            sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"
            cursor.executemany(sql, rows())  # type: ignore[arg-type]  # any iterable will do


@dataclass
class TalentState:
    """One talent as a chunk sees it: its records, and what the chunk changed. ``talent`` is a
    model instance when it exists, a ``Record`` when this chunk creates it."""

    talent: Any
    is_new: bool = False
    phones: dict[str, Any] = field(default_factory=dict)
    educations: list[Any] = field(default_factory=list)
    destinations: list[Any] = field(default_factory=list)
    conflicts: set[tuple[str, str]] = field(default_factory=set)
    changed_fields: set[str] = field(default_factory=set)
    touched: bool = False


@dataclass
class Counters:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    held: int = 0

    def add(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged + self.rejected


@dataclass
class ImportContext:
    batch_id: int
    file_sha256: str
    header: HeaderMap
    reference: ReferenceIndex
    today: dt.date
    now: dt.datetime
    # batch id -> file digest, for records whose source_ref names a batch ("12:345").
    batch_files: dict[int, str] = field(default_factory=dict)
    # The thread parsing the next chunk, paused while this one is matched (see _ReadAhead).
    read_ahead: _ReadAhead | None = None

    @property
    def file_key(self) -> str:
        return self.file_sha256[:16]

    def provenance(self, row_number: int) -> dict[str, Any]:
        return {
            "source": Source.SURVEY.value,
            "ref": self.batch_id,
            "at": self.now.isoformat(),
            "file": self.file_key,
            "row": row_number,
        }

    def source_ref(self, row_number: int) -> str:
        return f"{self.batch_id}:{row_number}"

    def later_row_of_same_file(self, source_ref: str, row_number: int) -> bool:
        """Whether a record written from ``source_ref`` ("batch:row") came from a later row of
        this same file. Then it stands: in a file the last row about a person wins, also
        when the file is imported again (which must change nothing)."""
        batch, _, row = source_ref.partition(":")
        if not (batch.isdigit() and row.isdigit()):
            return False
        return self.batch_files.get(int(batch), "")[:16] == self.file_key and int(row) > row_number


@dataclass(slots=True)
class RowWork:
    row_number: int
    cells: list[Any]
    result: ParsedRow | Rejection
    raw: str  # the row's cells as JSON text (ImportRow.raw)
    id_index: str | None = None
    phone_index: str | None = None


def _education_key(
    university_name: str, level: str, graduation_year: int | None
) -> tuple[str, str, int | None]:
    return (name_key(university_name), level or "", graduation_year)


def _destination_key(kind: str, employer: str, year: int | None) -> tuple[str, str, int | None]:
    return (kind, name_key(employer), year)


_EDUCATION_UPDATE_FIELDS = (
    "university_id",
    "is_double_first_class",
    "major_id",
    "major_name",
    "major_category_id",
    "enrolment_year",
)


# A chunk looks up its 5,000 blind indexes at once. On PostgreSQL they go as one array
# literal (``= ANY(%s::text[])``): as an IN list, Django and psycopg preparing and quoting
# 5,000 placeholders took longer than the look-up itself, and psycopg's list adapter quotes
# each element in Python too. Blind indexes are hex digests, so the literal needs no quoting.


_HEX_DIGEST = re.compile(r"[0-9a-f]+")


def _index_array(keys: set[str]) -> str:
    if not all(_HEX_DIGEST.fullmatch(key) for key in keys):
        raise ValueError("a blind index is a hex digest")
    return "{" + ",".join(keys) + "}"


def _talents_by_id_index(keys: set[str]) -> Iterable[Talent]:
    if connection.vendor != "postgresql":
        return Talent.objects.filter(id_index__in=keys)
    qn = connection.ops.quote_name
    return Talent.objects.raw(
        f"SELECT * FROM {qn(Talent._meta.db_table)}"
        f" WHERE {qn(Talent._meta.get_field('id_index').column)} = ANY(%s::text[])",
        [_index_array(keys)],
    )


def _talent_ids_by_phone_index(keys: set[str]) -> set[int]:
    if connection.vendor != "postgresql":
        return set(
            PhoneNumber.objects.filter(number_index__in=keys).values_list("talent_id", flat=True)
        )
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {qn(PhoneNumber._meta.get_field('talent').column)}"
            f" FROM {qn(PhoneNumber._meta.db_table)}"
            f" WHERE {qn(PhoneNumber._meta.get_field('number_index').column)} = ANY(%s::text[])",
            [_index_array(keys)],
        )
        return {row[0] for row in cursor.fetchall()}


HELD_REASON = "身份证号对应的档案由学生自建、尚未核实：本行未合并，待工作人员处理"


def held_for_verification(talent: Any) -> bool:
    """A survey row is never merged into a record a student created and staff have not
    verified: whoever claimed the ID would read the survey's data (phone, school, employer).
    The row is kept as ``held`` for staff, and for the real owner's claim. A record staff
    found not genuine is no better."""
    return getattr(talent, "verification", "") in UNVERIFIED


UNVERIFIED = frozenset({Talent.Verification.PENDING, Talent.Verification.REJECTED})


class ChunkProcessor:
    """Computes every row's outcome for one chunk against the database and the rows before it
    in the chunk, then writes everything (inside the caller's transaction)."""

    def __init__(self, ctx: ImportContext) -> None:
        self.ctx = ctx
        self.states_by_pk: dict[int, TalentState] = {}
        self.by_id_index: dict[str, TalentState] = {}
        self.by_name_phone: dict[tuple[str, str], list[TalentState]] = {}
        self.new_states: list[TalentState] = []
        self.new_phones: list[Record] = []
        self.dirty_phones: dict[int, PhoneNumber] = {}
        self.new_educations: list[Record] = []
        self.dirty_educations: dict[int, Education] = {}
        self.new_destinations: list[Record] = []
        self.dirty_destinations: dict[int, Destination] = {}
        self.value_changes: list[Record] = []
        self.import_rows: list[Record] = []
        self.counters = Counters()
        self.row_number = 0

    # -- loading ---------------------------------------------------------------------------

    def _register(self, state: TalentState) -> None:
        if state.talent.id_index:
            self.by_id_index.setdefault(state.talent.id_index, state)
        for index in state.phones:
            self._register_phone(state, index)

    def _register_phone(self, state: TalentState, index: str) -> None:
        bucket = self.by_name_phone.setdefault((state.talent.name, index), [])
        if state not in bucket:
            bucket.append(state)

    def _resolve_merged(self, talents: dict[int, Talent]) -> dict[int, int]:
        """pk -> pk of the talent it was merged into (itself when not merged), loading the
        targets of merged records."""
        target = {pk: pk for pk in talents}
        for _ in range(5):
            missing = {
                t.merged_into_id
                for t in talents.values()
                if t.merged_into_id and t.merged_into_id not in talents
            }
            if not missing:
                break
            talents.update({t.pk: t for t in Talent.objects.filter(pk__in=missing)})
        for pk in target:
            hops = 0
            while talents[target[pk]].merged_into_id in talents and hops < 5:
                target[pk] = talents[target[pk]].merged_into_id  # type: ignore[assignment]
                hops += 1
        return target

    def preload(self, work: Sequence[RowWork]) -> None:
        id_indexes = {item.id_index for item in work if item.id_index}
        talents: dict[int, Talent] = {}
        if id_indexes:
            talents.update({t.pk: t for t in _talents_by_id_index(id_indexes)})
        found_ids = {t.id_index for t in talents.values()}
        fallback_phones = {
            item.phone_index for item in work if item.phone_index and item.id_index not in found_ids
        }
        if fallback_phones:
            pks = _talent_ids_by_phone_index(fallback_phones)
            pks -= talents.keys()
            if pks:
                talents.update({t.pk: t for t in Talent.objects.filter(pk__in=pks)})
        if not talents:
            return
        target = self._resolve_merged(talents)
        live = sorted(set(target.values()))
        for pk in live:
            self.states_by_pk[pk] = TalentState(talent=talents[pk])
        for phone in PhoneNumber.objects.filter(talent_id__in=live).order_by("id"):
            self.states_by_pk[phone.talent_id].phones[phone.number_index] = phone
        for education in Education.objects.filter(talent_id__in=live).order_by("id"):
            self.states_by_pk[education.talent_id].educations.append(education)
        for destination in Destination.objects.filter(talent_id__in=live).order_by("id"):
            self.states_by_pk[destination.talent_id].destinations.append(destination)
        refs = {
            int(record.source_ref.partition(":")[0])
            for state in self.states_by_pk.values()
            for record in (*state.educations, *state.destinations)
            if record.source == Source.SURVEY and record.source_ref.partition(":")[0].isdigit()
        }
        missing = refs - self.ctx.batch_files.keys()
        if missing:
            self.ctx.batch_files.update(
                ImportBatch.objects.filter(pk__in=missing).values_list("id", "file_sha256")
            )
        for change in ValueChange.objects.filter(
            talent_id__in=live, state=ValueChange.State.CONFLICT
        ):
            self.states_by_pk[change.talent_id].conflicts.add((change.field, change.new_value))
        for pk in live:
            self._register(self.states_by_pk[pk])
        # A merged record's ID still finds the talent it was merged into.
        for pk, talent in talents.items():
            if target[pk] != pk and talent.id_index:
                self.by_id_index.setdefault(talent.id_index, self.states_by_pk[target[pk]])

    # -- matching and applying -------------------------------------------------------------

    def match(self, row: ParsedRow, item: RowWork) -> TalentState | None:
        if item.id_index:
            state = self.by_id_index.get(item.id_index)
            if state is not None:
                return state
        if item.phone_index:
            for state in self.by_name_phone.get((row.name, item.phone_index), ()):
                # Same name and phone but another ID: another person.
                if not state.talent.id_index or state.talent.id_index == item.id_index:
                    return state
        return None

    def _value_change(
        self,
        state: TalentState,
        name: str,
        old: Any,
        new: Any,
        old_source: dict,
        new_source: dict,
        kind: str,
    ) -> None:
        self.value_changes.append(
            Record(
                talent=state.talent,
                field=name,
                old_value=str(old),
                new_value=str(new),
                old_source=old_source,
                new_source=new_source,
                state=kind,
            )
        )

    def _set_field(self, state: TalentState, name: str, value: Any) -> bool:
        """Applies one value under the provenance rules; True when something changed."""
        talent = state.talent
        attname = "town_id" if name == "town" else name
        current = getattr(talent, attname)
        if value is None or value == "" or current == value:
            return False
        provenance = talent.provenance or {}
        old_source = provenance.get(name) or {}
        if (
            old_source.get("source") == Source.SURVEY
            and old_source.get("file") == self.ctx.file_key
            and (old_source.get("row") or 0) > self.row_number
        ):
            return False
        new_source = self.ctx.provenance(self.row_number)
        if current is not None and current != "":
            if old_source.get("source") in HUMAN_SOURCES:
                # A person said otherwise: staff decide, the survey does not overwrite.
                key = (name, str(value))
                if key in state.conflicts:
                    return False
                state.conflicts.add(key)
                self._value_change(
                    state, name, current, value, old_source, new_source, ValueChange.State.CONFLICT
                )
                return True
            self._value_change(
                state, name, current, value, old_source, new_source, ValueChange.State.REPLACED
            )
        setattr(talent, attname, value)
        talent.provenance = {**provenance, name: new_source}
        state.changed_fields.update((attname, "provenance"))
        return True

    def _apply_identity(self, state: TalentState, row: ParsedRow, item: RowWork) -> bool:
        ident = row.id_number
        if ident is None or state.talent.id_number:
            return False
        changed = self._set_field(state, "id_number", ident.number)
        if changed:
            talent = state.talent
            talent.id_index = item.id_index
            talent.id_prefix = ident.prefix
            state.changed_fields.update(("id_index", "id_prefix"))
            if talent.birth_date is None:
                talent.birth_date = ident.birth_date
                state.changed_fields.add("birth_date")
            self.by_id_index.setdefault(item.id_index, state)  # type: ignore[arg-type]
        return changed

    def _apply_phone(self, state: TalentState, row: ParsedRow, item: RowWork) -> bool:
        index = item.phone_index
        if not index:
            return False
        if index in state.phones:
            # Known number: nothing moves, so importing an older file again changes nothing.
            return False
        for phone in state.phones.values():
            if phone.is_current:
                phone.is_current = False
                if isinstance(phone, PhoneNumber):
                    self.dirty_phones[phone.pk] = phone
        phone = Record(
            talent=state.talent,
            number=row.phone,
            number_index=index,
            is_current=True,
            is_wrong=False,
            source=Source.SURVEY.value,
            source_ref=str(self.ctx.batch_id),
        )
        state.phones[index] = phone
        self.new_phones.append(phone)
        self._register_phone(state, index)
        return True

    def _apply_education(self, state: TalentState, row: ParsedRow) -> bool:
        if not row.university and not row.major:
            return False
        ref = self.ctx.reference
        university = ref.university(row.university) if row.university else None
        major = ref.major(row.major) if row.major else None
        university_name = (university.name if university else row.university)[:120]
        values: dict[str, Any] = {
            "university_id": university.id if university else None,
            "is_double_first_class": bool(university and university.is_double_first_class),
            "major_id": major.id if major else None,
            "major_name": (major.name if major else row.major)[:120],
            "major_category_id": major.category_id if major else None,
            "enrolment_year": row.enrolment_year,
        }
        key = _education_key(university_name, row.level, row.graduation_year)
        for education in state.educations:
            if (
                _education_key(
                    education.university_name, education.level, education.graduation_year
                )
                != key
            ):
                continue
            survey_owned = education.source == Source.SURVEY
            if survey_owned and self.ctx.later_row_of_same_file(
                education.source_ref, self.row_number
            ):
                return False
            changed = False
            for attname, value in values.items():
                current = getattr(education, attname)
                if value in (None, "", False) or current == value:
                    continue
                if survey_owned or current in (None, "", False):
                    setattr(education, attname, value)
                    changed = True
            if changed and survey_owned:
                education.source_ref = self.ctx.source_ref(self.row_number)
            if changed and isinstance(education, Education):
                self.dirty_educations[education.pk] = education
            return changed
        education = Record(
            talent=state.talent,
            university_name=university_name,
            level=row.level,
            graduation_year=row.graduation_year,
            source=Source.SURVEY.value,
            source_ref=self.ctx.source_ref(self.row_number),
            **values,
        )
        state.educations.append(education)
        self.new_educations.append(education)
        return True

    def _apply_destination(self, state: TalentState, row: ParsedRow) -> bool:
        if not row.destination:
            return False
        year = row.graduation_year
        area = row.area
        key = _destination_key(row.destination, row.employer, year)
        for destination in state.destinations:
            if _destination_key(destination.kind, destination.employer, destination.year) != key:
                continue
            survey_owned = destination.source == Source.SURVEY
            if survey_owned and self.ctx.later_row_of_same_file(
                destination.source_ref, self.row_number
            ):
                return False
            changed = False
            for attname, value in (("region_text", row.region), ("area", area)):
                current = getattr(destination, attname)
                if value and current != value and (survey_owned or not current):
                    setattr(destination, attname, value)
                    changed = True
            if changed and survey_owned:
                destination.source_ref = self.ctx.source_ref(self.row_number)
            if changed and isinstance(destination, Destination):
                self.dirty_destinations[destination.pk] = destination
            return changed
        destination = Record(
            talent=state.talent,
            kind=row.destination,
            employer=row.employer,
            region_text=row.region,
            area=area,
            year=year,
            source=Source.SURVEY.value,
            source_ref=self.ctx.source_ref(self.row_number),
        )
        state.destinations.append(destination)
        self.new_destinations.append(destination)
        return True

    def _scalar_values(self, row: ParsedRow) -> tuple[tuple[str, Any], ...]:
        town = self.ctx.reference.town(row.hukou) if row.hukou else None
        return (
            ("name", row.name),
            ("gender", row.gender),
            ("wechat", row.wechat),
            ("email", row.email),
            ("hukou_text", row.hukou),
            ("town", town),
            ("note", row.note),
        )

    def _create(self, row: ParsedRow, item: RowWork) -> TalentState:
        """A talent nobody knows yet: every value is new, no rule to weigh."""
        talent = _new_talent()
        source = self.ctx.provenance(self.row_number)
        provenance: dict[str, Any] = {}
        ident = row.id_number
        if ident is not None:
            talent.id_number = ident.number
            talent.id_index = item.id_index
            talent.id_prefix = ident.prefix
            talent.birth_date = ident.birth_date
            provenance["id_number"] = source
        for name, value in self._scalar_values(row):
            if value is not None and value != "":
                setattr(talent, "town_id" if name == "town" else name, value)
                provenance[name] = source
        talent.provenance = provenance
        state = TalentState(talent=talent, is_new=True, touched=True)
        self.new_states.append(state)
        self._register(state)
        self._apply_phone(state, row, item)
        self._apply_education(state, row)
        self._apply_destination(state, row)
        return state

    def apply(self, row: ParsedRow, item: RowWork) -> tuple[str, TalentState]:
        state = self.match(row, item)
        if state is None:
            return ImportRow.Outcome.CREATED, self._create(row, item)
        if held_for_verification(state.talent):
            return ImportRow.Outcome.HELD, state
        changed = self._apply_identity(state, row, item)
        for name, value in self._scalar_values(row):
            if name == "town" and state.talent.hukou_text != row.hukou:
                continue  # the town follows the household registration that stands
            changed = self._set_field(state, name, value) or changed
        changed = self._apply_phone(state, row, item) or changed
        changed = self._apply_education(state, row) or changed
        changed = self._apply_destination(state, row) or changed
        if changed:
            state.touched = True
            return ImportRow.Outcome.UPDATED, state
        return ImportRow.Outcome.UNCHANGED, state

    def process(self, work: Sequence[RowWork]) -> Counters:
        read_ahead = self.ctx.read_ahead
        if read_ahead is not None:
            read_ahead.pause()
        self.preload(work)
        self.ctx.batch_files[self.ctx.batch_id] = self.ctx.file_sha256
        for item in work:
            self.row_number = item.row_number
            raw = item.raw
            result = item.result
            if isinstance(result, Rejection):
                self.counters.rejected += 1
                self.import_rows.append(
                    Record(
                        batch_id=self.ctx.batch_id,
                        row_number=item.row_number,
                        outcome=ImportRow.Outcome.REJECTED.value,
                        talent_id=None,
                        reason=scrub_text(result.reason)[:500],
                        raw=raw,
                    )
                )
                continue
            outcome, state = self.apply(result, item)
            self.counters.add(outcome)
            if outcome == ImportRow.Outcome.HELD:
                self.import_rows.append(
                    Record(
                        batch_id=self.ctx.batch_id,
                        row_number=item.row_number,
                        outcome=str(outcome),
                        talent_id=None,
                        held_for=state.talent,
                        reason=HELD_REASON,
                        raw=raw,
                    )
                )
                continue
            self.import_rows.append(
                Record(
                    batch_id=self.ctx.batch_id,
                    row_number=item.row_number,
                    outcome=str(outcome),
                    talent=state.talent,
                    reason=scrub_text("；".join(result.warnings))[:500] if result.warnings else "",
                    raw=raw,
                )
            )
        self.derive()
        self.flush()
        return self.counters

    # -- derived fields and writing --------------------------------------------------------

    def derive(self) -> None:
        today = self.ctx.today
        for state in [*self.states_by_pk.values(), *self.new_states]:
            if not (state.touched or state.is_new):
                continue
            talent = state.talent
            status, returned_home = normalize.derive_status(
                state.educations, state.destinations, today
            )
            graduation_year = max(
                (e.graduation_year for e in state.educations if e.graduation_year), default=None
            )
            evidence = native_evidence(
                id_prefix=talent.id_prefix,
                hukou_text=talent.hukou_text,
                hukou_county_code=talent.hukou_county_code,
            )
            for attname, value in (
                ("status", status),
                ("returned_home", returned_home),
                ("graduation_year", graduation_year),
                ("native_evidence", evidence),
            ):
                if getattr(talent, attname) != value:
                    setattr(talent, attname, value)
                    state.changed_fields.add(attname)

    def flush(self) -> None:
        now = self.ctx.now
        read_ahead = self.ctx.read_ahead
        if self.new_states:
            records = [state.talent for state in self.new_states]
            ids = _reserve_ids(Talent, len(records))
            if ids is None:  # another database: let the ORM insert and return the keys
                created = Talent.objects.bulk_create(
                    [Talent(**{k: v for k, v in r.__dict__.items() if k != "id"}) for r in records]
                )
                for record, talent in zip(records, created, strict=True):
                    record.id = talent.pk
            else:
                for record, pk in zip(records, ids, strict=True):
                    record.id = pk
                _insert(Talent, records, now=now, with_pk=True, read_ahead=read_ahead)
        updated = [s for s in self.states_by_pk.values() if s.changed_fields]
        if updated:
            fields = sorted(set().union(*(s.changed_fields for s in updated)) | {"updated_at"})
            for state in updated:
                state.talent.updated_at = now
            Talent.objects.bulk_update([s.talent for s in updated], fields, batch_size=100)
        if self.dirty_phones:
            PhoneNumber.objects.bulk_update(
                list(self.dirty_phones.values()), ["is_current"], batch_size=500
            )
        if self.dirty_educations:
            Education.objects.bulk_update(
                list(self.dirty_educations.values()),
                [*_EDUCATION_UPDATE_FIELDS, "source_ref"],
                batch_size=100,
            )
        if self.dirty_destinations:
            Destination.objects.bulk_update(
                list(self.dirty_destinations.values()),
                ["region_text", "area", "source_ref"],
                batch_size=200,
            )
        for model, records in (
            (PhoneNumber, self.new_phones),
            (Education, self.new_educations),
            (Destination, self.new_destinations),
            (ValueChange, self.value_changes),
            (ImportRow, self.import_rows),
        ):
            _insert(model, records, now=now, with_pk=False, read_ahead=read_ahead)


# ---------------------------------------------------------------------------- batches


def survey_batch_start(
    *,
    file_name: str,
    file_sha256: str,
    source_name: str,
    created_by: Any = None,
    stored_path: str = "",
) -> tuple[ImportBatch, bool]:
    """The unfinished batch of this file from this source (resumed), or a new one.
    Returns (batch, resumed). A finished file imported again gets a new batch."""
    source_name = normalize.clean_text(source_name)[:120]
    if not source_name:
        raise ImportFileError("请填写数据来源")
    existing = (
        ImportBatch.objects.filter(file_sha256=file_sha256, source_name=source_name)
        .exclude(state=ImportBatch.State.DONE)
        .order_by("-id")
        .first()
    )
    if existing is not None:
        if stored_path and stored_path != existing.stored_path:
            existing.stored_path = stored_path
            existing.save(update_fields=["stored_path", "updated_at"])
        return existing, True
    batch = ImportBatch.objects.create(
        source_name=source_name,
        file_name=Path(file_name).name[:255],
        file_sha256=file_sha256,
        stored_path=stored_path,
        created_by=created_by if getattr(created_by, "pk", None) else None,
    )
    return batch, False


def survey_upload(
    *, upload: Any, source_name: str, created_by: Any = None
) -> tuple[ImportBatch, bool]:
    """Checks an uploaded file, stores it under ``imports/`` in the default storage and
    starts (or resumes) its batch. The caller enqueues ``tasks.run_import``."""
    check_size(upload.size)
    data = upload.read()
    kind = check_file(upload.name, data)
    digest = sha256_of(data)
    stored = f"imports/uploads/{digest}.{kind}"
    if not default_storage.exists(stored):  # named by content: the same file is kept once
        stored = default_storage.save(stored, ContentFile(data))
    return survey_batch_start(
        file_name=upload.name,
        file_sha256=digest,
        source_name=source_name,
        created_by=created_by,
        stored_path=stored,
    )


def _load_data(batch: ImportBatch) -> bytes:
    if not batch.stored_path:
        raise ImportFileError("找不到该批次的文件，请重新上传")
    with default_storage.open(batch.stored_path, "rb") as handle:
        return handle.read()


def _row_work(row_number: int, cells: list[Any], result: ParsedRow | Rejection) -> RowWork:
    """A parsed row with its blind indexes (keyed: computed here, in the importing process)
    and its cells as JSON text (ImportRow.raw)."""
    raw = json.dumps(
        [cell if type(cell) is str else normalize.cell_text(cell) for cell in cells],
        ensure_ascii=False,
    )
    if isinstance(result, Rejection):
        return RowWork(row_number, cells, result, raw)
    return RowWork(
        row_number,
        cells,
        result,
        raw,
        id_index=result.id_number.index if result.id_number is not None else None,
        phone_index=phone_index(result.phone) if result.phone else None,
    )


def _prepare_chunk(
    rows: Sequence[tuple[int, list[Any]]],
    header: HeaderMap,
    today: dt.date,
    checkpoint: Callable[[], None] | None = None,
) -> list[RowWork]:
    """Parses the rows (pure work, outside the transaction). ``checkpoint`` is called every
    few rows: the read-ahead thread waits there while the importing thread wants the
    interpreter to itself."""
    columns = list(header.columns.items())
    work = []
    for position, (row_number, cells) in enumerate(rows):
        if checkpoint is not None and position % 16 == 0:
            checkpoint()
        width = len(cells)
        raw = {canonical: cells[pos] if pos < width else None for pos, canonical in columns}
        work.append(_row_work(row_number, cells, normalize.parse_row(raw, today=today)))
    return work


def _file_chunks(
    table: SurveyTable,
    *,
    skip: int,
    chunk_size: int,
    today: dt.date,
    checkpoint: Callable[[], None] | None = None,
) -> Iterator[tuple[list[tuple[int, list[Any]]], list[RowWork]]]:
    """The data rows after the first ``skip``, in chunks, each with its parsed rows."""
    chunk: list[tuple[int, list[Any]]] = []
    for position, item in enumerate(table.rows()):
        if checkpoint is not None and position % 64 == 0:
            checkpoint()
        if skip:
            skip -= 1
            continue
        chunk.append(item)
        if len(chunk) >= chunk_size:
            yield chunk, _prepare_chunk(chunk, table.header, today, checkpoint)
            chunk = []
    if chunk:
        yield chunk, _prepare_chunk(chunk, table.header, today, checkpoint)


class _ReadAhead:
    """Reads and parses the file's chunks in a background thread, at most one chunk ahead of
    the loop that writes them.

    Parsing is pure Python without database access, so it can run while the importing thread
    waits for the database with the GIL released: while PostgreSQL inserts, indexes and
    checks the foreign keys of what a COPY sent it (the end of each COPY waits for that), and
    while a chunk commits (an fsync on SQLite) and the next chunk is awaited.

    The importing thread opens that window (``resume``) and closes it (``pause``); the thread
    stops at its next checkpoint, a few rows later. Everywhere else (look-ups, matching,
    building and sending the rows, SQLite's inserts, which release the GIL for every row) the
    two threads would only take turns on the GIL, and each short wait for the database would
    cost the importing thread up to a 5 ms switch interval.

    Chunks come out in the file's order; an exception in the thread is raised in the consumer
    when it reaches that point."""

    _END = object()

    def __init__(
        self,
        table: SurveyTable,
        *,
        skip: int,
        chunk_size: int,
        today: dt.date,
    ) -> None:
        self._queue: queue.Queue[tuple[Any, BaseException | None]] = queue.Queue(maxsize=1)
        self._go = threading.Event()
        self._go.set()
        self._stop = False
        source = _file_chunks(
            table, skip=skip, chunk_size=chunk_size, today=today, checkpoint=self._checkpoint
        )
        self._thread = threading.Thread(
            target=self._run, args=(source,), name="survey-read-ahead", daemon=True
        )
        self._thread.start()

    def pause(self) -> None:
        self._go.clear()

    def resume(self) -> None:
        self._go.set()

    def _checkpoint(self) -> None:
        self._go.wait()
        if self._stop:
            raise _Stopped

    def _run(self, source: Iterator[Any]) -> None:
        try:
            self._produce(source)
        finally:
            # Parsing does not touch the database. Should that change, a connection this
            # thread opened (Django's are per thread) must not outlive it.
            connections.close_all()

    def _produce(self, source: Iterator[Any]) -> None:
        try:
            for item in source:
                self._put((item, None))
        except _Stopped:
            return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            with contextlib.suppress(_Stopped):
                self._put((None, exc))
            return
        with contextlib.suppress(_Stopped):
            self._put((self._END, None))

    def _put(self, entry: tuple[Any, BaseException | None]) -> None:
        while True:
            try:
                self._queue.put(entry, timeout=0.1)
            except queue.Full:
                if self._stop:
                    raise _Stopped from None
                continue
            return

    def __iter__(self) -> Iterator[Any]:
        while True:
            self.resume()
            item, error = self._queue.get()
            if error is not None:
                raise error
            if item is self._END:
                return
            yield item

    def close(self) -> None:
        """Stops the thread (the consumer is done, or failed) and waits for it."""
        self._stop = True
        self._go.set()
        self._thread.join()


class _Stopped(Exception):
    pass


def process_chunk(
    batch_id: int,
    rows: Sequence[tuple[int, list[Any]]],
    *,
    ctx: ImportContext,
    rows_done_before: int,
    work: list[RowWork] | None = None,
) -> Counters:
    """One transaction: the chunk's effects, its ImportRows and the batch's counters.

    It starts by writing the batch row where ``rows_done`` is still what this run expects:
    that takes the write lock on SQLite and locks the row on PostgreSQL, so two processes
    resuming the same batch cannot both write a chunk; the loser gets ``ImportConflict``."""
    with gc_paused():
        return _process_chunk(batch_id, rows, ctx=ctx, rows_done_before=rows_done_before, work=work)


def _process_chunk(
    batch_id: int,
    rows: Sequence[tuple[int, list[Any]]],
    *,
    ctx: ImportContext,
    rows_done_before: int,
    work: list[RowWork] | None,
) -> Counters:
    if work is None:
        work = _prepare_chunk(rows, ctx.header, ctx.today)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Losing the last chunks to a server crash costs nothing here: rows_done is
                # committed with them, so a rerun redoes exactly those. No need to wait for
                # the WAL flush on each commit.
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
                # Parents are written before children, so foreign keys can be checked at the
                # end of each COPY rather than all at commit; measured about 10% faster.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                # Every query here finds rows by a key. Given 5,000 blind indexes, the planner
                # estimates 5,000 matches and scans the whole talents table instead (about
                # 30 ms a chunk at 100,000 talents, growing with the table) where the unique
                # index finds the few that exist in about 3 ms.
                cursor.execute("SET LOCAL enable_seqscan TO OFF")
        claimed = ImportBatch.objects.filter(pk=batch_id, rows_done=rows_done_before).update(
            updated_at=timezone.now()
        )
        if claimed != 1:
            raise ImportConflict("该批次正由另一进程导入")
        counters = ChunkProcessor(ctx).process(work)
        ImportBatch.objects.filter(pk=batch_id).update(
            rows_done=rows_done_before + len(rows),
            created=F("created") + counters.created,
            updated=F("updated") + counters.updated,
            unchanged=F("unchanged") + counters.unchanged,
            rejected=F("rejected") + counters.rejected,
            held=F("held") + counters.held,
            updated_at=timezone.now(),
        )
        if ctx.read_ahead is not None:
            # The commit (an fsync on SQLite), the progress report and the wait for the
            # next chunk: the thread parses on until that chunk's look-ups start.
            ctx.read_ahead.resume()
    return counters


def write_rejected_file(batch: ImportBatch) -> str:
    """The rejected rows with the file's own columns, plus 行号 and 拒绝原因, as .xlsx under
    ``imports/<batch id>/rejected.xlsx``. Returns the storage name ('' when none)."""
    rows = list(
        ImportRow.objects.filter(batch=batch, outcome=ImportRow.Outcome.REJECTED)
        .order_by("row_number")
        .values_list("row_number", "reason", "raw")
    )
    if not rows:
        return ""
    names = list((batch.header_map or {}).get("names") or [])
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    sheet = workbook.add_worksheet("拒绝的行")
    bold = workbook.add_format({"bold": True})
    cells = []
    decoded = []
    for row_number, reason, raw in rows:
        values = json.loads(raw) if raw else []
        decoded.append((row_number, reason, values))
        cells.append(len(values))
    width = max([len(names), *cells])
    header = [name or f"第{i + 1}列" for i, name in enumerate(names + [""] * (width - len(names)))]
    for col, title in enumerate([*header, "行号", "拒绝原因"]):
        sheet.write_string(0, col, title, bold)
    for line, (row_number, reason, values) in enumerate(decoded, start=1):
        for col in range(width):
            value = values[col] if col < len(values) else ""
            sheet.write_string(line, col, escape_cell(str(value)))
        sheet.write_number(line, width, row_number)
        sheet.write_string(line, width + 1, escape_cell(reason))
    sheet.freeze_panes(1, 0)
    workbook.close()
    name = f"imports/{batch.pk}/rejected.xlsx"
    if default_storage.exists(name):
        default_storage.delete(name)
    return default_storage.save(name, ContentFile(buffer.getvalue()))


def rejected_file_path(batch: ImportBatch) -> str:
    """Where the rejected rows file is, as a file system path when the storage has one."""
    if not batch.rejected_file:
        return ""
    try:
        return default_storage.path(batch.rejected_file)
    except NotImplementedError:
        return batch.rejected_file


@dataclass(frozen=True)
class ImportResult:
    batch: ImportBatch
    seconds: float

    @property
    def summary_line(self) -> str:
        return self.batch.summary_line


def survey_import_run(
    *,
    batch_id: int,
    data: bytes | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: ProgressCallback | None = None,
    today: dt.date | None = None,
) -> ImportResult:
    """Imports (or resumes) a batch. ``data`` is the file's content; without it the stored
    upload is read. A finished batch is returned as it is."""
    started = time.perf_counter()
    batch = ImportBatch.objects.get(pk=batch_id)
    if batch.state == ImportBatch.State.DONE:
        return ImportResult(batch, 0.0)
    try:
        if data is None:
            data = _load_data(batch)
        if sha256_of(data) != batch.file_sha256:
            raise ImportFileError("文件内容与该批次登记的不一致")
        kind = file_kind(batch.file_name)
        today = today or timezone.localdate()
        table = open_table(kind, data)
        if not batch.header_map:
            batch.total_rows = table.estimated_rows()
            batch.header_map = {"header_row": table.header_row, **table.header.as_json()}
            batch.extra_columns = list(table.header.extra)
        batch.state = ImportBatch.State.RUNNING
        batch.error = ""
        batch.save(
            update_fields=[
                "total_rows",
                "header_map",
                "extra_columns",
                "state",
                "error",
                "updated_at",
            ]
        )
        if progress:
            progress(batch)
        logger.info(
            "import batch %s: %s rows, resuming after %s",
            batch.pk,
            batch.total_rows,
            batch.rows_done,
        )
        ctx = ImportContext(
            batch_id=batch.pk,
            file_sha256=batch.file_sha256,
            header=table.header,
            reference=reference_index(),
            today=today,
            now=timezone.now(),
        )
        rows_done = batch.rows_done
        chunks = ctx.read_ahead = _ReadAhead(
            table, skip=rows_done, chunk_size=chunk_size, today=today
        )
        with gc_paused(), contextlib.closing(chunks):
            for rows, work in chunks:
                process_chunk(batch.pk, rows, ctx=ctx, rows_done_before=rows_done, work=work)
                rows_done += len(rows)
                if progress:
                    batch.refresh_from_db()
                    progress(batch)
        batch.refresh_from_db()
        _finish(batch)
    except ImportConflict:
        raise
    except Exception as exc:
        message = (
            exc.message if isinstance(exc, ApplicationError) else f"导入中断：{type(exc).__name__}"
        )
        ImportBatch.objects.filter(pk=batch_id).exclude(state=ImportBatch.State.DONE).update(
            state=ImportBatch.State.FAILED,
            error=scrub_text(message)[:1000],
            updated_at=timezone.now(),
        )
        logger.warning("import batch %s failed: %s", batch_id, type(exc).__name__)
        raise
    seconds = time.perf_counter() - started
    if progress:
        progress(batch)
    return ImportResult(batch, seconds)


def _finish(batch: ImportBatch) -> None:
    with transaction.atomic():
        batch.total_rows = batch.rows_done
        batch.rejected_file = write_rejected_file(batch)
        batch.state = ImportBatch.State.DONE
        batch.finished_at = timezone.now()
        batch.save(
            update_fields=["total_rows", "rejected_file", "state", "finished_at", "updated_at"]
        )
        audit_record(
            action="import",
            actor=batch.created_by,
            target=batch,
            summary=f"{batch.source_name} {batch.file_name}: {batch.summary_line}",
            count=batch.total_rows,
            data={
                "rows": batch.total_rows,
                "created": batch.created,
                "updated": batch.updated,
                "unchanged": batch.unchanged,
                "rejected": batch.rejected,
                "extra_columns": batch.extra_columns,
            },
        )
    logger.info("import batch %s done: %s", batch.pk, batch.summary_line)


def survey_import_path(
    path: str | Path,
    *,
    source_name: str,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: ProgressCallback | None = None,
    created_by: Any = None,
    today: dt.date | None = None,
) -> ImportResult:
    """Imports a file from disk (the management command and the benchmark)."""
    path = Path(path)
    if not path.is_file():
        raise ImportFileError(f"找不到文件：{path}")
    file_kind(path.name)
    check_size(path.stat().st_size)
    data = path.read_bytes()
    check_file(path.name, data)
    batch, _ = survey_batch_start(
        file_name=path.name,
        file_sha256=sha256_of(data),
        source_name=source_name,
        created_by=created_by,
    )
    return survey_import_run(
        batch_id=batch.pk, data=data, chunk_size=chunk_size, progress=progress, today=today
    )


# ---------------------------------------------------------------------------- reads

# Who sees which batches: HR and system administrators see every batch; education bureau staff
# see the batches they uploaded (and nothing else exists for them: 404 alike).
IMPORT_ALL_BATCHES_ROLES = frozenset({"hr_staff", "sysadmin"})


def import_batch_list(*, viewer: Any) -> models.QuerySet[ImportBatch]:
    batches = ImportBatch.objects.select_related("created_by").order_by("-created_at", "-id")
    if getattr(viewer, "role", None) in IMPORT_ALL_BATCHES_ROLES:
        return batches
    if getattr(viewer, "pk", None) is None:
        return batches.none()
    return batches.filter(created_by=viewer)


def import_batch_get_for_viewer(*, viewer: Any, batch_id: int) -> ImportBatch:
    batch = import_batch_list(viewer=viewer).filter(pk=batch_id).first()
    if batch is None:
        raise NotFound()
    return batch


def import_rejected_open(*, viewer: Any, batch: ImportBatch, request: Any = None) -> Any:
    """Opens the rejected rows file of a batch for download. It holds the rows as they were
    written, unmasked ID numbers and phones included, so every download is audited."""
    if not batch.rejected_file or not default_storage.exists(batch.rejected_file):
        raise NotFound("该批次没有拒绝的行")
    audit_record(
        action="export",
        actor=viewer,
        request=request,
        target=batch,
        summary=f"下载导入批次 {batch.pk} 的拒绝行",
        count=batch.rejected,
    )
    return default_storage.open(batch.rejected_file, "rb")
