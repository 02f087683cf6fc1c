"""Survey files at rest: uploads and rejected-rows files hold ID numbers and phones, so they
are written encrypted (qinghe.core.crypto.encrypt_file, the storage name as associated data),
owner-only on disk (0600 files, 0700 folders), decrypted only when the import reads them or a
permitted person downloads them, and deleted by ``purge_import_files`` after the retention
period (qinghe/talents/importing/purge.py)."""

from __future__ import annotations

import contextlib
import os

from django.core.files.storage import default_storage

from qinghe.core.crypto import decrypt_file, encrypt_file
from qinghe.core.diskspace import storage_save

ENCRYPTED_SUFFIX = ".enc"
FILE_MODE = 0o600
DIRECTORY_MODE = 0o700


def _restrict(name: str, root_folder: str = "imports") -> None:
    """Owner-only permissions on the file and on the folders under ``root_folder`` (a storage
    without a file system path, e.g. the tests' in-memory one, has nothing to restrict)."""
    try:
        path = default_storage.path(name)
        root = default_storage.path(root_folder)
    except NotImplementedError:
        return
    if not os.path.isfile(path):  # e.g. InMemoryStorage names a path it never writes
        return
    os.chmod(path, FILE_MODE)
    folder = os.path.dirname(path)
    while folder.startswith(root) and len(folder) >= len(root):
        os.chmod(folder, DIRECTORY_MODE)
        folder = os.path.dirname(folder)


def save_private(
    name: str, data: bytes, *, replace: bool = False, root_folder: str = "imports"
) -> str:
    """Stores ``data`` encrypted under ``name + '.enc'``; returns the storage name. With
    ``replace`` an existing file of that name is overwritten, else it is kept (content-named
    uploads: the same file is kept once). Folders under ``root_folder`` are made owner-only
    (the survey files live under ``imports/``, the résumés under ``resumes/``)."""
    name = name + ENCRYPTED_SUFFIX
    if default_storage.exists(name):
        if not replace:
            return name
        default_storage.delete(name)
    saved = storage_save(name, encrypt_file(data, name=name))
    _restrict(saved, root_folder)
    return saved


def read_private(name: str) -> bytes:
    """The plaintext of a stored file. Files written before encryption (no ``.enc``) are read
    as they are; the purge deletes them like any other."""
    with default_storage.open(name, "rb") as handle:
        blob = handle.read()
    if name.endswith(ENCRYPTED_SUFFIX):
        return decrypt_file(blob, name=name)
    return blob


def exists(name: str) -> bool:
    return bool(name) and default_storage.exists(name)


def delete(name: str) -> bool:
    """Deletes a stored file; True when there was one."""
    if not exists(name):
        return False
    with contextlib.suppress(FileNotFoundError):
        default_storage.delete(name)
    return True
