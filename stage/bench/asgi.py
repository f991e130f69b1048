"""The benchmark's server: the stage's WebSocket routes plus the two benchmark consumers."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from stage.bench.consumers import BenchPresenterConsumer, TextbookConsumer  # noqa: E402
from stage.direct import ServerSendMiddleware  # noqa: E402
from stage.process import tune_garbage_collector  # noqa: E402
from stage.routing import websocket_urlpatterns  # noqa: E402

routes = [
    *websocket_urlpatterns,
    path("ws/bench/<int:event_id>/presenter/<int:presenter_pk>/<str:key>/", BenchPresenterConsumer.as_asgi()),
    path("ws/bench/<int:event_id>/textbook/", TextbookConsumer.as_asgi()),
]

# Both paths run on a server with the collector tuned for many sockets (stage/process.py).
tune_garbage_collector()

application = ProtocolTypeRouter(
    {"http": django_asgi_app, "websocket": ServerSendMiddleware(AuthMiddlewareStack(URLRouter(routes)))}
)
