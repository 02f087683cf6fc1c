"""The production worker class (qinghe/realtime/worker.py): before it serves, it collects once,
freezes what is loaded (after gunicorn's post_worker_init has warmed the worker up) and sets the
collector's thresholds."""

from __future__ import annotations

import gc

import pytest
from uvicorn_worker import UvicornWorker as _UvicornWorker

from qinghe.realtime.worker import GC_THRESHOLDS, UvicornWorker


def test_the_worker_freezes_the_loaded_objects_and_sets_the_thresholds_before_serving(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, object] = {}

    def serve(self: object) -> None:
        seen["threshold"] = gc.get_threshold()
        seen["frozen"] = gc.get_freeze_count()

    monkeypatch.setattr(_UvicornWorker, "run", serve)
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    try:
        UvicornWorker.run(UvicornWorker.__new__(UvicornWorker))
        assert seen["threshold"] == GC_THRESHOLDS == (50_000, 20, 100)
        assert isinstance(seen["frozen"], int) and seen["frozen"] > 10_000
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
