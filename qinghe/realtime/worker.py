"""The gunicorn worker class of production: uvicorn, tuned for many idle websockets.

``gunicorn -c config/gunicorn.conf.py -k qinghe.realtime.worker.UvicornWorker config.asgi:application``

- ``ws_per_message_deflate`` off: the frames are small JSON (a question, a count), where
  compression saves little and costs a zlib context per socket and a compression per socket per
  push — measured the largest single server cost of a broadcast to 500 viewers
  (bench/bench_live_questions.py, docs/SCALING.md);
- the websockets sans-I/O protocol, uvloop and httptools (uvicorn's fastest implementations);
- the objects of the loaded and warmed-up application (Django, every module, the URLconf,
  jieba's dictionary, the compiled templates: ~490,000; config/gunicorn.conf.py's
  ``post_worker_init`` warms the worker up before this runs) moved out of the cyclic garbage
  collector's reach (``gc.freeze``): a full collection walked them all, a pause of 200-470 ms
  every few seconds under load, which was the p99 of a broadcast. Nothing of it is garbage;
  objects made later are collected as usual;
- the young generation collected every 50,000 new objects instead of 700, the middle one every
  20 young collections, full collections after 100 of those
  (``gc.set_threshold(50_000, 20, 100)``, CPython's default is ``(700, 10, 10)``). A full
  collection walks every socket's objects (~100 ms for 500 sockets on this machine under
  load). Under the pages' load test, at 700 each request's objects still in use by the
  requests running beside it were promoted at each young collection, died there, and waited
  for a full collection: 150,000-270,000 objects by then, 200-360 ms of CPU with the worker's
  every request stalled (one per worker a minute); at 50,000 a request's cycles die young, no
  full collection ran in the measured minute, and the collector took ~0.6-0.8 s of CPU a worker
  a minute instead of ~1.2-1.4 s (docs/SCALING.md, "Where the tail came from").
"""

from __future__ import annotations

import gc
from typing import Any, ClassVar

from uvicorn_worker import UvicornWorker as _UvicornWorker

GC_THRESHOLDS = (50_000, 20, 100)


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
        gc.set_threshold(*GC_THRESHOLDS)
        super().run()
