"""Presenters' green-room invitations: their personal link by email, and a revoked link replaced.

The green-room link follows the rules of registrants' join links: an unguessable key, checked in
constant time, revocable, and never in a log. The task gets the presenter's id only, so the key
never sits in the broker or a worker's log; the mail is built from the current key when it goes.
"""

from functools import partial

from django.db import transaction

from events.access import new_access_key
from events.models import Presenter
from events.signals import presenter_link_reissued
from events.tasks import send_greenroom_invitation


def invite(presenter: Presenter) -> bool:
    """Queue the presenter's invitation for when the current transaction commits; False without an email."""
    if not presenter.email:
        return False
    transaction.on_commit(partial(send_greenroom_invitation.delay, presenter.pk))
    return True


def reissue_link(presenter: Presenter) -> bool:
    """Revoke the presenter's green-room link (the old one stops working; the stage closes the
    sockets it opened) and email them the new one."""
    presenter.access_key = new_access_key()
    presenter.save(update_fields=["access_key"])
    transaction.on_commit(partial(presenter_link_reissued.send, Presenter, presenter=presenter))
    return invite(presenter)
