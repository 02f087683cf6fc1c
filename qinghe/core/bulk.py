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
