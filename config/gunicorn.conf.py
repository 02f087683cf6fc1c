"""gunicorn settings read by ``gunicorn -c config/gunicorn.conf.py config.wsgi:application``:
the access log goes through the PII scrubber (qinghe/core/gunicorn_logging.py)."""

logger_class = "qinghe.core.gunicorn_logging.ScrubbingGunicornLogger"
