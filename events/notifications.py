"""Telling registrants what happened, by email: owed in the transaction of the change that caused
it (events/outbox.py), handed to a worker after it commits (events/relay.py)."""

from django.db import transaction

from events import outbox, relay
from events.models import Registration


def notify(registration: Registration, kind: str) -> None:
    """Owe the registrant the email of `kind` (events.mail.KINDS) with the current transaction."""
    outbox.add(registration, kind)
    relay_after_commit()


def relay_after_commit() -> None:
    """An email was added to the outbox: relay once the current transaction commits."""
    # robust: a relay that fails here leaves the mail due for the next one, and the change stands.
    transaction.on_commit(relay.kick, robust=True)
