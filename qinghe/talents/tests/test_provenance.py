"""The talent's provenance stored compactly: a stamp several fields share written once
(``qinghe.talents.provenance``), read back as the full dict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from qinghe.talents.importing.writer import JsonText, _field_json, _json_text
from qinghe.talents.models import Talent
from qinghe.talents.provenance import compact, compact_text, expand

from .test_import_service import batch_12_context, messy, run  # noqa: F401 - the fixture

SURVEY = {"source": "survey", "ref": 12, "at": "2026-12-04T08:30:00+00:00", "file": "ab", "row": 3}
STAFF = {"source": "staff", "ref": 7, "at": "2026-12-05T09:00:00+00:00"}


def test_a_stamp_several_fields_share_is_stored_once_and_read_back_for_each() -> None:
    value = {"name": SURVEY, "gender": SURVEY, "note": STAFF, "email": dict(SURVEY)}
    stored = compact(value)
    assert stored == {"@": [SURVEY], "name": 0, "gender": 0, "note": STAFF, "email": 0}
    read = expand(json.loads(json.dumps(stored)))
    assert read == value
    assert list(read) == ["name", "gender", "note", "email"]
    # Each field has its own copy: changing one stamp leaves the others alone.
    read["name"]["confirmed_by"] = 5
    assert "confirmed_by" not in read["gender"]


@pytest.mark.parametrize(
    "value",
    [
        {"name": SURVEY},  # nothing shared
        {"name": SURVEY, "note": STAFF},
        {},
        None,
        "text",
        {"@": [SURVEY], "name": 0},  # stored already
    ],
)
def test_what_has_nothing_to_share_is_stored_as_it_is(value: Any) -> None:
    assert compact(value) == value


@pytest.mark.parametrize(
    "stored",
    [
        {"name": SURVEY, "gender": SURVEY},  # written before the compact form
        {"@": "not a list", "name": 0},
        {},
        None,
    ],
)
def test_other_stored_forms_read_as_they_are(stored: Any) -> None:
    assert expand(stored) == stored


def test_a_position_outside_the_shared_list_reads_as_it_is() -> None:
    assert expand({"@": [SURVEY], "name": 0, "gender": 3}) == {"name": SURVEY, "gender": 3}


def test_the_import_writes_the_text_the_field_would_store() -> None:
    ctx = batch_12_context()
    source, other = ctx.provenance(345), ctx.provenance(7)
    assert type(source) is JsonText
    field = Talent._meta.get_field("provenance")
    cases: list[dict[str, Any]] = [
        {"name": source, "gender": source, "id_number": source},  # one source for all
        {"name": source, "town": other},
        {"name": source, "note": {"source": "staff", "row": None}, "gender": source},
        {"name": source, "gender": source, "town": other, "note": other},
        {"名字": {"a": [1, "二"]}},
        {},
    ]
    for value in cases:
        assert json.loads(_field_json(field, value)) == json.loads(json.dumps(compact(value)))
        assert expand(json.loads(_field_json(field, value))) == value
    shared = {"name": source, "gender": source}
    assert compact_text(shared, _json_text) == (
        '{"@": [' + source.text + '], "name": 0, "gender": 0}'
    )
    assert compact_text({"name": source, "town": other}, _json_text) is None
    assert compact_text({"name": source}, _json_text) is None


def _stored_provenance() -> list[Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT provenance FROM talents_talent ORDER BY id")
        return [json.loads(v) if isinstance(v, str) else v for (v,) in cursor.fetchall()]


@pytest.mark.django_db
def test_imported_talents_store_the_compact_form_and_read_the_full_one(
    messy: Path,  # noqa: F811 - the fixture
) -> None:
    run(messy)
    stored = _stored_provenance()
    assert stored
    assert all("@" in value for value in stored)
    for talent in Talent.objects.order_by("id"):
        provenance = talent.provenance
        assert "@" not in provenance
        assert provenance["name"]["source"] == "survey"
        assert {stamp["row"] for stamp in provenance.values()} == {provenance["name"]["row"]}


@pytest.mark.django_db
def test_a_saved_talent_stores_the_compact_form_and_old_rows_still_read() -> None:
    talent = Talent.objects.create(
        name="陈小明", provenance={"name": SURVEY, "gender": SURVEY, "note": STAFF}
    )
    assert _stored_provenance() == [{"@": [SURVEY], "name": 0, "gender": 0, "note": STAFF}]
    talent.refresh_from_db()
    assert talent.provenance == {"name": SURVEY, "gender": SURVEY, "note": STAFF}
    # A row written before the compact form reads as it was written.
    cast = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE talents_talent SET provenance = {cast} WHERE id = %s",
            [json.dumps({"name": SURVEY, "gender": SURVEY}), talent.pk],
        )
    talent.refresh_from_db()
    assert talent.provenance == {"name": SURVEY, "gender": SURVEY}
