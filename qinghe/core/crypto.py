"""Field encryption (AES-256-GCM) and blind indexes (HMAC-SHA256) for personal information.

Stored form: ``v1:<base64(nonce || ciphertext+tag)>``. The version prefix leaves room for key
rotation. Look-ups never decrypt: callers compare blind indexes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

_PREFIX = "v1:"


def _decode_key(name: str) -> bytes:
    raw = getattr(settings, name)
    try:
        key = base64.b64decode(raw)
    except Exception as exc:  # noqa: BLE001
        raise ImproperlyConfigured(f"{name} must be base64") from exc
    if len(key) != 32:
        raise ImproperlyConfigured(f"{name} must decode to 32 bytes")
    return key


@lru_cache(maxsize=4)
def _aead(raw_key: str) -> AESGCM:
    return AESGCM(_decode_key("FIELD_ENCRYPTION_KEY"))


def encrypt(plaintext: str, *, context: bytes = b"qinghe") -> str:
    nonce = os.urandom(12)
    ct = _aead(settings.FIELD_ENCRYPTION_KEY).encrypt(nonce, plaintext.encode("utf-8"), context)
    return _PREFIX + base64.b64encode(nonce + ct).decode("ascii")


def decrypt(token: str, *, context: bytes = b"qinghe") -> str:
    if not token.startswith(_PREFIX):
        raise ValueError("not an encrypted value")
    blob = base64.b64decode(token[len(_PREFIX) :])
    return (
        _aead(settings.FIELD_ENCRYPTION_KEY).decrypt(blob[:12], blob[12:], context).decode("utf-8")
    )


@lru_cache(maxsize=4)
def _index_key(raw_key: str) -> bytes:
    return _decode_key("BLIND_INDEX_KEY")


def blind_index(value: str, *, purpose: str) -> str:
    """Keyed hash of a normalised value; ``purpose`` separates e.g. ID numbers from phones."""
    key = _index_key(settings.BLIND_INDEX_KEY)
    digest = hmac.new(key, f"{purpose}\x00{value}".encode(), hashlib.sha256)
    return digest.hexdigest()


class EncryptedTextField(models.TextField):
    """A text column holding AES-GCM ciphertext; Python code sees the plaintext.

    Filtering on it is meaningless (every encryption differs): pair it with a blind index."""

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return value
        return decrypt(value)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith(_PREFIX):
            return decrypt(value)
        return value
