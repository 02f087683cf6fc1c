"""The one ASGI application: Django's pages and API over HTTP, and the websocket routes of
``qinghe/realtime/routing.py`` (signed-in sessions only, same-origin only, each route checked
against the policy table by ``qinghe.realtime.consumers.PolicyConsumer``)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

from qinghe.core.asgi import pages_asgi_application  # noqa: E402

# Django is set up before anything imports models (the consumers do). The pages' handler runs
# each request's sync work in one hop to a kept thread (qinghe/core/asgi.py).
django_asgi_app = pages_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from qinghe.realtime.broadcast import ServerSend  # noqa: E402
from qinghe.realtime.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": ServerSend(
            AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
        ),
    }
)
