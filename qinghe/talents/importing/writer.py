"""Writing a chunk's new rows: ``Record`` objects (plain attributes, no model instances) prepared
as the ORM would prepare them and sent by ``qinghe.core.bulk.insert_prepared`` (COPY on
PostgreSQL) or as INSERTs of about a thousand rows each (SQLite), with primary keys reserved
up front so children can point at parents written in the same chunk."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import operator
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from types import SimpleNamespace
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from psycopg.copy import Copy, Writer

from qinghe.core.bulk import insert_prepared
from qinghe.core.crypto import EncryptedTextField, encrypt_many
from qinghe.talents import provenance
from qinghe.talents.provenance import ProvenanceField


class Record(SimpleNamespace):
    """A row to insert, not yet in the database: attributes named like the model's attnames
    (``talent_id``) or, for a foreign key, the related object itself (``talent``). Plain
    attribute objects instead of model instances because creating 500,000 model instances and
    compiling them one field at a time is most of the time an ORM bulk_create takes."""


_MISSING = object()
_attributes = operator.attrgetter("__dict__")


def _reader(attnames: list[str]) -> Callable[[dict[str, Any]], list[Any]]:
    """A function giving a record's values of ``attnames`` (every record has them) as a new
    list: one C-level itemgetter call instead of a Python loop over the columns."""
    if not attnames:
        return lambda values: []
    if len(attnames) == 1:
        name = attnames[0]
        return lambda values: [values[name]]
    getter = operator.itemgetter(*attnames)
    return lambda values: list(getter(values))


def reserve_ids(model: type[models.Model], count: int) -> list[int] | None:
    """Primary keys for ``count`` new rows, taken inside the chunk's transaction (which holds
    the write lock on SQLite and takes them from the sequence on PostgreSQL). None on other
    databases."""
    table = model._meta.db_table
    column = model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The sequence's name is looked up once (``pg_get_serial_sequence`` in the select
            # list ran once per key: 0.7 s of the server's CPU for the 100,000-row survey).
            cursor.execute(
                "WITH sequence AS MATERIALIZED"
                " (SELECT pg_get_serial_sequence(%s, %s)::regclass AS name)"
                " SELECT nextval(sequence.name) FROM sequence, generate_series(1, %s)",
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


FILL_WAIT_SECONDS = 60.0


class KeyPool:
    """Primary keys reserved ahead for the chunks of a run whose chunks overlap
    (``run._run_overlapped``), a block for each table at a time.

    On SQLite each table's AUTOINCREMENT counter (``sqlite_sequence``) is moved past the block
    in a short transaction of its own: the next chunk's keys are needed while the previous
    chunk's transaction holds the write lock, and no other writer (the web server creating a
    talent meanwhile) can then take one of them. On PostgreSQL the block is taken from the
    table's sequence (``reserve_ids``) before the first chunk needs it (``fill``, run by the
    writer thread while the first chunk is matched and the server has nothing else to do),
    rather than four round trips a chunk. Keys left unused are a gap, as a sequence leaves
    them."""

    def __init__(self, block: int) -> None:
        self.block = max(block, 1)
        self._free: dict[str, list[range]] = {}  # table -> its reserved keys, in order
        self._filled = threading.Event()
        self._filled.set()

    def fill(self, models_: Sequence[type[models.Model]]) -> None:
        """Reserves a block for each model now, on the calling thread's connection (``take``
        waits for this when it runs in another thread: ``filling`` first)."""
        try:
            for model in models_:
                self._free.setdefault(model._meta.db_table, []).extend(
                    self.reserve(model, self.block)
                )
        finally:
            self._filled.set()

    def filling(self) -> None:
        """``fill`` is about to run in another thread: ``take`` waits for it."""
        self._filled.clear()

    def take(self, model: type[models.Model], count: int) -> list[int]:
        # A fill that never came (its thread failed before it ran) leaves the block to the
        # reservation below.
        self._filled.wait(timeout=FILL_WAIT_SECONDS)
        ranges = self._free.setdefault(model._meta.db_table, [])
        if sum(map(len, ranges)) < count:
            # On SQLite this waits for the write lock while the chunk being written holds it:
            # only when a block runs out.
            ranges.extend(self.reserve(model, max(count, self.block)))
        keys: list[int] = []
        while len(keys) < count:
            first = ranges[0]
            needed = count - len(keys)
            keys.extend(first[:needed])
            if len(first) > needed:
                ranges[0] = first[needed:]
            else:
                ranges.pop(0)
        return keys

    @staticmethod
    def reserve(model: type[models.Model], count: int) -> list[range]:
        """``count`` keys of ``model``'s table, taken from its counter for good, as runs of
        consecutive keys."""
        if connection.vendor == "postgresql":
            ids = reserve_ids(model, count) or []
            runs: list[range] = []
            start = previous = None
            for pk in ids:
                if previous is None or pk != previous + 1:
                    if start is not None and previous is not None:
                        runs.append(range(start, previous + 1))
                    start = pk
                previous = pk
            if start is not None and previous is not None:
                runs.append(range(start, previous + 1))
            return runs
        qn = connection.ops.quote_name
        table = model._meta.db_table
        column = qn(str(model._meta.pk.column))
        with transaction.atomic(), connection.cursor() as cursor:
            # Written first, so the transaction holds the write lock before it reads.
            cursor.execute(
                "INSERT INTO sqlite_sequence (name, seq) SELECT %s, 0"
                " WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = %s)",
                [table, table],
            )
            cursor.execute(
                f"UPDATE sqlite_sequence SET seq = MAX(seq,"  # noqa: S608 - names from the model
                f" (SELECT COALESCE(MAX({column}), 0) FROM {qn(table)})) + %s WHERE name = %s",
                [count, table],
            )
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            end = int(cursor.fetchone()[0]) + 1
        return [range(end - count, end)]


class JsonText(dict[str, Any]):
    """A dict that carries its own ``json.dumps`` text (``text``, set by whoever builds it
    from a template and never changed after): a survey's provenance maps each field a row set
    to one such source, 100,000 sources an import, which are then not serialised again."""

    __slots__ = ("text",)
    text: str


_QUOTED_KEYS: dict[str, str] = {}
# The keys of a dict whose values are all one object -> the text in front of each value.
_SHARED_VALUE_PREFIXES: dict[tuple[str, ...], list[str]] = {}


def _json_text(item: Any) -> str:
    return item.text if type(item) is JsonText else json.dumps(item)


def _json_dumps(value: dict[str, Any]) -> str:
    """``json.dumps(value)`` (same output) for a dict whose values are often one shared
    object, as provenance maps every field a row set to the same source: each distinct value
    is serialised once (a ``JsonText`` not at all), and a dict whose values are all one object
    is put together by one ``join`` over the text in front of each value."""
    items = list(value.values())
    if items and all(item is items[0] for item in items):
        keys = tuple(value)
        prefixes = _SHARED_VALUE_PREFIXES.get(keys)
        if prefixes is None:
            prefixes = [
                ("{" if number == 0 else ", ") + json.dumps(key) + ": "
                for number, key in enumerate(keys)
            ]
            if len(_SHARED_VALUE_PREFIXES) < 4096:
                _SHARED_VALUE_PREFIXES[keys] = prefixes
        text = _json_text(items[0])
        return text.join(prefixes) + text + "}"
    done: dict[int, str] = {}
    parts = []
    for key, item in value.items():
        known = done.get(id(item))
        if known is None:
            known = done[id(item)] = _json_text(item)
        quoted = _QUOTED_KEYS.get(key)
        if quoted is None:
            quoted = _QUOTED_KEYS[key] = json.dumps(key)
        parts.append(f"{quoted}: {known}")
    return "{" + ", ".join(parts) + "}"


def _field_json(field: models.Field, value: dict[str, Any]) -> str:
    """The JSON text a JSONField without an encoder stores for ``value``: a provenance in its
    compact form (``provenance.ProvenanceField``), as its ``get_prep_value`` gives it."""
    if isinstance(field, ProvenanceField):
        text = provenance.compact_text(value, _json_text)
        if text is not None:
            return text
        value = provenance.compact(value)
    return _json_dumps(value)


def _json_param(field: models.Field, value: dict[str, Any], conn: Any) -> Any:
    text = _field_json(field, value)
    if conn.vendor == "postgresql":
        from psycopg.types.json import Jsonb

        return Jsonb(text, dumps=str)
    return text


def _prep_value(field: models.Field, value: Any, conn: Any) -> Any:
    """What ``field.get_db_prep_save`` gives, for the field types that need any preparing."""
    if value is None:
        return None
    if isinstance(field, models.JSONField) and type(value) is dict and field.encoder is None:
        return _json_param(field, value, conn)
    if isinstance(field, EncryptedTextField | models.JSONField | models.DateField):
        return field.get_db_prep_save(value, conn)
    return value


def insert_records(
    model: type[models.Model],
    records: Sequence[Any],
    *,
    now: dt.datetime,
    with_pk: bool,
    overlap: Callable[[], AbstractContextManager[Any]] | None = None,
    later: list[Callable[[], object]] | None = None,
) -> None:
    """INSERT of ``records``: ``COPY`` on PostgreSQL (``qinghe.core.bulk.insert_prepared``),
    INSERTs of many rows each on SQLite (``_sqlite_insert``), ``executemany`` elsewhere.

    ``later`` (chunks overlapping): the rows are built now, in this thread, and a function
    sending them on the calling thread's connection is appended to ``later`` (``CopyLater``
    on PostgreSQL, ``SqliteLater`` on SQLite).

    ``overlap`` gives a context manager entered while this thread waits for the database
    with the GIL released (the end of each COPY, each SQLite statement): the read-ahead
    thread parsing the next chunk.

    Values go through each field's ``get_db_prep_save`` where it matters (encryption, JSON,
    dates), so the stored form is the ORM's; defaults, ``auto_now`` and ``auto_now_add`` are
    filled as the ORM fills them. Columns no record sets are prepared once for all rows.
    A column that only some records set takes the field's default in the others."""
    if not records:
        return
    conn = connections[DEFAULT_DB_ALIAS]  # the connection itself, not the thread-local proxy
    # The attributes some record sets, and those every record sets (read without a default):
    # records of one model mostly set the same attributes, so each distinct set of names is
    # looked at once. (``map`` in C rather than a generator, and a set rather than a Counter
    # of them: 500,000 records an import.)
    shapes = [set(names) for names in set(map(tuple, map(_attributes, records)))]
    some: set[str] = set().union(*shapes)
    every: set[str] = set.intersection(*shapes)
    total = len(records)
    # The columns go in this order (the INSERT names them, so any order will do): attributes
    # every record sets, read together by one itemgetter; attributes some set; foreign keys
    # given as objects; values a field prepares (encrypted, JSON, dates); then the columns no
    # record sets, prepared once for all rows.
    always: list[models.Field] = []
    sometimes: list[tuple[models.Field, Any]] = []  # (field, default)
    related: list[models.Field] = []
    # (field, auto, encrypted)
    prepared: list[tuple[models.Field, bool, bool]] = []
    constant: list[models.Field] = []
    for f in model._meta.concrete_fields:
        if f.primary_key and not with_pk:
            continue
        auto = bool(getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False))
        if isinstance(f, EncryptedTextField | models.JSONField | models.DateField):
            if f.attname in some:
                prepared.append((f, auto, isinstance(f, EncryptedTextField)))
            else:
                constant.append(f)
        elif f.is_relation and f.name in some:
            related.append(f)
        elif f.attname in every:
            always.append(f)
        elif f.attname in some:
            sometimes.append((f, None if f.primary_key else f.get_default()))
        else:
            constant.append(f)
    constants = [
        _prep_value(
            f,
            now
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
            else f.get_default(),
            conn,
        )
        for f in constant
    ]
    fields = [*always, *(f for f, _ in sometimes), *related, *(f for f, *_ in prepared), *constant]
    inlined: list[str] = []
    if conn.vendor == "sqlite":
        # The constant columns that can be written as SQL literals go into the statement's
        # text instead of being bound for every row (see ``_sqlite_literal``).
        literals = [_sqlite_literal(value) for value in constants]
        inlined = [literal for literal in literals if literal is not None]
        if len(inlined) == len(constants):
            constants = []
        else:
            inlined = []
    read_always = _reader([f.attname for f in always])
    now_db: dict[str, Any] = {}
    dates: dict[Any, Any] = {}
    # The non-empty plain strings of each encrypted column (ID numbers, phones, raw rows:
    # 300,000 values an import), encrypted together: what the field's get_prep_value gives
    # each, without the generic layers in front of it and with one system call for all the
    # nonces. None where the value takes the field's own path.
    ciphertexts: dict[str, list[str | None]] = {}
    for f, _auto, encrypted in prepared:
        if not encrypted:
            continue
        attname = f.attname
        column: list[str | None] = [None] * total
        todo: list[int] = []
        for number, record in enumerate(records):
            value = record.__dict__.get(attname)
            if type(value) is str and value and f.to_python(value) is value:
                todo.append(number)
        for number, token in zip(
            todo,
            encrypt_many([records[number].__dict__[attname] for number in todo]),
            strict=True,
        ):
            column[number] = token
        ciphertexts[attname] = column

    def prepare(f: models.Field, auto: bool, value: Any) -> Any:
        if value is _MISSING:
            value = now if auto else f.get_default()
        if value is None:
            return None
        if type(value) is dt.date:
            # Birth dates repeat: prepare each once.
            done = dates.get(value)
            if done is None:
                done = dates[value] = f.get_db_prep_save(value, conn)
            return done
        if value is now:
            attname = f.attname
            if attname not in now_db:
                now_db[attname] = f.get_db_prep_save(now, conn)
            return now_db[attname]
        return _prep_value(f, value, conn)

    # What the loop below needs of each prepared column, looked up once: its attname, its
    # ciphertexts (encrypted columns), and whether a dict in it is JSON text as it is (a
    # JSONField without an encoder, on SQLite: ``_prep_value`` would give ``_json_dumps``).
    plan = [
        (
            f,
            f.attname,
            auto,
            ciphertexts[f.attname] if encrypted else None,
            conn.vendor == "sqlite" and isinstance(f, models.JSONField) and f.encoder is None,
        )
        for f, auto, encrypted in prepared
    ]

    def rows() -> Iterator[list[Any]]:
        for number, record in enumerate(records):
            values = record.__dict__
            get = values.get
            row = read_always(values)
            for f, default in sometimes:
                row.append(get(f.attname, default))
            for f in related:
                obj = get(f.name)
                row.append(obj.id if obj is not None else get(f.attname))
            for f, attname, auto, tokens, json_text in plan:
                if tokens is not None:
                    token = tokens[number]
                    if token is not None:
                        row.append(token)
                        continue
                value = get(attname, _MISSING)
                if json_text and type(value) is dict:
                    row.append(_field_json(f, value))
                    continue
                row.append(prepare(f, auto, value))
            if constants:
                row += constants
            yield row

    if conn.vendor == "sqlite":
        if later is not None:
            later.append(SqliteLater(model, fields, list(rows()), inlined))
            return
        _sqlite_insert(conn, model, fields, rows(), overlap, inlined=inlined)
        return
    if later is not None:
        later.append(CopyLater(conn, model, fields, rows()))
        return
    # On PostgreSQL each row goes to the server as soon as it is built (the server inserts and
    # indexes while Python prepares the next); the end of the COPY waits for the server to
    # insert, index and check them, and ``overlap`` (the read-ahead thread parsing the next
    # chunk) runs meanwhile.
    insert_prepared(
        model, fields, rows(), while_copy_completes=overlap() if overlap is not None else None
    )


class _Collect(Writer):
    """COPY data gathered in memory rather than sent."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: Any) -> None:
        self.parts.append(bytes(data))


# The overlapped chunks' COPYs in PostgreSQL's binary format (the column types from the
# fields, ``_pg_type``): psycopg writes each value's bytes with a length in front instead of
# escaping it into text, and the server reads numbers, dates and time stamps without parsing
# them. A/B of the 100k survey in one process, alternating (load 4-11): importing process CPU
# 12.26 / 12.06 / 12.40 s in text against 11.06 / 11.14 / 11.35 s in binary, server CPU
# 11.17 / 10.87 / 10.27 against 10.42 / 10.43 / 10.17 s, identical tables.
COPY_BINARY = True


def _pg_type(field: models.Field[Any, Any], conn: Any) -> str:
    """The column's PostgreSQL type name as psycopg knows it (no length: ``varchar``)."""
    db_type = field.db_type(conn)
    if db_type is None:
        raise ValueError(f"{field} has no column type")
    return db_type.split("(", 1)[0].strip()


class CopyLater:
    """A COPY (PostgreSQL) whose data is formatted now, by psycopg as ``Copy.write_row``
    formats it, with the adapters of ``conn``, and sent when called, on the calling
    thread's connection: a chunk built by the importing thread and written by another
    (``run._run_overlapped``), which then holds the GIL only to hand over a few buffers
    while the server inserts, indexes and checks the rows."""

    def __init__(
        self,
        conn: Any,
        model: type[models.Model],
        fields: Sequence[models.Field[Any, Any]],
        rows: Iterator[list[Any]],
    ) -> None:
        if conn.vendor != "postgresql":
            raise ValueError("CopyLater: PostgreSQL only")
        qn = conn.ops.quote_name
        columns = ", ".join(qn(str(f.column)) for f in fields)
        binary = COPY_BINARY
        self.sql = f"COPY {qn(model._meta.db_table)} ({columns}) FROM STDIN" + (
            " (FORMAT BINARY)" if binary else ""
        )
        sink = _Collect()
        conn.ensure_connection()
        with conn.wrap_database_errors, conn.connection.cursor() as cursor:
            with Copy(cursor, binary=binary, writer=sink) as copy:
                if binary:
                    copy.set_types([_pg_type(f, conn) for f in fields])
                for row in rows:
                    copy.write_row(row)
        self.parts = sink.parts

    def __call__(self) -> None:
        conn = connections[DEFAULT_DB_ALIAS]  # this thread's
        with conn.cursor() as cursor, conn.wrap_database_errors:
            with cursor.cursor.copy(self.sql) as copy:
                for part in self.parts:
                    copy.write(part)


class SqliteLater:
    """SQLite's counterpart of ``CopyLater``: the rows' values built now, by the importing
    thread, and inserted when called, on the calling thread's connection."""

    def __init__(
        self,
        model: type[models.Model],
        fields: Sequence[models.Field[Any, Any]],
        rows: list[list[Any]],
        inlined: Sequence[str],
    ) -> None:
        self.model, self.fields, self.rows, self.inlined = model, fields, rows, inlined

    def __call__(self) -> None:
        conn = connections[DEFAULT_DB_ALIAS]  # this thread's
        _sqlite_insert(conn, self.model, self.fields, iter(self.rows), None, inlined=self.inlined)


def _sqlite_literal(value: Any) -> str | None:
    """``value`` as an SQLite literal, for the values a constant column takes (None, numbers,
    a default's text, a time stamp's text); None for anything else, which is then bound.
    Text with ``%`` is not inlined (Django's cursor rewrites ``%s`` in the statement when
    queries are logged), nor with a NUL."""
    if value is None:
        return "NULL"
    if type(value) is bool:
        return "1" if value else "0"
    if type(value) is int:
        return str(value)
    if isinstance(value, str) and "%" not in value and "\x00" not in value:
        # A choices member (a str subclass, as sqlite3 would bind it) by its text.
        return "'" + str.__str__(value).replace("'", "''") + "'"
    return None


# Bound parameters per SQLite INSERT at most (the library's own limit may be lower; 32,766
# is SQLite's default since 3.32).
SQLITE_MAX_VARIABLES = 32766
# Statement texts by (table, columns, rows): the same few for a whole import.
_SQLITE_STATEMENTS: dict[tuple[str, tuple[str, ...], tuple[str, ...], int, str], str] = {}


def _sqlite_statement(
    table: str, columns: tuple[str, ...], inlined: tuple[str, ...], count: int, placeholder: str
) -> str:
    """``INSERT`` of ``count`` rows: a placeholder for each of ``columns`` but the last
    ``len(inlined)``, which take those literals."""
    key = (table, columns, inlined, count, placeholder)
    sql = _SQLITE_STATEMENTS.get(key)
    if sql is None:
        row = "(" + ", ".join([placeholder] * (len(columns) - len(inlined)) + list(inlined)) + ")"
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES " + ", ".join([row] * count)
        if len(_SQLITE_STATEMENTS) >= 64:
            _SQLITE_STATEMENTS.clear()
        _SQLITE_STATEMENTS[key] = sql
    return sql


def _sqlite_insert(
    conn: Any,
    model: type[models.Model],
    fields: Sequence[models.Field[Any, Any]],
    rows: Iterator[list[Any]],
    overlap: Callable[[], AbstractContextManager[Any]] | None,
    *,
    inlined: Sequence[str] = (),
) -> None:
    """The rows as ``INSERT ... VALUES (...), (...), ...`` statements of as many rows as
    ``SQLITE_MAX_VARIABLES`` parameters allow (about a thousand), rather than one
    ``executemany``: Python's sqlite3 releases the GIL for each step of a statement, which is
    one row of an ``executemany`` (a few microseconds) but all the rows of a multi-row
    INSERT, so the read-ahead thread can parse during SQLite's inserting and indexing
    (``overlap``) without taking turns with this thread on the GIL row by row.

    The text has SQLite's own ``?`` placeholders and goes to the sqlite3 cursor directly:
    Django's cursor rewrites ``%s`` by a regular expression over the whole text (a megabyte,
    20 ms) at each call. When queries are being logged (DEBUG, tests) or wrapped, the
    statement goes through Django's cursor, with ``%s``.

    The last ``len(inlined)`` of ``fields`` are columns every row sets to the same value,
    given as SQL literals (``_sqlite_literal``) and absent from ``rows``: written once in the
    statement's text rather than bound again for every row (a third of the talents'
    columns), so a statement has more rows and sqlite3 binds fewer values, each bind being
    done with the GIL held (and a None or a bool looked up in sqlite3's adapters first)."""
    qn = conn.ops.quote_name
    table = qn(model._meta.db_table)
    columns = tuple(qn(str(f.column)) for f in fields)
    conn.ensure_connection()
    limit = min(
        SQLITE_MAX_VARIABLES, conn.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    )
    inlined = tuple(inlined)
    per_statement = max(1, limit // max(1, len(columns) - len(inlined)))
    through_django = conn.queries_logged or bool(conn.execute_wrappers)
    with conn.cursor() as cursor, conn.wrap_database_errors:
        execute = cursor.execute if through_django else conn.connection.cursor().execute
        placeholder = "%s" if through_django else "?"
        while batch := list(itertools.islice(rows, per_statement)):
            sql = _sqlite_statement(table, columns, inlined, len(batch), placeholder)
            params = list(itertools.chain.from_iterable(batch))
            with overlap() if overlap is not None else nullcontext():
                execute(sql, params)
