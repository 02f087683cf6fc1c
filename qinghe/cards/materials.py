"""Application materials: the type is decided by the file's content (its magic bytes), not by
its name or the browser's claim; the size is bounded; the file is stored encrypted at rest
(whole-file AES-256-GCM with the storage name as associated data, the same scheme as the
survey uploads: qinghe.core.crypto.encrypt_file), owner-only on disk."""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage

from qinghe.core.crypto import decrypt_file, encrypt_file
from qinghe.core.diskspace import storage_save

MAX_BYTES = 5 * 1024 * 1024
ROOT = "cards"
# content type -> (magic prefix, extension)
SIGNATURES: tuple[tuple[str, bytes, str], ...] = (
    ("application/pdf", b"%PDF-", "pdf"),
    ("image/jpeg", b"\xff\xd8\xff", "jpg"),
    ("image/png", b"\x89PNG\r\n\x1a\n", "png"),
)


@dataclass(frozen=True)
class Upload:
    kind: str
    file_name: str
    data: bytes


def sniff(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) from the first bytes, or None for anything else."""
    for content_type, magic, ext in SIGNATURES:
        if data.startswith(magic):
            return content_type, ext
    return None


def check(upload: Upload, *, label: str) -> tuple[str, str]:
    """The upload's type, or a Chinese ValidationError on the material's field."""
    if not upload.data:
        raise ValidationError({upload.kind: f"{label}：文件为空"})
    if len(upload.data) > MAX_BYTES:
        raise ValidationError({upload.kind: f"{label}：文件不能超过 5 MB"})
    found = sniff(upload.data)
    if found is None:
        raise ValidationError({upload.kind: f"{label}：只接受 PDF、JPG 或 PNG 文件"})
    return found


def _restrict(name: str) -> None:
    try:
        path = default_storage.path(name)
        root = default_storage.path(ROOT)
    except NotImplementedError:
        return
    if not os.path.isfile(path):
        return
    os.chmod(path, 0o600)
    folder = os.path.dirname(path)
    while folder.startswith(root) and len(folder) >= len(root):
        os.chmod(folder, 0o700)
        folder = os.path.dirname(folder)


def store(data: bytes, *, card_id: int | str, ext: str) -> tuple[str, str]:
    """Stores the file encrypted; returns (storage name, sha256 of the plaintext)."""
    digest = hashlib.sha256(data).hexdigest()
    name = f"{ROOT}/{card_id}/{uuid.uuid4().hex}.{ext}.enc"
    saved = storage_save(name, encrypt_file(data, name=name))
    _restrict(saved)
    return saved, digest


def read(name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        return decrypt_file(handle.read(), name=name)


def delete(name: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        default_storage.delete(name)
