"""A presenter's link reissued by the organiser: the sockets the old link opened close at once
(green rooms and microphone uplinks alike), not at their next reconnect."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from events.models import Presenter
from events.signals import presenter_link_reissued
from stage.groups import presenter_group


def close_sockets_of(sender, presenter: Presenter, **kwargs) -> None:
    group = presenter_group(presenter.event_id, presenter.line_id)
    async_to_sync(get_channel_layer().group_send)(group, {"type": "presenter.revoked"})


def connect() -> None:
    presenter_link_reissued.connect(close_sockets_of, dispatch_uid="stage.links.close_sockets")
