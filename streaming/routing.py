from django.urls import path

from streaming.consumers import UplinkConsumer

websocket_urlpatterns = [
    path(
        "ws/events/<int:event_id>/lines/<str:line>/uplink/<int:presenter_pk>/<str:key>/",
        UplinkConsumer.as_asgi(),
    ),
]
