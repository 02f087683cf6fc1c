"""Named locks held in the database, for work of several processes that must not overlap.

On PostgreSQL a name is a session-level advisory lock (``pg_advisory_lock``): whoever asks
for a held name waits until its holder leaves the block (or its connection ends, as when its
process is killed). Elsewhere (SQLite: one process, one writer at a time) the block runs
without a lock."""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Iterator

from django.db import DEFAULT_DB_ALIAS, connections

# Names in use, one place to see them.
MATCHING_LISTS = "qinghe.matching.lists"


def lock_key(name: str) -> int:
    """The name's advisory-lock key: a stable signed 32-bit number (CRC-32)."""
    return zlib.crc32(name.encode()) - 2**31


@contextlib.contextmanager
def held(name: str, *, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """The block runs holding ``name``; waits first while another session holds it."""
    conn = connections[using]
    if conn.vendor != "postgresql":
        yield
        return
    key = lock_key(name)
    with conn.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [key])
    try:
        yield
    finally:
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
