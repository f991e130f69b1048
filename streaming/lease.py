"""Claiming, renewing, checking and releasing an event's mixer lease."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from streaming.models import MixerLease

LEASE_SECONDS = 10
START_GRACE_SECONDS = 30


def claim(event_id: int, owner: str, seconds: float = START_GRACE_SECONDS) -> int:
    """Take the lease for a new mixer and return its generation (one more than the last)."""
    with transaction.atomic():
        MixerLease.objects.get_or_create(event_id=event_id)
        lease = MixerLease.objects.select_for_update().get(event_id=event_id)
        lease.generation += 1
        lease.owner = owner
        lease.expires_at = timezone.now() + timedelta(seconds=seconds)
        lease.renewed_at = timezone.now()
        lease.save()
        return lease.generation


def renew(event_id: int, generation: int, seconds: float = LEASE_SECONDS) -> bool:
    """Extend the lease if `generation` still holds it and it has not lapsed."""
    now = timezone.now()
    return bool(
        MixerLease.objects.filter(event_id=event_id, generation=generation, expires_at__gt=now).update(
            expires_at=now + timedelta(seconds=seconds), renewed_at=now
        )
    )


def holds(event_id: int, generation: int) -> bool:
    """Whether `generation` may publish now: it is current and its lease has not lapsed."""
    return MixerLease.objects.filter(event_id=event_id, generation=generation, expires_at__gt=timezone.now()).exists()


def release(event_id: int, generation: int) -> None:
    MixerLease.objects.filter(event_id=event_id, generation=generation).update(expires_at=timezone.now())


def is_lapsed(event_id: int) -> bool:
    """No mixer holds a live lease for this event."""
    return not MixerLease.objects.filter(event_id=event_id, expires_at__gt=timezone.now()).exists()
