"""Backups of the PostgreSQL database and the media files, and their restore.

A backup is a folder ``qinghe-<time>/`` (0700) holding ``database.dump`` (``pg_dump`` custom
format), ``media.tar`` (MEDIA_ROOT: the uploads are already encrypted, so no compression) and
``manifest.json`` (SHA-256 and size of both files, row counts, and a fingerprint of each
encryption key). The keys themselves are never written into a backup: restore checks that
the environment holds the keys whose fingerprints the manifest names and refuses otherwise.
The password of the database goes to pg_dump/pg_restore in PGPASSWORD, never on a command
line."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections
from django.utils import timezone

from qinghe.core.errors import ApplicationError

MANIFEST = "manifest.json"
DUMP = "database.dump"
MEDIA = "media.tar"
KEY_SETTINGS = ("FIELD_ENCRYPTION_KEY", "BLIND_INDEX_KEY")


@dataclass(frozen=True)
class Target:
    """A PostgreSQL database as pg_dump/pg_restore and psycopg reach it."""

    name: str
    host: str
    port: str
    user: str
    password: str

    @classmethod
    def from_settings(cls, alias: str = "default") -> Target:
        db = settings.DATABASES[alias]
        if "postgresql" not in db["ENGINE"]:
            raise ApplicationError(
                "备份与恢复只支持 PostgreSQL 数据库（DATABASE_URL=postgres://…）"
            )
        return cls(
            name=str(db["NAME"]),
            host=str(db.get("HOST") or "localhost"),
            port=str(db.get("PORT") or "5432"),
            user=str(db.get("USER") or ""),
            password=str(db.get("PASSWORD") or ""),
        )

    def args(self) -> list[str]:
        return ["--host", self.host, "--port", self.port, "--username", self.user]

    def env(self) -> dict[str, str]:
        return {**os.environ, "PGPASSWORD": self.password}

    def connect(self, dbname: str | None = None) -> Any:
        import psycopg

        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=dbname or self.name,
            autocommit=True,
        )


def key_fingerprint(value: str) -> str:
    """Names a key without revealing it (the keys are 32 random bytes)."""
    return hashlib.sha256(b"qinghe-backup-key-id\0" + value.encode()).hexdigest()[:16]


def current_fingerprints() -> dict[str, str]:
    return {name: key_fingerprint(str(getattr(settings, name))) for name in KEY_SETTINGS}


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def table_counts(target: Target) -> dict[str, int]:
    with target.connect() as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def _run(command: list[str], target: Target) -> None:
    done = subprocess.run(command, env=target.env(), capture_output=True, text=True)
    if done.returncode != 0:
        raise ApplicationError(f"{command[0]} 失败：{done.stderr.strip()[-1500:]}")


def backup_create(*, output: Path, media_root: Path | None = None) -> Path:
    """Writes a backup folder under ``output`` and returns it."""
    target = Target.from_settings()
    media_root = Path(media_root or settings.MEDIA_ROOT)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    folder = output / f"qinghe-{stamp}"
    folder.mkdir(parents=True, mode=0o700)
    os.chmod(folder, 0o700)
    started = time.perf_counter()
    _run(
        ["pg_dump", *target.args(), "--format=custom", "--file", str(folder / DUMP), target.name],
        target,
    )
    with tarfile.open(folder / MEDIA, "w") as tar:
        if media_root.is_dir():
            tar.add(media_root, arcname="media")
    for name in (DUMP, MEDIA):
        os.chmod(folder / name, 0o600)
    manifest = {
        "format": 1,
        "created_at": timezone.localtime().isoformat(),
        "database": target.name,
        "seconds": round(time.perf_counter() - started, 2),
        "files": {
            name: {"sha256": sha256_file(folder / name), "bytes": (folder / name).stat().st_size}
            for name in (DUMP, MEDIA)
        },
        "tables": table_counts(target),
        "keys": current_fingerprints(),
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2))
    os.chmod(folder / MANIFEST, 0o600)
    return folder


@dataclass(frozen=True)
class RestoreResult:
    database: str
    seconds: float
    database_seconds: float
    media_files: int


def backup_verify(folder: Path, *, check_keys: bool = True) -> dict[str, Any]:
    """The manifest of an intact backup whose keys the environment holds, or a Chinese error."""
    path = folder / MANIFEST
    if not path.is_file():
        raise ApplicationError(f"{folder} 不是备份目录（缺少 {MANIFEST}）")
    manifest: dict[str, Any] = json.loads(path.read_text())
    for name, facts in manifest["files"].items():
        if not (folder / name).is_file() or sha256_file(folder / name) != facts["sha256"]:
            raise ApplicationError(f"备份文件 {name} 缺失或已损坏（校验和不符），不能恢复")
    if check_keys:
        wrong = [k for k, v in current_fingerprints().items() if manifest["keys"].get(k) != v]
        if wrong:
            raise ApplicationError(
                "当前环境的加密密钥与备份时不同："
                + "、".join(wrong)
                + "。请从密钥保管处取回备份时使用的密钥再恢复，否则加密的身份证号、手机号和上传文件无法读取。"
            )
    return manifest


def _recreate(target: Target) -> None:
    """Drops and creates the database, waiting (a minute at most) for sessions such as
    autovacuum to leave it."""
    import psycopg

    with target.connect("postgres") as conn:
        for _ in range(60):
            try:
                conn.execute(f'DROP DATABASE IF EXISTS "{target.name}"')
                break
            except psycopg.errors.ObjectInUse:
                time.sleep(1)
        else:
            raise ApplicationError(
                f"数据库 {target.name} 仍有连接，无法恢复：请先停止网站与后台进程"
            )
        conn.execute(f'CREATE DATABASE "{target.name}"')


def backup_restore(
    *, folder: Path, media_root: Path | None = None, jobs: int = 2, target: Target | None = None
) -> RestoreResult:
    """Replaces the configured database and MEDIA_ROOT with the backup's (drops and creates the
    database: the role needs CREATEDB, or the owner's rights)."""
    backup_verify(folder)
    target = target or Target.from_settings()
    media_root = Path(media_root or settings.MEDIA_ROOT)
    connections.close_all()
    started = time.perf_counter()
    _recreate(target)
    _run(
        [
            "pg_restore",
            *target.args(),
            "--dbname",
            target.name,
            "--no-owner",
            "--exit-on-error",
            f"--jobs={max(1, jobs)}",
            str(folder / DUMP),
        ],
        target,
    )
    database_seconds = time.perf_counter() - started
    if media_root.exists():
        shutil.rmtree(media_root)
    media_root.parent.mkdir(parents=True, exist_ok=True)
    files = 0
    with tarfile.open(folder / MEDIA) as tar:
        members = [m for m in tar.getmembers() if m.name == "media" or m.name.startswith("media/")]
        staging = media_root.parent / f".restore-{dt.datetime.now():%H%M%S%f}"
        tar.extractall(staging, members=members, filter="data")
        files = sum(1 for m in members if m.isfile())
    extracted = staging / "media"
    if extracted.is_dir():
        extracted.rename(media_root)
    else:
        media_root.mkdir(mode=0o700)
    shutil.rmtree(staging, ignore_errors=True)
    return RestoreResult(target.name, time.perf_counter() - started, database_seconds, files)
