"""A JSON column whose content is encrypted at rest.

What a student shares with an enterprise (``Application.shared_snapshot``) holds a phone
number, and phones are encrypted at rest everywhere (docs/ARCHITECTURE.md). The column stays
JSON (no schema change on either database) and holds ``{"sealed": "v1:..."}``: the value,
serialised and encrypted with the same AES-GCM key as ``EncryptedTextField``. Python code sees
the plain value; filtering on keys inside it is meaningless, as with any encrypted column."""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from qinghe.core.crypto import decrypt, encrypt

SEALED_KEY = "sealed"
_CONTEXT = b"qinghe:sealed-json"


def seal(value: Any) -> dict[str, str]:
    text = json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True)
    return {SEALED_KEY: encrypt(text, context=_CONTEXT)}


def unseal(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {SEALED_KEY}:
        return json.loads(decrypt(value[SEALED_KEY], context=_CONTEXT))
    return value


class SealedJSONField(models.JSONField):
    def get_prep_value(self, value: Any) -> Any:
        if value is None or hasattr(value, "resolve_expression"):
            return super().get_prep_value(value)
        return super().get_prep_value(seal(value))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return unseal(super().from_db_value(value, expression, connection))
