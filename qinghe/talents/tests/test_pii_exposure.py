"""Renders every page and API response for every role and fails on a raw ID number or phone
where that role may not see it. Logs and sent mail are searched too.

Full values appear only (a) to the student who owns the record, on their own pages, and (b) in
the answer to an explicit, audited unmask request, which is a POST and not walked here."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from qinghe.core.policies import policy_for
from qinghe.core.roles import ALL_ROLES, Role
from qinghe.talents.models import ImportBatch, Segment, Source, ValueChange
from qinghe.talents.services import source_stamp, talent_add_phone
from qinghe.talents.tests.factories import make_id, make_talent
from qinghe.testing.routes import access_of, concrete_path, methods_of, walk_routes

pytestmark = pytest.mark.django_db

RAW_ID = make_id("440784", "20040303", "456")
RAW_PHONE = "13712345679"
OLD_PHONE = "15812340000"
OWN_PAGES_PREFIX = "me:"


@pytest.fixture
def world(personas: Any) -> dict[str, Any]:
    student = personas[Role.STUDENT]
    talent = make_talent(name="区晓彤", id_number=RAW_ID, phone=OLD_PHONE, user=student)
    talent_add_phone(talent=talent, raw=RAW_PHONE, source=Source.STUDENT)
    change = ValueChange.objects.create(
        talent=talent,
        field="wechat",
        old_value="a",
        new_value="b",
        old_source=source_stamp(Source.STUDENT),
        new_source=source_stamp(Source.SURVEY),
        state=ValueChange.State.CONFLICT,
    )
    batch = ImportBatch.objects.create(
        source_name="2026届调查", file_name="s.xlsx", file_sha256="0" * 64
    )
    segment = Segment.objects.create(name="全部", filters={}, owner=personas[Role.HR_STAFF])
    return {
        "talent_id": str(talent.pk),
        "change_id": str(change.pk),
        "batch_id": str(batch.pk),
        "segment_id": str(segment.pk),
    }


def _params(world: dict[str, Any]) -> dict[str, str]:
    from qinghe.core.tests.test_authorization import SAMPLE_PARAMS

    return {**SAMPLE_PARAMS, **world}


@pytest.mark.parametrize("role", sorted(ALL_ROLES))
def test_no_page_or_api_answer_shows_a_raw_id_or_phone_to_a_role_that_may_not_see_it(
    role: str, personas: Any, world: dict[str, Any], caplog: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    client = Client()
    client.force_login(personas[role])
    params = _params(world)
    leaks: list[str] = []
    walked = 0
    for name, route in walk_routes():
        rule = policy_for(name)
        if rule is None or "GET" not in methods_of(rule) or name.startswith("admin:"):
            continue
        if not access_of(rule, "GET").allows(authenticated=True, role=role):
            continue
        path = concrete_path(route, params)
        assert path is not None, name
        response = client.get(path)
        walked += 1
        body = response.content.decode("utf-8", errors="replace") if not response.streaming else ""
        own = role in (Role.STUDENT, Role.AMBASSADOR) and name.startswith(OWN_PAGES_PREFIX)
        for raw in (RAW_ID, RAW_PHONE, OLD_PHONE):
            if raw in body and not own:
                leaks.append(f"{name} {path}")
    assert leaks == []
    assert walked > 0
    logged = caplog.text
    assert RAW_ID not in logged and RAW_PHONE not in logged and OLD_PHONE not in logged
    sent = " ".join(str(m.body) + str(m.subject) for m in mail.outbox)
    assert RAW_ID not in sent and RAW_PHONE not in sent


def test_the_database_holds_no_raw_id_or_phone(world: dict[str, Any]) -> None:
    from django.apps import apps
    from django.db import connection

    hits: list[str] = []
    with connection.cursor() as cursor:
        for model in apps.get_models():
            table = model._meta.db_table
            text_columns = [
                f.column
                for f in model._meta.concrete_fields
                if f.get_internal_type() in {"CharField", "TextField", "JSONField"}
            ]
            for column in text_columns:
                cursor.execute(
                    f'SELECT COUNT(*) FROM "{table}" WHERE CAST("{column}" AS TEXT) LIKE %s OR CAST("{column}" AS TEXT) LIKE %s',  # noqa: S608
                    [f"%{RAW_ID}%", f"%{RAW_PHONE}%"],
                )
                if cursor.fetchone()[0]:
                    hits.append(f"{table}.{column}")
    assert hits == []
