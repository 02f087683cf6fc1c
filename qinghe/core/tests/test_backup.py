"""Backups: refused on SQLite, refused when damaged or when the environment lacks the keys
they were made with; on PostgreSQL a backup restores into another database with every row,
and holds no key."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from qinghe.core import backup
from qinghe.core.errors import ApplicationError
from qinghe.scheduler.models import JobRun


def _fake_backup(folder: Path, keys: dict[str, str]) -> Path:
    folder.mkdir()
    (folder / backup.DUMP).write_bytes(b"dump")
    (folder / backup.MEDIA).write_bytes(b"tar")
    manifest = {
        "created_at": "2026-12-03T02:00:00+08:00",
        "files": {
            name: {"sha256": backup.sha256_file(folder / name), "bytes": 4}
            for name in (backup.DUMP, backup.MEDIA)
        },
        "keys": keys,
    }
    (folder / backup.MANIFEST).write_text(json.dumps(manifest))
    return folder


def test_a_backup_whose_file_was_changed_is_refused(tmp_path: Path) -> None:
    folder = _fake_backup(tmp_path / "b", backup.current_fingerprints())
    assert backup.backup_verify(folder)["created_at"] == "2026-12-03T02:00:00+08:00"
    (folder / backup.DUMP).write_bytes(b"dumq")
    with pytest.raises(ApplicationError) as caught:
        backup.backup_verify(folder)
    assert caught.value.message == "备份文件 database.dump 缺失或已损坏（校验和不符），不能恢复"


def test_a_backup_made_with_other_keys_is_refused_by_name(tmp_path: Path, settings: Any) -> None:
    folder = _fake_backup(tmp_path / "b", backup.current_fingerprints())
    settings.BLIND_INDEX_KEY = base64.b64encode(b"k" * 32).decode()
    with pytest.raises(ApplicationError) as caught:
        backup.backup_verify(folder)
    assert caught.value.message.startswith("当前环境的加密密钥与备份时不同：BLIND_INDEX_KEY。")


def test_a_folder_without_a_manifest_is_not_a_backup(tmp_path: Path) -> None:
    with pytest.raises(ApplicationError, match="不是备份目录"):
        backup.backup_verify(tmp_path)


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the SQLite refusal")
def test_backup_needs_postgresql(tmp_path: Path) -> None:
    with pytest.raises(ApplicationError, match="只支持 PostgreSQL"):
        backup.backup_create(output=tmp_path)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_dump / pg_restore")
def test_a_backup_restores_every_row_and_the_media_into_another_database(
    tmp_path: Path, settings: Any
) -> None:
    media = tmp_path / "media"
    (media / "imports").mkdir(parents=True)
    (media / "imports" / "survey.enc").write_bytes(b"\x00ciphertext")
    settings.MEDIA_ROOT = media
    JobRun.objects.create(
        job="expire_postings",
        scheduled_for="2026-12-03T00:05:00+08:00",
        started_at="2026-12-03T00:05:00+08:00",
        worker="w",
        lease_expires_at="2026-12-03T00:10:00+08:00",
    )
    folder = backup.backup_create(output=tmp_path / "backups")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()} == {
        "database.dump": 0o600,
        "media.tar": 0o600,
        "manifest.json": 0o600,
    }
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["tables"]["scheduler_jobrun"] == 1
    assert manifest["keys"] == backup.current_fingerprints()
    for name in backup.KEY_SETTINGS:
        key = getattr(settings, name)
        for part in folder.iterdir():
            assert key.encode() not in part.read_bytes()
            assert base64.b64decode(key) not in part.read_bytes()

    source = backup.Target.from_settings()
    other = backup.Target(
        f"{source.name}_restore", source.host, source.port, source.user, source.password
    )
    restored_media = tmp_path / "restored"
    try:
        result = backup.backup_restore(folder=folder, media_root=restored_media, target=other)
        assert (result.database, result.media_files) == (other.name, 1)
        assert backup.table_counts(other) == backup.table_counts(source)
        assert (restored_media / "imports" / "survey.enc").read_bytes() == b"\x00ciphertext"
    finally:
        with other.connect("postgres") as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{other.name}"')
