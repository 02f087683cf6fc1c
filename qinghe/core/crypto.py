"""Field encryption (AES-256-GCM) and blind indexes (HMAC-SHA256) for personal information.

Stored form: ``v1:<base64(nonce || ciphertext+tag)>``. The version prefix leaves room for key
rotation. Look-ups never decrypt: callers compare blind indexes."""

from __future__ import annotations

import base64
import hashlib
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
    return encrypt_many([plaintext], context=context)[0]


def encrypt_many(plaintexts: list[str], *, context: bytes = b"qinghe") -> list[str]:
    """``[encrypt(p) for p in plaintexts]`` (the same stored form, a fresh random nonce for
    each value), with the nonces read from the system in one call instead of one each: for
    the survey import's 300,000 values a run, the system calls cost more than the cipher.
    The nonces live only in this call (no pool a fork or another thread could share)."""
    aead = _aead(settings.FIELD_ENCRYPTION_KEY)
    seal = aead.encrypt
    b64 = base64.b64encode
    nonces = os.urandom(12 * len(plaintexts))
    out = []
    for position, plaintext in enumerate(plaintexts):
        nonce = nonces[12 * position : 12 * position + 12]
        blob = nonce + seal(nonce, plaintext.encode("utf-8"), context)
        out.append(_PREFIX + b64(blob).decode("ascii"))
    return out


def decrypt(token: str, *, context: bytes = b"qinghe") -> str:
    if not token.startswith(_PREFIX):
        raise ValueError("not an encrypted value")
    blob = base64.b64decode(token[len(_PREFIX) :])
    return (
        _aead(settings.FIELD_ENCRYPTION_KEY).decrypt(blob[:12], blob[12:], context).decode("utf-8")
    )


@lru_cache(maxsize=4)
def _index_hashes(raw_key: str) -> tuple[Any, Any]:
    """HMAC-SHA256's inner and outer hashes with the key's padded blocks already absorbed
    (RFC 2104; the key is 32 bytes, shorter than SHA-256's 64-byte block)."""
    block = _decode_key("BLIND_INDEX_KEY").ljust(64, b"\0")
    return (
        hashlib.sha256(bytes(byte ^ 0x36 for byte in block)),
        hashlib.sha256(bytes(byte ^ 0x5C for byte in block)),
    )


def blind_index(value: str, *, purpose: str) -> str:
    """Keyed hash of a normalised value; ``purpose`` separates e.g. ID numbers from phones:
    ``hmac.new(key, f"{purpose}\\x00{value}", sha256).hexdigest()``. Computed from copies of
    the keyed inner and outer hashes: OpenSSL 3's one-shot HMAC looks the digest up and keys
    it again on every call, which took twice as long (the import computes 200,000 a run)."""
    inner, outer = _index_hashes(settings.BLIND_INDEX_KEY)
    digest = inner.copy()
    digest.update(f"{purpose}\x00{value}".encode())
    result = outer.copy()
    result.update(digest.digest())
    return result.hexdigest()


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


# ---------------------------------------------------------------------------- files

_FILE_MAGIC = b"QHF1"
_FILE_KEY_INFO = b"qinghe file encryption v1"


@lru_cache(maxsize=4)
def _file_aead(raw_key: str) -> AESGCM:
    """A key for files, derived from FIELD_ENCRYPTION_KEY with HKDF (a distinct key: a file
    cannot be decrypted as a field, nor a field as a file)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_FILE_KEY_INFO).derive(
        _decode_key("FIELD_ENCRYPTION_KEY")
    )
    return AESGCM(derived)


def encrypt_file(data: bytes, *, name: str) -> bytes:
    """Whole-file AES-256-GCM: ``QHF1 || nonce || ciphertext+tag``. ``name`` (the storage
    name) is the associated data, so a file moved or renamed no longer decrypts. Whole-file
    is bounded by the upload limit (QINGHE_IMPORT_MAX_BYTES)."""
    nonce = os.urandom(12)
    aad = _FILE_MAGIC + name.encode("utf-8")
    return _FILE_MAGIC + nonce + _file_aead(settings.FIELD_ENCRYPTION_KEY).encrypt(nonce, data, aad)


def decrypt_file(blob: bytes, *, name: str) -> bytes:
    """The plaintext of :func:`encrypt_file`; raises ``ValueError`` when the blob is not one
    of ours and ``cryptography.exceptions.InvalidTag`` when it was altered or renamed."""
    if not blob.startswith(_FILE_MAGIC) or len(blob) < len(_FILE_MAGIC) + 12 + 16:
        raise ValueError("not an encrypted file")
    start = len(_FILE_MAGIC)
    nonce = blob[start : start + 12]
    aad = _FILE_MAGIC + name.encode("utf-8")
    return _file_aead(settings.FIELD_ENCRYPTION_KEY).decrypt(nonce, blob[start + 12 :], aad)
