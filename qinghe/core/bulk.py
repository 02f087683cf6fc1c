"""Bulk INSERT of many rows without model instances: ``COPY ... FROM STDIN`` on PostgreSQL
(psycopg 3 ``cursor.copy()``), one ``executemany`` of a prepared INSERT elsewhere.

Used where ``bulk_create`` costs more than the database does: the survey import (hundreds of
thousands of talents, phones, educations), the full recompute of recommendations (millions of
rows) and campaign notifications. ``bulk_create`` builds a model instance per row and compiles
every value through the generic field layers; here the caller gives rows of values already
prepared for the database (``field.get_db_prep_save``) and this module only sends them.

COPY cannot skip conflicting rows, so an insert that must ignore conflicts
(``ignore_conflicts_on``) is an ``INSERT ... ON CONFLICT (...) DO NOTHING`` run with
``executemany`` on every database (psycopg 3 pipelines it on PostgreSQL)."""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models


def insert_prepared(
    model: type[models.Model],
    fields: Sequence[models.Field[Any, Any]],
    rows: Iterable[Sequence[Any]],
    *,
    using: str = DEFAULT_DB_ALIAS,
    ignore_conflicts_on: Sequence[str] = (),
    batch_size: int | None = None,
    while_copy_completes: AbstractContextManager[Any] | None = None,
) -> None:
    """INSERT ``rows`` (values in ``fields`` order, already prepared for the database) into
    ``model``'s table.

    ``rows`` may be a generator: on PostgreSQL each row goes to the server as soon as it is
    built (the server inserts and indexes while Python prepares the next), elsewhere
    ``executemany`` consumes it. ``batch_size`` splits the ``executemany`` calls (not COPY).

    ``ignore_conflicts_on``: column names of a unique constraint; rows that collide with it
    are skipped (``ON CONFLICT DO NOTHING``, so never COPY).

    ``while_copy_completes``: entered once every row has been sent by COPY and left after the
    server has inserted, indexed and checked them (the end of a COPY waits for that), so a
    caller can do other work meanwhile; not used without COPY."""
    conn = connections[using]  # the connection itself, not the thread-local proxy
    qn = conn.ops.quote_name
    table = qn(model._meta.db_table)
    columns = ", ".join(qn(str(f.column)) for f in fields)
    # wrap_database_errors: the COPY runs on psycopg's own cursor, whose errors Django's
    # cursor wrapper would otherwise not turn into django.db errors (IntegrityError...).
    with conn.cursor() as cursor, conn.wrap_database_errors:
        if conn.vendor == "postgresql" and not ignore_conflicts_on:
            with ExitStack() as overlap:
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                    if while_copy_completes is not None:
                        overlap.enter_context(while_copy_completes)
            return
        placeholders = ", ".join(["%s"] * len(fields))
        sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608
        if ignore_conflicts_on:
            target = ", ".join(qn(name) for name in ignore_conflicts_on)
            sql += f" ON CONFLICT ({target}) DO NOTHING"
        if batch_size is None:
            cursor.executemany(sql, rows)  # type: ignore[arg-type]  # any iterable will do
            return
        it = iter(rows)
        while batch := list(itertools.islice(it, batch_size)):
            cursor.executemany(sql, batch)


def insert_tuples(
    model: type[models.Model],
    attnames: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    *,
    using: str = DEFAULT_DB_ALIAS,
    json_text: Sequence[str] = (),
) -> None:
    """INSERT of plain tuples in ``attnames`` order (``talent_id``, ``reasons``...), JSON and
    date-time values prepared by their fields as the ORM prepares them (one date-time object
    shared by many rows, such as a run's time stamp, is prepared once); other values are sent
    as they are. No defaults are filled: every NOT NULL column must be among ``attnames``.

    ``json_text``: JSON fields whose values are given as JSON text already (``json.dumps``
    of the value, as the ORM would write it): sent as they are, not encoded again."""
    conn = connections[using]
    targets = [model._meta.get_field(name) for name in attnames]
    prepared = [
        (i, f)
        for i, f in enumerate(targets)
        if isinstance(f, models.JSONField | models.DateTimeField) and f.name not in json_text
    ]
    done: dict[int, Any] = {}  # date-times by id

    def values() -> Iterator[list[Any]]:
        for row in rows:
            out = list(row)
            for i, f in prepared:
                value = out[i]
                if isinstance(f, models.JSONField):
                    out[i] = f.get_db_prep_save(value, conn)
                else:
                    key = id(value)
                    if key not in done:
                        done[key] = f.get_db_prep_save(value, conn)
                    out[i] = done[key]
            yield out

    insert_prepared(model, targets, values(), using=using)  # type: ignore[arg-type]


def prepared_datetime(
    field: models.Field[Any, Any], using: str = DEFAULT_DB_ALIAS
) -> Callable[[dt.datetime | None], Any]:
    """A function that prepares date-times for ``field``, each distinct value once (runs
    stamp many rows with the same few values)."""
    conn = connections[using]
    cache: dict[dt.datetime, Any] = {}

    def prepare(value: dt.datetime | None) -> Any:
        if value is None:
            return None
        if value not in cache:
            cache[value] = field.get_db_prep_save(value, conn)
        return cache[value]

    return prepare


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_str(value: str) -> str:
    """A str as a COPY text field (backslash, tab, newline and carriage return escaped)."""
    if "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_COPY_ESCAPES)
    return value.replace("\\", "\\\\")


def copy_text_tuples(
    model: type[models.Model],
    attnames: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    *,
    using: str = DEFAULT_DB_ALIAS,
    chunk: int = 5000,
) -> None:
    """``COPY ... FROM STDIN`` (PostgreSQL only) of plain tuples whose values are ``int``,
    ``float``, ``str`` (JSON fields given as JSON text, as ``insert_tuples``'s ``json_text``)
    or time-zone-aware date-times, written as COPY text by Python, ``chunk`` rows to a
    ``write``: no per-value adaptation by the driver. Floats go as ``repr`` (the same double
    back), date-times in ISO 8601 with their offset (each distinct object formatted once). No
    None; a value of another type raises TypeError (use ``insert_tuples``)."""
    conn = connections[using]
    if conn.vendor != "postgresql":
        raise ValueError("copy_text_tuples: PostgreSQL only (use insert_tuples)")
    qn = conn.ops.quote_name
    fields = [model._meta.get_field(name) for name in attnames]
    table = qn(model._meta.db_table)
    columns = ", ".join(qn(str(f.column)) for f in fields)  # type: ignore[union-attr]
    stamps: dict[int, str] = {}

    def cell(value: Any) -> str:
        kind = type(value)
        if kind is int:
            return int.__repr__(value)
        if kind is float:
            return float.__repr__(value)
        if kind is str:
            return _copy_str(value)
        if isinstance(value, dt.datetime) and value.utcoffset() is not None:
            key = id(value)
            text = stamps.get(key)
            if text is None:
                text = stamps[key] = value.isoformat()
            return text
        raise TypeError(f"copy_text_tuples: cannot write {kind.__name__} values")

    with conn.cursor() as cursor, conn.wrap_database_errors:
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for start in range(0, len(rows), chunk):
                copy.write(
                    "".join(
                        [
                            "\t".join([cell(v) for v in row]) + "\n"
                            for row in rows[start : start + chunk]
                        ]
                    )
                )


# A full replacement of a table's rows (the nightly recompute's millions of recommendations)
# costs far less written into a new table without indexes or foreign keys, which are built
# once at the end, than into the live table, where every row updates five indexes and queues a
# deferred foreign-key check per key (1,976,739 rows of 500 bytes on this machine: 122 s
# against 49 s, both with their indexes and checks).
SHADOW_SCHEMA = "qinghe_replacing"
SHADOW_MAINTENANCE_WORK_MEM = "256MB"  # for the index builds of a replacement (server memory)


@contextlib.contextmanager
def tables_replaced(*tables: type[models.Model], using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Inside an atomic block: the models' tables are empty for the rest of the block, and
    what is written into them replaces their rows when the block commits, in one step.

    On PostgreSQL, new tables of the same columns, defaults and identity (and no index, no
    foreign key) are created in a schema of their own (``SHADOW_SCHEMA``) put first on the
    transaction's ``search_path``, so that every write of the block (COPY, ORM) goes into
    them; at the end the live tables' indexes and constraints are built on them under the
    same names (``pg_get_indexdef``, ``pg_get_constraintdef``), the live tables dropped and the
    new ones moved in their place. Readers see the previous rows until the commit (the drop
    waits for the queries already reading them and holds new ones only for the swap itself);
    an error or a kill before the commit leaves everything as it was, the new tables with it.
    Adding the foreign keys holds writes to the referenced tables (not reads) until the
    commit. The new tables' ids go on from the live tables' sequences, their planner
    statistics are gathered before the swap; they are owned by the current role and carry no
    grants of the old ones. Concurrent replacements wait for each other (the schema's name).

    Elsewhere (SQLite): the rows are deleted, the block writes into the tables themselves."""
    conn = connections[using]
    if not conn.in_atomic_block:
        raise RuntimeError("tables_replaced: use inside transaction.atomic()")
    if conn.vendor != "postgresql":
        for model in tables:
            model._base_manager.using(using).all().delete()
        yield
        return
    qn = conn.ops.quote_name
    shadow = qn(SHADOW_SCHEMA)
    live: list[tuple[str, int, str]] = []  # (qualified live name, oid, table)
    with conn.cursor() as cursor:
        cursor.execute("SELECT current_setting('search_path')")
        search_path = cursor.fetchone()[0]
        cursor.execute(f"CREATE SCHEMA {shadow}")
        for model in tables:
            table = model._meta.db_table
            # Names as pg_get_indexdef prints them (quote_ident: quoted only where needed).
            cursor.execute(
                "SELECT c.oid, quote_ident(n.nspname) || '.' || quote_ident(c.relname)"
                " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE c.oid = to_regclass(%s)",
                [qn(table)],
            )
            oid, qualified = cursor.fetchone()
            live.append((qualified, oid, table))
            cursor.execute(
                f"CREATE TABLE {shadow}.{qn(table)} "
                f"(LIKE {qualified} INCLUDING ALL EXCLUDING INDEXES)"
            )
            # Ids go on from the live table's sequence rather than from 1: an id read before
            # the swap (a concurrent incremental run deleting rows by id) can never name a
            # row of the new table.
            cursor.execute(
                "SELECT attname FROM pg_attribute WHERE attrelid = %s AND attidentity <> ''",
                [oid],
            )
            for (column,) in cursor.fetchall():
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, %s),"
                    " nextval(pg_get_serial_sequence(%s, %s)), false)",
                    [f"{shadow}.{qn(table)}", column, qualified, column],
                )
        cursor.execute("SELECT set_config('search_path', %s, true)", [f"{shadow}, {search_path}"])
    yield
    with conn.cursor() as cursor:
        cursor.execute("SELECT set_config('search_path', %s, true)", [search_path])
        cursor.execute(
            "SELECT set_config('maintenance_work_mem', %s, true)", [SHADOW_MAINTENANCE_WORK_MEM]
        )
        for qualified, oid, table in live:
            new = f"{shadow}.{qn(table)}"
            cursor.execute(
                "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = %s"
                " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid"
                " AND k.conrelid = %s) ORDER BY i.indexrelid",
                [oid, oid],
            )
            for (definition,) in cursor.fetchall():
                target = f" ON {qualified} USING "
                if target not in definition:
                    raise RuntimeError(f"tables_replaced: unexpected index: {definition}")
                cursor.execute(definition.replace(target, f" ON {new} USING ", 1))
            # Primary key and unique constraints (with their indexes), then foreign keys.
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE conrelid = %s AND contype IN ('p', 'u', 'x', 'f')"
                " ORDER BY contype = 'f', oid",
                [oid],
            )
            for name, definition in cursor.fetchall():
                cursor.execute(f"ALTER TABLE {new} ADD CONSTRAINT {qn(name)} {definition}")
            # The planner's statistics, so that the first readers after the swap get the
            # plans they had (autovacuum would analyze the new table only later).
            cursor.execute(f"ANALYZE {new}")
    # Checks deferred by earlier writes of the transaction to the live tables run now (a
    # table with pending trigger events cannot be dropped); Django's own way, constraints
    # deferred again after.
    conn.check_constraints()
    with conn.cursor() as cursor:
        for qualified, _oid, table in live:
            schema = qualified.rsplit(".", 1)[0]
            cursor.execute(f"DROP TABLE {qualified}")
            cursor.execute(f"ALTER TABLE {shadow}.{qn(table)} SET SCHEMA {schema}")
        cursor.execute(f"DROP SCHEMA {shadow}")
