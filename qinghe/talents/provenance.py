"""A talent's provenance, stored compactly (``ProvenanceField``).

Python code sees ``{"field": stamp, ...}``, a stamp being a dict such as
``{"source": "survey", "ref": 12, "at": iso, "file": key, "row": 7}``. A survey row sets most
of a talent's fields from one source, so most talents have the same stamp seven or eight
times. Stored, a stamp that several fields share is written once::

    {"@": [stamp0, stamp1], "name": 0, "gender": 0, "id_number": 1, "note": {...}}

an integer value being the position of its stamp in the ``"@"`` list (a stamp no other field
shares stays in place). For the 100,000-row survey that is 274 bytes a talent as PostgreSQL
stores it instead of 764, and the talents table 82 MB instead of 137. Rows written before
this form (no ``"@"``) read as they are. Nothing queries provenance in SQL; it is read and
written whole, here."""

from __future__ import annotations

import json
from typing import Any

from django.db import models

SHARED = "@"


def compact(value: Any) -> Any:
    """The stored form of a provenance dict (anything else as it is). Stamps are compared by
    value: two equal stamps are one."""
    if type(value) is not dict or SHARED in value:
        return value
    known: dict[int, str] = {}  # id of a stamp -> its key, each object serialised once
    keys: dict[str, str | None] = {}
    counts: dict[str, int] = {}
    for name, stamp in value.items():
        key = None
        if isinstance(stamp, dict):
            key = known.get(id(stamp))
            if key is None:
                key = known[id(stamp)] = _key(stamp)
            counts[key] = counts.get(key, 0) + 1
        keys[name] = key
    if all(count == 1 for count in counts.values()):
        return value
    positions: dict[str, int] = {}
    shared: list[Any] = []
    out: dict[str, Any] = {SHARED: shared}
    for name, stamp in value.items():
        key = keys[name]
        if key is not None and counts[key] > 1:
            if key not in positions:
                positions[key] = len(shared)
                shared.append(stamp)
            out[name] = positions[key]
        else:
            out[name] = stamp
    return out


def _key(stamp: dict[str, Any]) -> str:
    return json.dumps(stamp, sort_keys=True, default=str)


def expand(value: Any) -> Any:
    """The provenance dict of a stored form (each field its own copy of its stamp)."""
    if type(value) is not dict or SHARED not in value:
        return value
    shared = value[SHARED]
    if type(shared) is not list:
        return value
    out: dict[str, Any] = {}
    for name, stamp in value.items():
        if name == SHARED:
            continue
        if type(stamp) is int and 0 <= stamp < len(shared):
            stamp = dict(shared[stamp])
        out[name] = stamp
    return out


def compact_text(value: dict[str, Any], text_of: Any) -> str | None:
    """The stored form's JSON text, for a provenance dict whose values are all one object
    (a survey row's source), built around ``text_of(that object)`` without serialising it
    again; None for any other dict."""
    stamps = list(value.values())
    if len(stamps) < 2 or not isinstance(stamps[0], dict) or SHARED in value:
        return None
    first = stamps[0]
    if not all(stamp is first for stamp in stamps):
        return None
    fields = _FIELDS_TEXT.get(tuple(value))
    if fields is None:
        fields = "".join(f", {json.dumps(name)}: 0" for name in value)
        if len(_FIELDS_TEXT) < 4096:
            _FIELDS_TEXT[tuple(value)] = fields
    return '{"' + SHARED + '": [' + text_of(first) + "]" + fields + "}"


# The field names of a provenance whose stamps are all one: the text after the shared list.
_FIELDS_TEXT: dict[tuple[str, ...], str] = {}


class ProvenanceField(models.JSONField):
    """A JSONField holding a provenance dict in its compact stored form (see the module)."""

    def get_prep_value(self, value: Any) -> Any:
        return super().get_prep_value(compact(value))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return expand(super().from_db_value(value, expression, connection))
