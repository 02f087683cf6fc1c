"""Backup drill: fill a PostgreSQL database with N talents (the import benchmark's survey
file and importer), back it up with ``manage.py backup``, destroy the database and the media
folder, restore with ``manage.py restore``, and compare every table's row count and checksum
and every media file's checksum. Prints the backup and restore times.

    BENCH_PG_URL=postgres://qinghe:qinghe@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/backup_drill.py --rows 100000 [--database qinghe_drill]

The database named by --database is dropped and created (use a scratch name). A table's
checksum is the md5 of its rows' md5s in sorted order, so it does not depend on row order.
Exits non-zero when anything differs or a key is found inside the backup.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from _shared import pg_admin, pg_drop, pg_server_url, with_database  # noqa: E402
from bench_import import make_file, run_worker  # noqa: E402

# The drill's own keys (random per run), so that the check "no key inside the backup" means
# something; restore is given the same keys from the environment, as an operator would.
KEYS = {
    "FIELD_ENCRYPTION_KEY": __import__("base64").b64encode(os.urandom(32)).decode(),
    "BLIND_INDEX_KEY": __import__("base64").b64encode(os.urandom(32)).decode(),
}


def table_figures(url: str) -> dict[str, tuple[int, str]]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        figures = {}
        for table in tables:
            count, digest = conn.execute(
                f"SELECT count(*), coalesce(md5(string_agg(md5(t::text), '' "
                f"ORDER BY md5(t::text))), '') FROM \"{table}\" t"
            ).fetchone()
            figures[table] = (count, digest)
        return figures


def media_figures(root: Path) -> dict[str, str]:
    if not root.is_dir():
        return {}
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def manage(env: dict[str, str], *args: str) -> tuple[str, float]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout.strip(), time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000, help="survey rows to import")
    parser.add_argument("--database", default="qinghe_drill", help="scratch database (dropped)")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument("--keep", action="store_true", help="keep the backup folder")
    args = parser.parse_args()

    server = pg_server_url()
    if server is None:
        print("backup drill: set BENCH_PG_URL (or a postgres DATABASE_URL)")
        return 2
    url = with_database(server, args.database)
    work = ROOT / "var" / "drill"
    media = work / "media"
    backups = work / "backups"
    shutil.rmtree(work, ignore_errors=True)
    backups.mkdir(parents=True)
    env = {
        **os.environ,
        **KEYS,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": url,
        "MEDIA_ROOT": str(media),
        "LOG_LEVEL": "WARNING",
    }

    # 1. a database holding the import of the survey file
    survey = make_file(args.rows, args.data_dir)
    pg_drop(server, args.database)
    pg_admin(server, f'CREATE DATABASE "{args.database}"')
    os.environ.update(KEYS)  # the import workers encrypt with the drill's keys
    run_worker("prepare", survey, url, str(media))
    started = time.perf_counter()
    imported = run_worker("import_once", survey, url, str(media))
    print(f"import: {imported['line']} in {time.perf_counter() - started:.1f} s")
    before = table_figures(url)
    before_media = media_figures(media)
    talents = before.get("talents_talent", (0, ""))[0]
    rows = sum(count for count, _ in before.values())
    print(
        f"database: {len(before)} tables, {rows:,} rows, {talents:,} talents; media files: {len(before_media)}"
    )

    # 2. backup
    folder_text, backup_seconds = manage(env, "backup", "--output", str(backups))
    folder = Path(folder_text.splitlines()[-1])
    sizes = {p.name: p.stat().st_size for p in folder.iterdir()}
    print(
        f"backup: {backup_seconds:.1f} s -> {folder.name} "
        + ", ".join(f"{name} {size / 1e6:.1f} MB" for name, size in sorted(sizes.items()))
    )
    leaked = [
        name
        for name, key in KEYS.items()
        for p in folder.iterdir()
        if key.encode() in p.read_bytes() or __import__("base64").b64decode(key) in p.read_bytes()
    ]

    # 3. destroy
    pg_drop(server, args.database)
    shutil.rmtree(media, ignore_errors=True)
    print(f"destroyed: database {args.database} dropped, media folder removed")

    # 4. restore (into a database that no longer exists: restore creates it)
    line, restore_seconds = manage(env, "restore", str(folder), "--yes")
    print(f"restore: {restore_seconds:.1f} s wall ({line})")

    # 5. compare
    after = table_figures(url)
    after_media = media_figures(media)
    differing = sorted(t for t in set(before) | set(after) if before.get(t) != after.get(t))
    media_diff = sorted(set(before_media.items()) ^ set(after_media.items()))
    print(
        f"compare: {len(after)} tables, {sum(c for c, _ in after.values()):,} rows; "
        f"tables differing: {differing or 'none'}; media files differing: {len(media_diff)}; "
        f"keys inside the backup: {leaked or 'none'}"
    )
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    pg_drop(server, args.database)
    ok = not differing and not media_diff and not leaked and bool(before_media) == bool(after_media)
    print("backup drill: " + ("OK" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
