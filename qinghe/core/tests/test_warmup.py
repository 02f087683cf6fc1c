"""The web workers' warm-up (qinghe/core/warmup.py, gunicorn's post_worker_init in
config/gunicorn.conf.py): every template of the project compiles into the cached loader, jieba's
dictionary is loaded, and the shipped gunicorn config runs it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jieba
import pytest
from django.conf import settings
from django.template import engines

from qinghe.core import warmup


def _project_template_files() -> set[str]:
    roots = [
        Path(settings.BASE_DIR) / "templates",
        *Path(settings.BASE_DIR).glob("qinghe/*/templates"),
    ]
    return {
        p.relative_to(root).as_posix() for root in roots for p in root.rglob("*") if p.is_file()
    }


def test_the_warm_up_lists_the_projects_templates_and_no_installed_packages() -> None:
    names = warmup.project_templates()
    assert set(names) == _project_template_files()
    assert "matching/for_me.html" in names
    assert "base.html" in names
    assert "admin/app_list.html" in names  # the project's own override of the admin's
    assert "admin/change_list.html" not in names  # the admin's own, from site-packages
    assert not [n for n in names if n.startswith(("ninja/", "otp/"))]


def test_the_warm_up_compiles_every_template_and_loads_jieba(
    caplog: pytest.LogCaptureFixture,
) -> None:
    loader = engines["django"].engine.template_loaders[0]  # type: ignore[attr-defined]
    assert type(loader).__name__ == "Loader" and hasattr(loader, "get_template_cache")
    loader.reset()
    alive: list[str] = []
    with caplog.at_level("INFO", logger="qinghe.warmup"):
        figures = warmup.warm_up(lambda: alive.append("alive"))
    assert alive == ["alive", "alive", "alive"]  # after each of the three steps
    names = warmup.project_templates()
    assert figures["templates_compiled"] == len(names)  # a template that fails shows here
    assert set(names) <= set(loader.get_template_cache)
    assert jieba.dt.initialized is True
    assert [r.getMessage() for r in caplog.records if r.name == "qinghe.warmup"] == [
        f"warm-up: URLconf {figures['urls']:.2f} s, jieba {figures['jieba']:.2f} s, "
        f"{len(names)} templates {figures['templates']:.2f} s"
    ]


def test_the_shipped_gunicorn_config_warms_each_worker_up(monkeypatch: pytest.MonkeyPatch) -> None:
    namespace: dict[str, Any] = {}
    exec((settings.BASE_DIR / "config" / "gunicorn.conf.py").read_text(), namespace)  # noqa: S102
    calls: list[str] = []
    figures = {"urls": 1.0, "jieba": 0.5, "templates": 0.25, "templates_compiled": 207}

    def fake_warm_up(alive: Callable[[], None]) -> dict[str, float]:
        calls.append("warm_up")
        alive()
        return figures

    monkeypatch.setattr(warmup, "warm_up", fake_warm_up)
    logged: list[str] = []
    worker = SimpleNamespace(
        pid=4321,
        log=SimpleNamespace(info=lambda msg, *a: logged.append(msg % a)),
        notify=lambda: calls.append("notify"),
    )
    namespace["post_worker_init"](worker)
    assert calls == ["warm_up", "notify"]
    assert logged == ["worker 4321 warmed up: URLconf 1.00 s, jieba 0.50 s, 207 templates 0.25 s"]
