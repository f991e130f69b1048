"""Presenters' green-room invitations: their personal link by email, and a revoked link replaced.

The green-room link follows the rules of registrants' join links: an unguessable key, checked in
constant time, revocable, and never in a log. The task gets the presenter's id only, so the key
never sits in the broker or a worker's log; the mail is built from the current key when it goes.
"""

from functools import partial

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from events.access import new_access_key
from events.models import Presenter
from events.tasks import send_greenroom_invitation
from stage.groups import presenter_group


def invite(presenter: Presenter) -> bool:
    """Queue the presenter's invitation for when the current transaction commits; False without an email."""
    if not presenter.email:
        return False
    transaction.on_commit(partial(send_greenroom_invitation.delay, presenter.pk))
    return True


def reissue_link(presenter: Presenter) -> bool:
    """Revoke the presenter's green-room link (the old one stops working, and sockets it opened
    close) and email them the new one."""
    presenter.access_key = new_access_key()
    presenter.save(update_fields=["access_key"])
    transaction.on_commit(partial(_close_sockets, presenter.event_id, presenter.line_id))
    return invite(presenter)


def _close_sockets(event_id: int, presenter_id: str) -> None:
    group = presenter_group(event_id, presenter_id)
    async_to_sync(get_channel_layer().group_send)(group, {"type": "presenter.revoked"})
