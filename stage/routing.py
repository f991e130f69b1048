from django.urls import path

from stage.consumers import ConsoleConsumer
from stage.greenroom import GreenRoomConsumer

websocket_urlpatterns = [
    path("ws/events/<int:event_id>/console/", ConsoleConsumer.as_asgi()),
    path("ws/events/<int:event_id>/greenroom/<int:presenter_pk>/<str:key>/", GreenRoomConsumer.as_asgi()),
]
