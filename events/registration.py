"""Registering for an event: one registration per email, whatever the caller."""

from django.db import IntegrityError, transaction

from events.models import Event, Registration
from events.tasks import send_join_link


def register(event: Event, *, name: str, email: str) -> Registration:
    """Register `email` once; registering again re-sends the personal link instead."""
    try:
        with transaction.atomic():
            registration = Registration.objects.create(event=event, name=name, email=email)
    except IntegrityError:
        registration = Registration.objects.get(event=event, email__iexact=email)
    transaction.on_commit(lambda: send_join_link.delay(registration.pk))
    return registration
