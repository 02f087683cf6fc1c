"""One chunk of the survey against the database: match each row to a talent (by ID number,
else by name and phone), apply it with provenance and conflicts, derive the lifecycle status,
and write everything in one transaction with the batch's counters (``process_chunk``)."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Field, Model, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from qinghe.core.errors import ApplicationError
from qinghe.core.gcpause import gc_paused
from qinghe.core.masking import scrub_text
from qinghe.reference.models import Major, Town, University
from qinghe.reference.text import name_key

from .. import normalize
from ..identity import native_evidence
from ..models import (
    Destination,
    Education,
    ImportBatch,
    ImportRow,
    PhoneNumber,
    Source,
    Talent,
    ValueChange,
)
from ..normalize import HeaderMap, ParsedRow, ReferenceIndex, Rejection
from .reader import ReadAhead, RowWork, prepare_chunk
from .writer import JsonText, KeyPool, Record, insert_records, reserve_ids

HUMAN_SOURCES = frozenset({Source.STUDENT, Source.STAFF, Source.LIAISON})
# Enum members as plain values, read once: an enum attribute costs a descriptor call, and the
# hot loop read a few a row (600,000 a 100,000-row import).
_SURVEY: str = Source.SURVEY.value
_CREATED: str = ImportRow.Outcome.CREATED.value
_UPDATED: str = ImportRow.Outcome.UPDATED.value
_UNCHANGED: str = ImportRow.Outcome.UNCHANGED.value
_HELD: str = ImportRow.Outcome.HELD.value
_REJECTED: str = ImportRow.Outcome.REJECTED.value


class ImportConflict(ApplicationError):
    """Another process moved the batch on while this one worked on a chunk."""


def reference_index() -> ReferenceIndex:
    """Universities, majors and Heshan towns in memory, three queries."""
    return ReferenceIndex.build(
        universities=University.objects.order_by("-is_double_first_class", "id").values_list(
            "id", "name", "name_key", "alias_keys", "is_double_first_class"
        ),
        majors=Major.objects.order_by("code").values_list("id", "code", "name", "category_id"),
        towns=Town.objects.filter(county_code="440784").order_by("code").values_list("id", "name"),
    )


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


@dataclass
class TalentState:
    """One talent as a chunk sees it: its records, and what the chunk changed. ``talent`` is a
    ``Loaded`` row when it exists, a ``Record`` when this chunk creates it; so are its phones,
    educations and destinations."""

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
    flagged: int = 0  # a subset of created/updated/unchanged

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
    # The thread parsing the next chunk, paused while this one is matched (see ReadAhead).
    read_ahead: ReadAhead | None = None
    # Keys reserved ahead when chunks overlap: see ``writer.KeyPool``.
    keys: KeyPool | None = None

    @functools.cached_property
    def file_key(self) -> str:
        return self.file_sha256[:16]

    @functools.cached_property
    def now_text(self) -> str:
        return self.now.isoformat()  # once, not once a row

    @functools.cached_property
    def _provenance_head(self) -> str:
        """``json.dumps`` of a source up to its row number, which comes last."""
        text = json.dumps(self.provenance_dict(0))
        if not text.endswith(', "row": 0}'):
            raise RuntimeError("the row number must come last in a source")
        return text[: -len("0}")]

    def provenance_dict(self, row_number: int) -> dict[str, Any]:
        return {
            "source": _SURVEY,
            "ref": self.batch_id,
            "at": self.now_text,
            "file": self.file_key,
            "row": row_number,
        }

    def provenance(self, row_number: int) -> JsonText:
        """The source of a value from this row, with its JSON text (``JsonText``)."""
        source = JsonText(self.provenance_dict(row_number))
        source.text = f"{self._provenance_head}{int(row_number)}}}"
        return source

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


# Schools and employers repeat across a survey: each spelling's key is computed once.
_name_key = functools.lru_cache(maxsize=65536)(name_key)


def _education_key(
    university_name: str, level: str, graduation_year: int | None
) -> tuple[str, str, int | None]:
    return (_name_key(university_name), level or "", graduation_year)


def _destination_key(kind: str, employer: str, year: int | None) -> tuple[str, str, int | None]:
    return (kind, _name_key(employer), year)


# The columns a chunk reads of the records it finds (matching, applying, deriving, writing
# back), loaded as ``Loaded`` rows rather than model instances: re-importing a file finds
# every talent with its phones, educations and destinations (400,000 records for 100,000
# rows), and building model instances and converting every column (time stamps, the phone's
# number decrypted) was most of a re-import's time. Changed records are written back with
# bulk_update from model instances built for them alone (``_instances``).
_TALENT_COLUMNS = (
    "id",
    "name",
    "gender",
    "id_number",
    "id_index",
    "id_prefix",
    "birth_date",
    "wechat",
    "email",
    "hukou_text",
    "hukou_county_code",
    "town_id",
    "native_evidence",
    "status",
    "returned_home",
    "graduation_year",
    "note",
    "provenance",
    "merged_into_id",
    "verification",
)
_PHONE_COLUMNS = ("id", "talent_id", "number_index", "is_current")
_EDUCATION_COLUMNS = (
    "id",
    "talent_id",
    "university_id",
    "university_name",
    "major_id",
    "major_name",
    "major_category_id",
    "level",
    "enrolment_year",
    "graduation_year",
    "is_double_first_class",
    "source",
    "source_ref",
)
_DESTINATION_COLUMNS = (
    "id",
    "talent_id",
    "kind",
    "employer",
    "region_text",
    "area",
    "year",
    "source",
    "source_ref",
)


class Loaded(Record):
    """A row a chunk read from the database: attributes named like the model's attnames
    (``talent_id``), ``pk`` its primary key. A ``Record`` that is not ``Loaded`` is new."""

    @property
    def pk(self) -> int:
        return self.id  # type: ignore[no-any-return]


def _load(queryset: QuerySet[Any], columns: Sequence[str]) -> list[Loaded]:
    return [
        Loaded(**dict(zip(columns, row, strict=True))) for row in queryset.values_list(*columns)
    ]


def _instances(model: type[Model], records: Iterable[Any], fields: Sequence[str]) -> list[Any]:
    """Model instances carrying ``records``' primary keys and ``fields`` (attnames), for
    ``bulk_update`` of those fields."""
    return [
        model(pk=record.pk, **{name: getattr(record, name) for name in fields})
        for record in records
    ]


def _talents(**filters: Any) -> list[Loaded]:
    return _load(Talent.objects.filter(**filters), _TALENT_COLUMNS)


_EDUCATION_UPDATE_FIELDS = (
    "university_id",
    "is_double_first_class",
    "major_id",
    "major_name",
    "major_category_id",
    "enrolment_year",
)


# A chunk looks up its thousands of blind indexes at once, as one parameter: on PostgreSQL an
# array literal (``= ANY(%s::text[])``), on SQLite a JSON array (``IN (SELECT value FROM
# json_each(%s))``, which SQLite answers by probing the index once per value). As an IN list,
# Django and the driver preparing and quoting 10,000 placeholders took longer than the look-up
# itself. Blind indexes are hex digests, so the literals need no quoting.


# Deletes hex digits and commas: blind indexes joined by commas leave nothing (one C-level
# pass over a chunk's 10,000 rather than a regular expression, a fifth of the time).
_HEX_AND_COMMAS = str.maketrans("", "", "0123456789abcdef,")


def _column(model: type[Model], name: str) -> str:
    field = model._meta.get_field(name)
    if not isinstance(field, Field) or field.column is None:  # a reverse or column-less relation
        raise ValueError(f"{model.__name__}.{name} has no column")
    return field.column


def _in_keys(column: str, keys: set[str], *, vendor: str) -> tuple[str, str]:
    """SQL testing that ``column`` (quoted) is one of ``keys`` (blind indexes) on ``vendor``
    (postgresql or sqlite), and its one parameter."""
    joined = ",".join(keys)
    # No empty key, and as many commas as separators: no key has one of its own.
    if keys and (
        "" in keys or joined.translate(_HEX_AND_COMMAS) or joined.count(",") != len(keys) - 1
    ):
        raise ValueError("a blind index is a hex digest")
    if vendor == "postgresql":
        return f"{column} = ANY(%s::text[])", "{" + joined + "}"
    return f"{column} IN (SELECT value FROM json_each(%s))", '["' + joined.replace(
        ",", '","'
    ) + '"]'


_KEY_LISTS = frozenset({"postgresql", "sqlite"})


def _of_talents(live: list[int]) -> dict[str, Any]:
    """A filter on ``talent_id`` for a chunk's talents (thousands of ids), as one parameter
    (an array on PostgreSQL, a JSON array on SQLite) rather than an IN list, which Django
    prepared one id at a time (0.7 s of a re-import's 100,000 talents, three times)."""
    if connection.vendor not in _KEY_LISTS:
        return {"talent_id__in": live}
    if not all(type(pk) is int for pk in live):
        raise TypeError("talent ids are integers")
    if connection.vendor == "postgresql":
        ids = RawSQL("SELECT unnest(%s::bigint[])", ["{" + ",".join(map(str, live)) + "}"])
    else:
        ids = RawSQL("SELECT value FROM json_each(%s)", ["[" + ",".join(map(str, live)) + "]"])
    return {"talent_id__in": ids}


def _talents_by_id_index(keys: set[str]) -> list[Loaded]:
    if connection.vendor not in _KEY_LISTS:
        return _talents(id_index__in=keys)
    qn = connection.ops.quote_name
    condition, param = _in_keys(qn(_column(Talent, "id_index")), keys, vendor=connection.vendor)
    found = RawSQL(  # noqa: S611 - quoted names and one parameter
        f"SELECT {qn(_column(Talent, 'id'))} FROM {qn(Talent._meta.db_table)} WHERE {condition}",
        [param],
    )
    return _talents(pk__in=found)


def _talent_ids_by_name_and_phone(pairs: set[tuple[str, str]]) -> set[int]:
    """The talents that have one of these (name, phone blind index) pairs: a phone and the
    name on the talent. Only those can match a row by name and phone (``match``); a shared
    number (a parent's, a dormitory's) otherwise found hundreds of other people a chunk, each
    loaded with its phones, educations and destinations for nothing."""
    keys = {index for _, index in pairs}
    if connection.vendor not in _KEY_LISTS:
        found = PhoneNumber.objects.filter(number_index__in=keys).values_list(
            "talent_id", "talent__name", "number_index"
        )
    else:
        qn = connection.ops.quote_name
        phones, talents = qn(PhoneNumber._meta.db_table), qn(Talent._meta.db_table)
        condition, param = _in_keys(
            f"p.{qn(_column(PhoneNumber, 'number_index'))}", keys, vendor=connection.vendor
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT p.{qn(_column(PhoneNumber, 'talent'))}, t.{qn(_column(Talent, 'name'))},"
                f" p.{qn(_column(PhoneNumber, 'number_index'))}"
                f" FROM {phones} p JOIN {talents} t"
                f" ON t.{qn(_column(Talent, 'id'))} = p.{qn(_column(PhoneNumber, 'talent'))}"
                f" WHERE {condition}",
                [param],
            )
            found = cursor.fetchall()
    return {pk for pk, name, index in found if (name, index) in pairs}


def _loaded(record: Any, columns: Sequence[str], defaults: dict[str, Any]) -> Loaded:
    """A copy of ``record`` (new or loaded) as the database will give it back once written:
    ``columns`` only, a foreign key given as an object as its ``_id``."""
    values = record.__dict__
    out: dict[str, Any] = {}
    for name in columns:
        if name in values:
            out[name] = values[name]
        elif name.endswith("_id") and name[:-3] in values:
            related = values[name[:-3]]
            out[name] = related.id if related is not None else None
        else:
            out[name] = defaults[name]
    return Loaded(**out)


@functools.cache
def _talent_defaults() -> dict[str, Any]:
    return {name: Talent._meta.get_field(name).get_default() for name in ("verification",)}


class Overlay:
    """A chunk's talents as its writes leave them (values, phones, educations, destinations,
    open conflicts), for the next chunk, whose look-ups run while those writes are not yet
    committed: each of these talents is taken from here rather than from the database, as a
    copy, so the next chunk finds what it would find after the commit and the writes in
    flight are never changed. Every new record must carry its primary key already
    (``ChunkProcessor.assign_ids(children=True)``)."""

    def __init__(self, processor: ChunkProcessor) -> None:
        if not processor.children_have_ids:
            raise ValueError("an overlay needs the new records' primary keys")
        self.states: dict[int, TalentState] = {}
        for state in [*processor.states_by_pk.values(), *processor.new_states]:
            if state.talent.id is None:
                raise ValueError("an overlay needs the new talents' primary keys")
            self.states[state.talent.id] = state
        self.by_id_index = {
            state.talent.id_index: pk for pk, state in self.states.items() if state.talent.id_index
        }
        self.by_phone: dict[str, list[int]] = {}
        for pk, state in self.states.items():
            for index in state.phones:
                self.by_phone.setdefault(index, []).append(pk)

    def talent(self, pk: int) -> Loaded:
        return _loaded(self.states[pk].talent, _TALENT_COLUMNS, _talent_defaults())

    def by_name_and_phone(self, pairs: set[tuple[str, str]]) -> set[int]:
        """The talents here with one of these (name, phone blind index) pairs."""
        found: set[int] = set()
        for name, index in pairs:
            for pk in self.by_phone.get(index, ()):
                if self.states[pk].talent.name == name:
                    found.add(pk)
        return found

    def fill(self, state: TalentState, pk: int) -> None:
        """``state``'s phones, educations, destinations and conflicts, copied from here."""
        source = self.states[pk]
        for index, phone in source.phones.items():
            state.phones[index] = _loaded(phone, _PHONE_COLUMNS, {})
        state.educations.extend(_loaded(e, _EDUCATION_COLUMNS, {}) for e in source.educations)
        state.destinations.extend(_loaded(d, _DESTINATION_COLUMNS, {}) for d in source.destinations)
        state.conflicts.update(source.conflicts)


HELD_REASON = "身份证号对应的档案由学生自建、尚未核实：本行未合并，待工作人员处理"

UNVERIFIED = frozenset({Talent.Verification.PENDING, Talent.Verification.REJECTED})


def held_for_verification(talent: Any) -> bool:
    """A survey row is never merged into a record a student created and staff have not
    verified: whoever claimed the ID would read the survey's data (phone, school, employer).
    The row is kept as ``held`` for staff, and for the real owner's claim. A record staff
    found not genuine is no better."""
    return getattr(talent, "verification", "") in UNVERIFIED


class ChunkProcessor:
    """Computes every row's outcome for one chunk against the database and the rows before it
    in the chunk, then writes everything (inside the caller's transaction)."""

    def __init__(self, ctx: ImportContext, overlay: Overlay | None = None) -> None:
        self.ctx = ctx
        # The previous chunk's talents as it leaves them, while its writes are not committed
        # yet (``survey_import_run`` overlapping chunks): they stand in for what
        # the database says of the same talents.
        self.overlay = overlay
        # Whether the new phones, educations and destinations carry reserved primary keys
        # (``assign_ids``), as the next chunk's overlay needs.
        self.children_have_ids = False
        # The chunk's writes, built by ``chunk_compute`` and run by ``chunk_write``.
        self.writes: list[Callable[[], object]] = []
        self.states_by_pk: dict[int, TalentState] = {}
        self.by_id_index: dict[str, TalentState] = {}
        self.by_name_phone: dict[tuple[str, str], list[TalentState]] = {}
        self.new_states: list[TalentState] = []
        self.new_phones: list[Record] = []
        self.dirty_phones: dict[int, Loaded] = {}
        self.new_educations: list[Record] = []
        self.dirty_educations: dict[int, Loaded] = {}
        self.new_destinations: list[Record] = []
        self.dirty_destinations: dict[int, Loaded] = {}
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

    def _resolve_merged(self, talents: dict[int, Loaded]) -> dict[int, int]:
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
            talents.update({t.pk: t for t in self._talents_by_pk(missing)})
        for pk in target:
            hops = 0
            while talents[target[pk]].merged_into_id in talents and hops < 5:
                target[pk] = talents[target[pk]].merged_into_id  # type: ignore[assignment]
                hops += 1
        return target

    def _load_children(self, live: list[int]) -> None:
        """The phones, educations, destinations and open conflicts of talents ``live``
        (primary keys, sorted) from the database."""
        of_live = _of_talents(live)
        phones = PhoneNumber.objects.filter(**of_live).order_by("id")
        for phone in _load(phones, _PHONE_COLUMNS):
            self.states_by_pk[phone.talent_id].phones[phone.number_index] = phone
        educations = Education.objects.filter(**of_live).order_by("id")
        for education in _load(educations, _EDUCATION_COLUMNS):
            self.states_by_pk[education.talent_id].educations.append(education)
        destinations = Destination.objects.filter(**of_live).order_by("id")
        for destination in _load(destinations, _DESTINATION_COLUMNS):
            self.states_by_pk[destination.talent_id].destinations.append(destination)
        for talent_id, name, new_value in ValueChange.objects.filter(
            **of_live, state=ValueChange.State.CONFLICT
        ).values_list("talent_id", "field", "new_value"):
            self.states_by_pk[talent_id].conflicts.add((name, new_value))

    def _talents_by_pk(self, pks: set[int]) -> list[Loaded]:
        overlay = self.overlay
        if overlay is None:
            return _talents(pk__in=pks)
        found = [overlay.talent(pk) for pk in pks if pk in overlay.states]
        rest = {pk for pk in pks if pk not in overlay.states}
        return [*found, *_talents(pk__in=rest)] if rest else found

    def preload(self, work: Sequence[RowWork]) -> None:
        overlay = self.overlay
        id_indexes = {item.id_index for item in work if item.id_index}
        talents: dict[int, Loaded] = {}
        if id_indexes:
            talents.update({t.pk: t for t in _talents_by_id_index(id_indexes)})
            if overlay is not None:
                # What the database said of the previous chunk's talents may be from before
                # its commit or after: the overlay's own values decide.
                for pk in [pk for pk in talents if pk in overlay.states]:
                    del talents[pk]
                for key in id_indexes & overlay.by_id_index.keys():
                    pk = overlay.by_id_index[key]
                    talents[pk] = overlay.talent(pk)
        found_ids = {t.id_index for t in talents.values()}
        fallback = {
            (item.result.name, item.phone_index)
            for item in work
            if item.phone_index
            and item.id_index not in found_ids
            and isinstance(item.result, ParsedRow)
        }
        if fallback:
            pks = _talent_ids_by_name_and_phone(fallback)
            if overlay is not None:
                pks -= overlay.states.keys()
                pks |= overlay.by_name_and_phone(fallback)
            pks -= talents.keys()
            if pks:
                talents.update({t.pk: t for t in self._talents_by_pk(pks)})
        if not talents:
            return
        target = self._resolve_merged(talents)
        live = sorted(set(target.values()))
        for pk in live:
            self.states_by_pk[pk] = TalentState(talent=talents[pk])
        stored = live
        if overlay is not None:
            stored = [pk for pk in live if pk not in overlay.states]
            for pk in live:
                if pk in overlay.states:
                    overlay.fill(self.states_by_pk[pk], pk)
        if stored:
            self._load_children(stored)
        refs = {
            int(record.source_ref.partition(":")[0])
            for state in self.states_by_pk.values()
            for record in (*state.educations, *state.destinations)
            if record.source == _SURVEY and record.source_ref.partition(":")[0].isdigit()
        }
        missing = refs - self.ctx.batch_files.keys()
        if missing:
            self.ctx.batch_files.update(
                ImportBatch.objects.filter(pk__in=missing).values_list("id", "file_sha256")
            )
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
            old_source.get("source") == _SURVEY
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
                if isinstance(phone, Loaded):
                    self.dirty_phones[phone.pk] = phone
        phone = Record(
            talent=state.talent,
            number=row.phone,
            number_index=index,
            is_current=True,
            is_wrong=False,
            source=_SURVEY,
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
            survey_owned = education.source == _SURVEY
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
            if changed and isinstance(education, Loaded):
                self.dirty_educations[education.pk] = education
            return changed
        education = Record(
            talent=state.talent,
            university_name=university_name,
            level=row.level,
            graduation_year=row.graduation_year,
            source=_SURVEY,
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
            survey_owned = destination.source == _SURVEY
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
            if changed and isinstance(destination, Loaded):
                self.dirty_destinations[destination.pk] = destination
            return changed
        destination = Record(
            talent=state.talent,
            kind=row.destination,
            employer=row.employer,
            region_text=row.region,
            area=area,
            year=year,
            source=_SURVEY,
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
            return _CREATED, self._create(row, item)
        if held_for_verification(state.talent):
            return _HELD, state
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
            return _UPDATED, state
        return _UNCHANGED, state

    def process(self, work: Sequence[RowWork]) -> Counters:
        read_ahead = self.ctx.read_ahead
        if read_ahead is not None:
            read_ahead.pause()
        self.compute(work)
        self.flush()
        return self.counters

    def compute(self, work: Sequence[RowWork]) -> None:
        """Every row's outcome and the derived fields; nothing written yet."""
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
                        outcome=_REJECTED,
                        talent_id=None,
                        reason=scrub_text(result.reason)[:500],
                        raw=raw,
                    )
                )
                continue
            outcome, state = self.apply(result, item)
            self.counters.add(outcome)
            if outcome == _HELD:
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
                    reason=scrub_text("；".join((*result.flags, *result.warnings)))[:500]
                    if result.flags or result.warnings
                    else "",
                    flagged=bool(result.flags),
                    raw=raw,
                )
            )
            if result.flags:
                self.counters.flagged += 1
        self.derive()

    def release(self) -> list[list[Any]]:
        """The chunk's records and states as lists, which this processor no longer holds:
        to be freed elsewhere (``ReadAhead.discard``)."""
        bulk: list[list[Any]] = [
            list(self.states_by_pk.values()),
            self.new_states,
            self.new_phones,
            self.new_educations,
            self.new_destinations,
            self.value_changes,
            self.import_rows,
            list(self.dirty_phones.values()),
            list(self.dirty_educations.values()),
            list(self.dirty_destinations.values()),
        ]
        self.states_by_pk, self.by_id_index, self.by_name_phone = {}, {}, {}
        self.new_states, self.new_phones, self.new_educations = [], [], []
        self.new_destinations, self.value_changes, self.import_rows = [], [], []
        self.dirty_phones, self.dirty_educations, self.dirty_destinations = {}, {}, {}
        return bulk

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

    def _reserve(self, model: type[Model], count: int) -> list[int] | None:
        keys = self.ctx.keys
        return keys.take(model, count) if keys is not None else reserve_ids(model, count)

    def assign_ids(self, *, children: bool = False) -> None:
        """Reserves the primary keys of the new talents (and with ``children`` of the new
        phones, educations and destinations) from the database's sequences, where
        ``reserve_ids`` can, or from the keys reserved ahead (``ctx.keys``); a no-op once
        done."""
        if self.new_states and self.new_states[0].talent.id is None:
            records = [state.talent for state in self.new_states]
            ids = self._reserve(Talent, len(records))
            if ids is not None:
                for record, pk in zip(records, ids, strict=True):
                    record.id = pk
        if children and not self.children_have_ids:
            for model, records in (
                (PhoneNumber, self.new_phones),
                (Education, self.new_educations),
                (Destination, self.new_destinations),
            ):
                if not records:
                    continue
                ids = self._reserve(model, len(records))
                if ids is None:
                    raise RuntimeError("reserved keys need PostgreSQL or SQLite")
                for record, pk in zip(records, ids, strict=True):
                    record.id = pk
            self.children_have_ids = True

    def flush(self, *, later: list[Callable[[], object]] | None = None) -> None:
        """Writes the chunk; or, given ``later`` (chunks overlapping), builds its
        writes now (the rows to insert, the instances to update) and appends them to ``later``
        in order, for another thread to run."""
        now = self.ctx.now
        read_ahead = self.ctx.read_ahead

        # The next chunk is parsed while PostgreSQL finishes each COPY and while SQLite runs
        # each multi-row INSERT (when chunks overlap, it parses freely).
        waiting = read_ahead.running if read_ahead is not None and later is None else None

        def run(step: Callable[[], object]) -> None:
            if later is None:
                step()
            else:
                later.append(step)

        if self.new_states:
            records = [state.talent for state in self.new_states]
            self.assign_ids()
            if records[0].id is None:  # another database: let the ORM insert and return keys
                created = Talent.objects.bulk_create(
                    [Talent(**{k: v for k, v in r.__dict__.items() if k != "id"}) for r in records]
                )
                for record, talent in zip(records, created, strict=True):
                    record.id = talent.pk
            else:
                insert_records(Talent, records, now=now, with_pk=True, overlap=waiting, later=later)
        updated = [s for s in self.states_by_pk.values() if s.changed_fields]
        if updated:
            fields = sorted(set().union(*(s.changed_fields for s in updated)) | {"updated_at"})
            talents = _instances(
                Talent, [s.talent for s in updated], [f for f in fields if f != "updated_at"]
            )
            for talent in talents:
                talent.updated_at = now
            run(functools.partial(Talent.objects.bulk_update, talents, fields, batch_size=100))
        for known, dirty, fields, batch_size in (
            (PhoneNumber, self.dirty_phones, ["is_current"], 500),
            (Education, self.dirty_educations, [*_EDUCATION_UPDATE_FIELDS, "source_ref"], 100),
            (Destination, self.dirty_destinations, ["region_text", "area", "source_ref"], 200),
        ):
            if dirty:
                instances = _instances(known, dirty.values(), fields)
                manager = known._default_manager
                run(
                    functools.partial(manager.bulk_update, instances, fields, batch_size=batch_size)
                )
        for model, records, with_pk in (
            (PhoneNumber, self.new_phones, self.children_have_ids),
            (Education, self.new_educations, self.children_have_ids),
            (Destination, self.new_destinations, self.children_have_ids),
            (ValueChange, self.value_changes, False),
            (ImportRow, self.import_rows, False),
        ):
            insert_records(model, records, now=now, with_pk=with_pk, overlap=waiting, later=later)


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
        work = prepare_chunk(rows, ctx.header, ctx.today)
    with transaction.atomic():
        _chunk_settings()
        _claim(batch_id, rows_done_before)
        processor = ChunkProcessor(ctx)
        counters = processor.process(work)
        if ctx.read_ahead is not None:
            ctx.read_ahead.discard(*processor.release())
        _count(batch_id, counters, rows_done_before + len(rows))
        _confirm_rows(ctx)
        if ctx.read_ahead is not None:
            # The commit (an fsync on SQLite), the progress report and the wait for the
            # next chunk: the thread parses on until that chunk's look-ups start.
            ctx.read_ahead.resume()
    return counters


def _confirm_rows(ctx: ImportContext) -> None:
    """Before a chunk commits: the rows come from the file as it is, not only from its head
    (``xlsxhead``; ``HeadMismatch`` otherwise, and the chunk's transaction is rolled back)."""
    if ctx.read_ahead is not None:
        ctx.read_ahead.confirm()


def _claim(batch_id: int, rows_done_before: int) -> None:
    """Writes the batch row where ``rows_done`` is still what this run expects (the lock that
    keeps two processes from writing the same batch's chunks; ``process_chunk``)."""
    claimed = ImportBatch.objects.filter(pk=batch_id, rows_done=rows_done_before).update(
        updated_at=timezone.now()
    )
    if claimed != 1:
        raise ImportConflict("该批次正由另一进程导入")


def _count(batch_id: int, counters: Counters, rows_done: int) -> None:
    ImportBatch.objects.filter(pk=batch_id).update(
        rows_done=rows_done,
        created=F("created") + counters.created,
        updated=F("updated") + counters.updated,
        unchanged=F("unchanged") + counters.unchanged,
        rejected=F("rejected") + counters.rejected,
        held=F("held") + counters.held,
        flagged=F("flagged") + counters.flagged,
        updated_at=timezone.now(),
    )


def _chunk_settings(*, writes: bool = True) -> None:
    """A chunk's transaction settings on PostgreSQL (``writes=False``: the look-ups' only)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if writes:
            # Losing the last chunks to a server crash costs nothing here: rows_done is
            # committed with them, so a rerun redoes exactly those. No need to wait for
            # the WAL flush on each commit.
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
            # Parents are written before children, so foreign keys can be checked at the
            # end of each COPY rather than all at commit; measured about 10% faster.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        # Every query here finds rows by a key. Given 10,000 blind indexes, the planner
        # estimates 10,000 matches and scans the whole talents table instead (about
        # 30 ms a chunk at 100,000 talents, growing with the table) where the unique
        # index finds the few that exist in about 3 ms.
        cursor.execute("SET LOCAL enable_seqscan TO OFF")
        # Those look-ups then cost enough for the planner to start parallel workers for
        # them as the tables grow: each query's plan sent to two new processes and read
        # back, about 12% of the server's CPU in the 100,000-row survey for no gain (each
        # look-up probes an index for a few thousand keys).
        cursor.execute("SET LOCAL max_parallel_workers_per_gather TO 0")


def chunk_compute(
    ctx: ImportContext, work: Sequence[RowWork], overlay: Overlay | None
) -> ChunkProcessor:
    """A chunk's outcomes, computed outside any transaction while the previous chunk's writes
    run on another connection (``overlay``: that chunk's talents), every new record's primary
    key reserved, and its writes built (``processor.writes``: the COPYs' data formatted, the
    instances to update). Nothing is written: ``chunk_write`` does, in the chunks' order."""
    with gc_paused():
        processor = ChunkProcessor(ctx, overlay)
        # On SQLite every transaction takes the write lock (``transaction_mode`` IMMEDIATE),
        # which the chunk being written holds: the look-ups run without one, each seeing
        # what is committed, as each statement does on PostgreSQL (READ COMMITTED).
        lookups = transaction.atomic() if connection.vendor != "sqlite" else nullcontext()
        with lookups:
            _chunk_settings(writes=False)
            processor.compute(work)
        processor.assign_ids(children=True)
        processor.flush(later=processor.writes)
        return processor


def chunk_write(
    processor: ChunkProcessor, batch_id: int, *, rows_done_before: int, rows: int
) -> Counters:
    """One transaction: a computed chunk's writes, its ImportRows and the batch's counters,
    claimed as ``process_chunk`` claims them."""
    with gc_paused(), transaction.atomic():
        _chunk_settings()
        _claim(batch_id, rows_done_before)
        for write in processor.writes:
            write()
        _count(batch_id, processor.counters, rows_done_before + rows)
        _confirm_rows(processor.ctx)
    return processor.counters
