"""The bulk INSERT helper stores what the ORM stores, skips conflicting rows when asked, and
overlaps the end of a COPY with the caller's work on PostgreSQL."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import IntegrityError, connection, models, transaction
from django.test.utils import CaptureQueriesContext

from qinghe.accounts.models import User
from qinghe.core.bulk import copy_text_tuples, insert_prepared, insert_tuples
from qinghe.notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db

STAMP = dt.datetime(2026, 7, 1, 9, 30, tzinfo=dt.UTC)
COLUMNS = (
    "idempotency_key",
    "user_id",
    "channel",
    "category",
    "template",
    "subject",
    "body",
    "data",
    "state",
    "attempts",
    "next_attempt_at",
    "last_error",
    "provider_id",
    "created_at",
)
COMPARED = ("user_id", "channel", "subject", "body", "data", "state", "created_at")


def row(key: str, user: User, data: dict[str, Any]) -> tuple[Any, ...]:
    return (
        key,
        user.pk,
        "inbox",
        "system",
        "",
        "通知",
        "正文",
        data,
        "queued",
        0,
        STAMP,
        "",
        "",
        STAMP,
    )


def field(attname: str) -> models.Field[Any, Any]:
    return next(f for f in OutboxMessage._meta.concrete_fields if f.attname == attname)


@pytest.fixture
def alice() -> User:
    return User.objects.create_user(username="alice", password="x")


def test_insert_tuples_stores_json_and_date_times_as_the_orm_does(alice: User) -> None:
    data = {"岗位": "化工工艺员", "n": 3, "list": [1, None]}
    OutboxMessage.objects.create(
        idempotency_key="orm",
        user=alice,
        channel="inbox",
        category="system",
        subject="通知",
        body="正文",
        data=data,
        next_attempt_at=STAMP,
        created_at=STAMP,
    )
    insert_tuples(OutboxMessage, COLUMNS, [row("bulk-1", alice, data), row("bulk-2", alice, {})])

    stored = {
        m["idempotency_key"]: m for m in OutboxMessage.objects.values("idempotency_key", *COMPARED)
    }
    assert set(stored) == {"orm", "bulk-1", "bulk-2"}
    orm = {k: v for k, v in stored["orm"].items() if k != "idempotency_key"}
    assert {k: v for k, v in stored["bulk-1"].items() if k != "idempotency_key"} == orm
    assert stored["bulk-2"]["data"] == {}
    assert stored["bulk-2"]["created_at"] == STAMP


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_copy_text_tuples_stores_what_insert_tuples_stores(alice: User) -> None:
    data = {"岗位": "化工\t工艺员\n", "path": "C:\\tmp", "n": 3.25, "list": [1, None]}
    tricky = "制表\t换行\n回车\r反斜杠\\N 结束"
    stamp = dt.datetime(2026, 7, 1, 17, 30, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    rows = [
        (*row("plain", alice, data)[:5], tricky, tricky, data, *row("", alice, {})[8:]),
        (*row("stamped", alice, {})[:10], stamp, "", "", stamp),
    ]
    insert_tuples(OutboxMessage, COLUMNS, [(f"orm-{r[0]}", *r[1:]) for r in rows])
    as_text = [(*r[:7], json.dumps(r[7]), *r[8:]) for r in rows]
    copy_text_tuples(OutboxMessage, COLUMNS, [(f"copy-{r[0]}", *r[1:]) for r in as_text])

    stored = {
        m["idempotency_key"]: m
        for m in OutboxMessage.objects.values("idempotency_key", *COMPARED, "next_attempt_at")
    }
    for key in ("plain", "stamped"):
        orm = {k: v for k, v in stored[f"orm-{key}"].items() if k != "idempotency_key"}
        copied = {k: v for k, v in stored[f"copy-{key}"].items() if k != "idempotency_key"}
        assert copied == orm
    assert stored["copy-plain"]["subject"] == tricky
    assert stored["copy-plain"]["data"] == data
    assert stored["copy-stamped"]["created_at"] == stamp
    with pytest.raises(TypeError):
        copy_text_tuples(OutboxMessage, COLUMNS, [(None, *as_text[0][1:])])


def test_without_ignore_conflicts_a_duplicate_key_fails_and_nothing_is_kept(alice: User) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_tuples(OutboxMessage, COLUMNS, [row("same", alice, {}), row("same", alice, {})])
    assert OutboxMessage.objects.count() == 0


def test_ignore_conflicts_skips_taken_keys_and_batches_the_rest(alice: User) -> None:
    insert_tuples(OutboxMessage, COLUMNS, [row("k1", alice, {"first": True})])
    fields = [field(name) for name in COLUMNS]
    rows = [
        [
            key,
            alice.pk,
            "inbox",
            "system",
            "",
            "通知",
            "正文",
            field("data").get_db_prep_save({"key": key}, connection),
            "queued",
            0,
            field("created_at").get_db_prep_save(STAMP, connection),
            "",
            "",
            field("created_at").get_db_prep_save(STAMP, connection),
        ]
        for key in ("k1", "k2", "k3", "k2", "k4")
    ]
    with CaptureQueriesContext(connection) as queries:
        insert_prepared(
            OutboxMessage,
            fields,
            iter(rows),
            ignore_conflicts_on=["idempotency_key"],
            batch_size=2,
        )

    inserts = [q["sql"] for q in queries.captured_queries if "INSERT INTO" in q["sql"]]
    assert [sql.split(":")[0] for sql in inserts] == ["2 times", "2 times", "1 times"]
    assert all("ON CONFLICT" in sql for sql in inserts)
    assert dict(OutboxMessage.objects.values_list("idempotency_key", "data")) == {
        "k1": {"first": True},
        "k2": {"key": "k2"},
        "k3": {"key": "k3"},
        "k4": {"key": "k4"},
    }


def test_the_callers_work_overlaps_the_end_of_a_copy_on_postgresql_only(alice: User) -> None:
    events: list[str] = []

    @contextlib.contextmanager
    def overlap() -> Iterator[None]:
        events.append("enter")
        yield
        events.append("exit")

    def rows() -> Iterator[tuple[Any, ...]]:
        for key in ("a", "b"):
            events.append(f"row {key}")
            yield row(key, alice, {})

    fields = [field(name) for name in COLUMNS]
    prepare = {
        i: f for i, f in enumerate(fields) if isinstance(f, models.JSONField | models.DateTimeField)
    }
    prepared = (
        [prepare[i].get_db_prep_save(v, connection) if i in prepare else v for i, v in enumerate(r)]
        for r in rows()
    )
    insert_prepared(OutboxMessage, fields, prepared, while_copy_completes=overlap())

    if connection.vendor == "postgresql":
        assert events == ["row a", "row b", "enter", "exit"]
    else:
        assert events == ["row a", "row b"]
    assert sorted(OutboxMessage.objects.values_list("idempotency_key", flat=True)) == ["a", "b"]
