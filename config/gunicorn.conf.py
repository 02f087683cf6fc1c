"""gunicorn settings read by ``gunicorn -c config/gunicorn.conf.py config.asgi:application``
(deploy/systemd/qinghe-web.service, scripts/prodstack.py): the access log goes through the PII
scrubber (qinghe/core/gunicorn_logging.py), and each worker warms up before it takes requests
(qinghe/core/warmup.py: the URLconf, jieba's dictionary, the templates — what its first
requests would otherwise pay, seconds after every deploy or restart)."""

from typing import Any

logger_class = "qinghe.core.gunicorn_logging.ScrubbingGunicornLogger"


def post_worker_init(worker: Any) -> None:
    """After the worker has loaded the application, before it serves (and before the uvicorn
    worker's ``gc.freeze()``, which then also covers what the warm-up loaded)."""
    from qinghe.core.warmup import warm_up

    figures = warm_up(worker.notify)  # tells the arbiter after each step that it is alive
    worker.log.info(
        "worker %s warmed up: URLconf %.2f s, jieba %.2f s, %d templates %.2f s",
        worker.pid,
        figures["urls"],
        figures["jieba"],
        figures["templates_compiled"],
        figures["templates"],
    )
