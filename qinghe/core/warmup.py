"""``warm_up()``: what a web worker would otherwise do in its first requests, done before it
takes any (gunicorn's ``post_worker_init`` in config/gunicorn.conf.py).

A fresh worker process pays, in the requests that first need them: the URLconf (importing every
view module, ~1 s of CPU on this machine), jieba's dictionary (the job search's first query,
~0.6 s) and the compilation of each template (Django's cached loader: ~0.3 s for all of the
project's). Measured in the load test (docs/SCALING.md, "Where the tail came from"): the first
searches after a start took 2.3-3 s and the first 为你推荐 0.8 s, while the same pages took ~40 ms
a few seconds later — after every deploy or restart the first users waited for that. Done here,
the worker answers its first request as it answers the hundredth, and the uvicorn worker's
``gc.freeze()`` (qinghe/realtime/worker.py), which runs after this, also moves these modules,
the dictionary and the compiled templates out of the cyclic collector's reach.

Each step is timed and logged; a template that does not compile is logged and skipped (its page
fails as it would have anyway), so a warm-up never stops a worker from serving.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.template import engines
from django.urls import get_resolver

logger = logging.getLogger("qinghe.warmup")


def project_templates() -> list[str]:
    """The names of the templates in the project's own folders: the DIRS of settings.TEMPLATES
    and the templates/ folder of each ``qinghe`` app (not the installed packages', such as the
    admin's, which only the admin pages use)."""
    folders = [Path(d) for config in settings.TEMPLATES for d in config.get("DIRS", ())]
    folders += [
        Path(app.path) / "templates"
        for app in apps.get_app_configs()
        if app.name == "qinghe" or app.name.startswith("qinghe.")
    ]
    names: set[str] = set()
    for folder in folders:
        if folder.is_dir():
            names.update(
                path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()
            )
    return sorted(names)


def warm_up(alive: Callable[[], None] = lambda: None) -> dict[str, float]:
    """URLconf, jieba's dictionary, the project's templates; returns the seconds of each step
    and the number of templates compiled. ``alive`` is called after each step (gunicorn's
    ``worker.notify``: the arbiter kills a worker silent for ``--timeout`` seconds, 30 by
    default, and on a busy machine the warm-up took up to 10 s)."""
    figures: dict[str, float] = {}
    started = time.perf_counter()
    resolver = get_resolver()
    resolver.url_patterns  # noqa: B018 - imports the URLconf and every view module
    resolver._populate()  # the reverse() tables, as the first {% url %} builds them
    figures["urls"] = time.perf_counter() - started
    alive()

    started = time.perf_counter()
    import jieba

    jieba.initialize()
    figures["jieba"] = time.perf_counter() - started
    alive()

    started = time.perf_counter()
    compiled = 0
    engine = engines["django"]
    for name in project_templates():
        try:
            engine.get_template(name)
        except Exception:  # noqa: BLE001 - logged; the page fails when asked, as it would
            logger.warning("warm-up: template %s does not compile", name, exc_info=True)
        else:
            compiled += 1
    figures["templates"] = time.perf_counter() - started
    figures["templates_compiled"] = compiled
    from . import fragments

    fragments.code_fingerprint()  # read once per process: the shared kept values' keys
    alive()
    logger.info(
        "warm-up: URLconf %.2f s, jieba %.2f s, %d templates %.2f s",
        figures["urls"],
        figures["jieba"],
        compiled,
        figures["templates"],
    )
    return figures
