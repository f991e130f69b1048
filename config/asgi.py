"""HTTP and WebSocket entry point: Django for HTTP, behind a front that answers the viewers' media
files, pass renewals and public JSON without it; Channels, behind origin checks and auth, for
WebSockets."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup(set_prefix=False)

from django.conf import settings  # noqa: E402

from config.django_http import OneHopHandler  # noqa: E402

django_asgi_app = OneHopHandler(settings.WEB_THREADS)

from stage.process import tune_garbage_collector  # noqa: E402

# Full collections of hundreds of sockets' objects otherwise pause every push (bench_stage).
tune_garbage_collector()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs the app registry loaded above)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from config.public_cache import PublicCache  # noqa: E402
from stage.direct import ServerSendMiddleware  # noqa: E402
from stage.routing import websocket_urlpatterns as stage_sockets  # noqa: E402
from streaming.embedded import MixerRunnerMiddleware  # noqa: E402
from streaming.front import MediaFront  # noqa: E402
from streaming.live_playlist import LowLatencyHls  # noqa: E402
from streaming.routing import websocket_urlpatterns as uplink_sockets  # noqa: E402

application = MixerRunnerMiddleware(
    ProtocolTypeRouter(
        {
            # Blocking reloads of a live playlist wait on the event loop, not in a thread of
            # Django's; the other viewers' requests are the front's. At scale nginx answers the
            # files and the JSON itself; the front then sees renewals only.
            "http": LowLatencyHls(MediaFront(PublicCache(django_asgi_app))),
            # ServerSendMiddleware lets the stage write one pre-framed push to many sockets (stage/direct.py).
            "websocket": ServerSendMiddleware(
                AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(stage_sockets + uplink_sockets)))
            ),
        }
    )
)
