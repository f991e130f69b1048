from django.urls import path

from stage.consumers import ConsoleConsumer

websocket_urlpatterns = [
    path("ws/events/<int:event_id>/console/", ConsoleConsumer.as_asgi()),
]
