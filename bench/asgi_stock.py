"""Django's own ASGIHandler for the pages (no websockets), for bench/serving_cost.py's
comparison with production's handler (qinghe/core/asgi.py): gunicorn ``--pythonpath bench
asgi_stock:application``."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_asgi_application()
