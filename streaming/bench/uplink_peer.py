"""bench_uplink's server: the real routes, plus the peer path it is measured against.

The peer is the textbook Channels way to move a browser's slices to another process: each slice
is a channel-layer message to a channel the mixer listens on (the issue allows either). Its
consumer admits and checks exactly as the real one does, so only the transport differs.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from streaming.consumers import UplinkConsumer  # noqa: E402
from streaming.routing import websocket_urlpatterns  # noqa: E402


def peer_channel(event_id: int, line_id: str) -> str:
    return f"bench-uplink.{event_id}.{line_id}"


class ChannelLayerSender:
    """Each slice as one channel-layer message to the mixer's channel for the line."""

    def __init__(self, layer, event_id: int) -> None:
        self.layer = layer
        self.event_id = event_id

    async def send(self, line_id: str, session: str, seq: int, chunk: bytes) -> None:
        message = {"type": "uplink.slice", "session": session, "seq": seq, "chunk": chunk}
        await self.layer.send(peer_channel(self.event_id, line_id), message)

    async def close(self) -> None:
        pass


class ChannelLayerUplinkConsumer(UplinkConsumer):
    def make_sender(self) -> ChannelLayerSender:
        return ChannelLayerSender(self.channel_layer, self.event_id)


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter(
            [
                *websocket_urlpatterns,
                path(
                    "ws/bench/<int:event_id>/lines/<str:line>/uplink/<int:presenter_pk>/<str:key>/",
                    ChannelLayerUplinkConsumer.as_asgi(),
                ),
            ]
        ),
    }
)
