"""The gunicorn worker class of production: uvicorn, tuned for many idle websockets.

``gunicorn -c config/gunicorn.conf.py -k qinghe.realtime.worker.UvicornWorker config.asgi:application``

- ``ws_per_message_deflate`` off: the frames are small JSON (a question, a count), where
  compression saves little and costs a zlib context per socket and a compression per socket per
  push — measured the largest single server cost of a broadcast to 500 viewers
  (bench/bench_live_questions.py, docs/SCALING.md);
- the websockets sans-I/O protocol, uvloop and httptools (uvicorn's fastest implementations);
- the objects of the loaded application (Django, every module: ~130,000) moved out of the
  cyclic garbage collector's reach (``gc.freeze``) once the worker has loaded it: a full
  collection walked them all, a pause of 200-470 ms every few seconds under load, which was
  the p99 of a broadcast. Nothing of it is garbage; objects made later are collected as usual;
- full collections ten times rarer (``gc.set_threshold(700, 10, 100)``, CPython's default is
  ``(700, 10, 10)``): each still walks every socket's objects (~100 ms for 500 sockets on this
  machine under load), and found next to nothing to free (the bench logged "collected 0").
"""

from __future__ import annotations

import gc
from typing import Any, ClassVar

from uvicorn_worker import UvicornWorker as _UvicornWorker


class UvicornWorker(_UvicornWorker):
    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {
        **_UvicornWorker.CONFIG_KWARGS,
        "loop": "uvloop",
        "http": "httptools",
        "ws": "websockets-sansio",
        "ws_per_message_deflate": False,
    }

    def run(self) -> None:
        gc.collect()
        gc.freeze()
        gc.set_threshold(700, 10, 100)
        super().run()
