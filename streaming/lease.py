"""Claiming, starting under, renewing, checking and releasing an event's lease: the mixer's, or
the off-air monitor's (`model=OffAirLease`), which work alike.

The generation is a fencing token: a launcher claims generation + 1 before it starts a process, and
every publish checks it, so a paused zombie or a duplicate delivery can never write. Timings come
from settings (MIXER_LEASE_SECONDS, MIXER_START_GRACE_SECONDS; OFF_AIR_LEASE_SECONDS) so tests run
in seconds.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from streaming.models import Lease, MixerLease, OffAirLease


def _seconds(model: type[Lease]) -> float:
    return settings.OFF_AIR_LEASE_SECONDS if model is OffAirLease else settings.MIXER_LEASE_SECONDS


def claim(event_id: int, owner: str, seconds: float | None = None, *, model: type[Lease] = MixerLease) -> int:
    """Take the lease for a new process and return its generation (one more than the last)."""
    seconds = settings.MIXER_START_GRACE_SECONDS if seconds is None else seconds
    with transaction.atomic():
        model.objects.get_or_create(event_id=event_id)
        lease = model.objects.select_for_update().get(event_id=event_id)
        lease.generation += 1
        lease.owner = owner
        lease.expires_at = timezone.now() + timedelta(seconds=seconds)
        lease.renewed_at = timezone.now()
        lease.finished_at = None
        lease.save()
        return lease.generation


def start(event_id: int, generation: int, owner: str, *, model: type[Lease] = MixerLease) -> bool:
    """The process of `generation` begins: name it as owner. False if it was superseded."""
    now = timezone.now()
    return bool(
        model.objects.filter(event_id=event_id, generation=generation, expires_at__gt=now).update(
            owner=owner, expires_at=now + timedelta(seconds=_seconds(model)), renewed_at=now
        )
    )


def renew(event_id: int, generation: int, *, model: type[Lease] = MixerLease) -> bool:
    """Extend the lease if `generation` still holds it and it has not lapsed."""
    now = timezone.now()
    return bool(
        model.objects.filter(event_id=event_id, generation=generation, expires_at__gt=now).update(
            expires_at=now + timedelta(seconds=_seconds(model)), renewed_at=now
        )
    )


def holds(event_id: int, generation: int, *, model: type[Lease] = MixerLease) -> bool:
    """Whether `generation` may publish now: it is current and its lease has not lapsed."""
    return model.objects.filter(event_id=event_id, generation=generation, expires_at__gt=timezone.now()).exists()


def release(event_id: int, generation: int, *, model: type[Lease] = MixerLease) -> None:
    """Let go at once (a clean stop), so a replacement need not wait for the lease to lapse."""
    model.objects.filter(event_id=event_id, generation=generation).update(expires_at=timezone.now())


def mark_finished(event_id: int, generation: int, *, model: type[Lease] = MixerLease) -> None:
    """The show's ending is written (ENDLIST and replay): nothing more is owed to it."""
    model.objects.filter(event_id=event_id, generation=generation).update(finished_at=timezone.now())


def is_lapsed(event_id: int, *, model: type[Lease] = MixerLease) -> bool:
    """No process holds a live lease for this event."""
    return not model.objects.filter(event_id=event_id, expires_at__gt=timezone.now()).exists()
