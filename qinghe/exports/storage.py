"""Export files at rest: they hold personal data (masked, or in full for a permitted person),
so they are written encrypted (qinghe.core.crypto.encrypt_file, the storage name as
associated data, as the survey import files are), owner-only on disk (0600 files, 0700
folders), decrypted only for the owner's download, and deleted by ``purge_exports``."""

from __future__ import annotations

import contextlib
import os
import secrets

from django.core.files.storage import default_storage

from qinghe.core.crypto import decrypt_file, encrypt_file
from qinghe.core.diskspace import storage_save

ROOT = "exports"
FILE_MODE = 0o600
DIRECTORY_MODE = 0o700


def _restrict(name: str) -> None:
    try:
        path = default_storage.path(name)
        root = default_storage.path(ROOT)
    except NotImplementedError:  # e.g. the tests' in-memory storage
        return
    if not os.path.isfile(path):
        return
    os.chmod(path, FILE_MODE)
    folder = os.path.dirname(path)
    while folder.startswith(root) and len(folder) >= len(root):
        os.chmod(folder, DIRECTORY_MODE)
        folder = os.path.dirname(folder)


def save_export(export_id: int, data: bytes, *, suffix: str) -> str:
    """Stores ``data`` encrypted under an unguessable name; returns the storage name."""
    name = f"{ROOT}/{export_id}/{secrets.token_hex(12)}{suffix}.enc"
    saved = storage_save(name, encrypt_file(data, name=name))
    _restrict(saved)
    return saved


def read_export(name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        blob = handle.read()
    return decrypt_file(blob, name=name)


def delete(name: str) -> bool:
    """Deletes a stored file; True when there was one."""
    if not name or not default_storage.exists(name):
        return False
    with contextlib.suppress(FileNotFoundError):
        default_storage.delete(name)
    return True


def walk(folder: str = ROOT) -> list[str]:
    try:
        folders, files = default_storage.listdir(folder)
    except (FileNotFoundError, NotImplementedError):
        return []
    names = [f"{folder}/{name}" for name in files]
    for sub in folders:
        names.extend(walk(f"{folder}/{sub}"))
    return names
