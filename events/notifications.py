"""Telling registrants what happened, by email, after the change that caused it is committed."""

from functools import partial

from django.db import transaction

from events.models import Registration
from events.tasks import send_registration_mail


def notify(registration: Registration, kind: str) -> None:
    """Queue the email of `kind` (events.mail.KINDS) for when the current transaction commits."""
    transaction.on_commit(partial(send_registration_mail.delay, registration.pk, str(kind)))
