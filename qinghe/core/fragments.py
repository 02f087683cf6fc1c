"""Rendered parts of pages kept under version tokens (docs/SCALING.md, "Page caches").

A kept part's key carries the tokens of what it shows (``versions``); whoever changes that
calls ``bump``, which gives the names new tokens: the old keys are never read again and age
out of the cache. Nothing is ever "deleted", so there is no window in which one process
drops a part while another puts the old one back.

- Tokens live in the "versions" cache: Redis in production (every web process sees a bump at
  once); without QINGHE_REDIS_URL, files shared by the processes of one machine (`make run`'s
  server, task worker and scheduler: the recompute and the expiry run in the latter two); the
  tests keep them in each test process's memory.
  A token is a random string, never a counter that could start again at a value used before:
  a token Redis lost (restart, eviction) comes back as a new one, which only empties the
  parts kept under it.
- The parts live in the "fragments" cache, in each process's memory (a restart, hence a
  deploy, empties it: no part outlives the code that drew it), at most an hour; the unread
  badges of 我的消息 in the "badges" cache beside it (also in memory, an hour), so that
  emptying one kind of kept part leaves the other.
- ``bump`` gives new tokens at once and again when the writer's transaction commits: a reader
  that read the new token before the commit, and the data as it was, keeps what it drew under
  a token that the commit replaces.
- ``kept(..., seconds=N)`` also bounds a part's age: for counts whose writers do not all bump
  (the staff talent list's counts: a record saved one at a time bumps TALENTS, an import's
  bulk writes of thousands of records a minute do not, and show within N seconds).
- ``kept(..., shared=True)`` keeps a value in the "shared" cache instead (Redis in production,
  else files of the machine): for values that are data, not markup (counts, lists of ids),
  whose drawing costs the database more than a read of the cache (the staff talent list's
  counts and page ids: 100-500 ms of database time each, which every web process drew again).
  Their keys carry a fingerprint of the project's code (``code_fingerprint``), so that, as
  with the parts kept in a process's memory, no value outlives the code that drew it.
- When the versions cache cannot be read, pages are drawn without it (``versions`` returns
  None); a bump that cannot be written is logged (the parts under the old token then last at
  most the fragments' hour).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import caches
from django.db import transaction

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Names of versions (what a kept part depends on).
POSTINGS = "postings"  # any posting or enterprise changed (the job search's results)
RECOMMENDATIONS = "recommendations"  # the recommendations of many talents were written again
TALENTS = "talents"  # a talent record was saved or deleted one at a time (talents/apps.py)
PLAN_TARGETS = "plan-targets"  # a year's targets were set (plan.services.year_target_set)
INBOX = "inbox"  # inbox messages of many users were queued (a campaign: notify_bulk_count)
STORIES = "stories"  # an alliance story was saved or deleted (alliance/signals.py)


def talent_recommendations(talent_id: int) -> str:
    """One talent's recommendations were written again (or its matching profile changed)."""
    return f"recommendations:talent:{talent_id}"


def inbox_of(user_id: int) -> str:
    """One user's inbox changed: a message queued, opened or deleted (the unread badge)."""
    return f"inbox:user:{user_id}"


def _token() -> str:
    return uuid.uuid4().hex[:16]


def versions(*names: str) -> tuple[str, ...] | None:
    """The current token of each name (made on first use); None when they cannot be read."""
    cache = caches["versions"]
    try:
        found = cache.get_many(names)
        missing = [name for name in names if name not in found]
        if missing:
            for name in missing:
                cache.add(name, _token(), timeout=None)  # another process may win: read back
            found.update(cache.get_many(missing))
    except Exception:  # noqa: BLE001 - the page is drawn without the cache
        logger.exception("fragment versions could not be read")
        return None
    if any(name not in found for name in names):
        return None
    return tuple(str(found[name]) for name in names)


def _set_tokens(names: tuple[str, ...]) -> None:
    try:
        caches["versions"].set_many({name: _token() for name in names}, timeout=None)
    except Exception:  # noqa: BLE001 - logged; kept parts expire within the hour
        logger.exception("fragment versions could not be bumped: %s", names)


def bump(*names: str) -> None:
    """New tokens for ``names``: now, and again when the current transaction commits."""
    if not names:
        return
    _set_tokens(names)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: _set_tokens(names))


_fingerprint: list[str] = []


def code_fingerprint() -> str:
    """A digest of the project's Python source (computed once per process): the code that
    draws a shared value is part of its key."""
    if not _fingerprint:
        from pathlib import Path

        root = Path(__file__).resolve().parent.parent
        digest = hashlib.sha256()
        for path in sorted(root.rglob("*.py")):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
        _fingerprint.append(digest.hexdigest()[:16])
    return _fingerprint[0]


def key(kind: str, tokens: tuple[str, ...], *parts: Any) -> str:
    """A fragments-cache key: the kind, the tokens and the parts (hashed: queries are text)."""
    digest = hashlib.sha256(repr((tokens, parts)).encode()).hexdigest()[:32]
    return f"{kind}:{digest}"


def kept(
    kind: str,
    names: tuple[str, ...],
    parts: tuple[Any, ...],
    make: Callable[[], T],
    *,
    seconds: int | None = None,
    cache_alias: str = "fragments",
    shared: bool = False,
) -> T:
    """``make()``'s value, kept under the tokens of ``names`` and ``parts`` (at most
    ``seconds``, else the cache's own time: the fragments cache's hour) in the process's
    cache ``cache_alias`` — or, ``shared``, in the "shared" cache under the code's fingerprint
    too; made afresh (and not kept) when the tokens cannot be read."""
    tokens = versions(*names)
    if tokens is None:
        return make()
    if shared:
        cache_alias = "shared"
        parts = (code_fingerprint(), *parts)
    cache = caches[cache_alias]
    k = key(kind, tokens, *parts)
    try:
        value = cache.get(k)
    except Exception:  # noqa: BLE001 - a shared cache that cannot be read: drawn now
        if not shared:
            raise
        logger.exception("shared kept value could not be read: %s", kind)
        return make()
    if value is None:
        value = make()
        try:
            if seconds is None:
                cache.set(k, value)
            else:
                cache.set(k, value, timeout=seconds)
        except Exception:  # noqa: BLE001 - not kept this time
            if not shared:
                raise
            logger.exception("shared kept value could not be written: %s", kind)
    return value  # type: ignore[no-any-return]
