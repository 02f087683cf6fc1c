"""Version tokens and kept parts (core/fragments.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import caches
from django.db import transaction

from qinghe.core import fragments


def counter() -> tuple[list[int], Any]:
    made: list[int] = []

    def make() -> str:
        made.append(1)
        return f"drawn {len(made)}"

    return made, make


def test_a_part_is_kept_until_its_version_is_bumped() -> None:
    made, make = counter()
    names = (fragments.POSTINGS, fragments.talent_recommendations(7))
    assert fragments.kept("t", names, (1,), make) == "drawn 1"
    assert fragments.kept("t", names, (1,), make) == "drawn 1"
    assert fragments.kept("t", names, (2,), make) == "drawn 2"  # other parts, other key
    fragments.bump(fragments.talent_recommendations(8))  # another talent: no effect
    assert fragments.kept("t", names, (1,), make) == "drawn 1"
    fragments.bump(fragments.talent_recommendations(7))
    assert fragments.kept("t", names, (1,), make) == "drawn 3"
    assert len(made) == 3


def test_a_lost_token_comes_back_as_a_new_one() -> None:
    """A token the versions cache lost (a Redis restart) is never one used before: the parts
    kept under the old one are not read."""
    made, make = counter()
    before = fragments.versions(fragments.POSTINGS)
    assert fragments.kept("t", (fragments.POSTINGS,), (), make) == "drawn 1"
    caches["versions"].clear()
    after = fragments.versions(fragments.POSTINGS)
    assert after is not None and before is not None and after != before
    assert fragments.kept("t", (fragments.POSTINGS,), (), make) == "drawn 2"


@pytest.mark.django_db(transaction=True)
def test_a_bump_in_a_transaction_gives_new_tokens_now_and_at_the_commit() -> None:
    first = fragments.versions(fragments.POSTINGS)
    with transaction.atomic():
        fragments.bump(fragments.POSTINGS)
        during = fragments.versions(fragments.POSTINGS)
        assert during != first
    after = fragments.versions(fragments.POSTINGS)
    assert after not in (first, during)


def test_without_the_versions_cache_pages_are_drawn_each_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made, make = counter()

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("redis is down")

    monkeypatch.setattr(caches["versions"], "get_many", broken)
    monkeypatch.setattr(caches["versions"], "set_many", broken)
    assert fragments.versions(fragments.POSTINGS) is None
    assert fragments.kept("t", (fragments.POSTINGS,), (), make) == "drawn 1"
    assert fragments.kept("t", (fragments.POSTINGS,), (), make) == "drawn 2"
    fragments.bump(fragments.POSTINGS)  # logged, not raised


def _in_another_process(code: str, versions_dir: str) -> str:
    """Runs ``code`` in a new Python process on the development settings (no Redis), the way
    `make run`'s server, task worker and scheduler run, and returns what it printed."""
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "QINGHE_VERSIONS_DIR": versions_dir,
        "QINGHE_REDIS_URL": "",
    }
    program = f"import django; django.setup()\nfrom qinghe.core import fragments\n{code}"
    done = subprocess.run(
        [sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_without_redis_a_bump_in_one_process_is_seen_by_the_others(tmp_path: Any) -> None:
    """`make run`: the recompute runs in the task worker, the expiry in the scheduler; the
    server must see their bumps (the tokens are in files, not in each process's memory)."""
    read = "print(fragments.versions(fragments.POSTINGS)[0])"
    first = _in_another_process(read, str(tmp_path))
    assert _in_another_process(read, str(tmp_path)) == first  # the same token in a second process
    _in_another_process("fragments.bump(fragments.POSTINGS)", str(tmp_path))
    after = _in_another_process(read, str(tmp_path))
    assert after != first and len(after) == 16


def test_shared_values_are_kept_across_processes_under_the_codes_fingerprint(
    monkeypatch: Any,
) -> None:
    """kept(..., shared=True): one drawing for every process (the "shared" cache), under the
    version tokens and the code's fingerprint; a bump or other code draws again."""
    from django.core.cache import caches

    from qinghe.core import fragments

    caches["shared"].clear()
    drawn: list[int] = []

    def make() -> dict[str, int]:
        drawn.append(1)
        return {"n": len(drawn)}

    def ask() -> dict[str, int]:
        return fragments.kept("shared-test", (fragments.TALENTS,), ("r",), make, shared=True)

    assert ask() == {"n": 1}
    caches["fragments"].clear()  # another process: its own memory is empty, the shared cache not
    assert ask() == {"n": 1}
    assert len(drawn) == 1
    fragments.bump(fragments.TALENTS)
    assert ask() == {"n": 2}
    monkeypatch.setattr(fragments, "_fingerprint", ["other-code"])
    assert ask() == {"n": 3}
    assert fragments.code_fingerprint() == "other-code"


def test_a_shared_cache_that_fails_draws_the_value_now(monkeypatch: Any) -> None:
    from django.core.cache import caches

    from qinghe.core import fragments

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("redis down")

    monkeypatch.setattr(caches["shared"], "get", broken)
    monkeypatch.setattr(caches["shared"], "set", broken)
    values = iter([1, 2])
    assert (
        fragments.kept("shared-fail", (fragments.TALENTS,), (), lambda: next(values), shared=True)
        == 1
    )
    assert (
        fragments.kept("shared-fail", (fragments.TALENTS,), (), lambda: next(values), shared=True)
        == 2
    )
