"""Claiming, starting under, renewing, checking and releasing an event's lease: the mixer's, or
the off-air monitor's (`model=OffAirLease`), which work alike.

The generation is a fencing token: a launcher claims generation + 1 before it starts a process, and
every publish checks it, so a paused zombie or a duplicate delivery can never write. Timings come
from settings (MIXER_LEASE_SECONDS, MIXER_START_GRACE_SECONDS; OFF_AIR_LEASE_SECONDS) so tests run
in seconds.

Every time here is the database's clock (`Now()` inside the statement), never a process's: the
servers, workers and processes that share a lease may disagree about the time; the database does
not. A claim is one conditional UPDATE, so two launchers that both saw the lease lapse cannot both
take it: the second finds it held and gets None.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import DateTimeField, DurationField, ExpressionWrapper, F, Q, Value
from django.db.models.functions import Now

from streaming.models import Lease, MixerLease, OffAirLease


def _seconds(model: type[Lease]) -> float:
    return settings.OFF_AIR_LEASE_SECONDS if model is OffAirLease else settings.MIXER_LEASE_SECONDS


def _from_now(seconds: float) -> ExpressionWrapper:
    """The database's time `seconds` from now, for use inside a statement."""
    later = Now() + Value(timedelta(seconds=seconds), output_field=DurationField())
    return ExpressionWrapper(later, output_field=DateTimeField())


LAPSED = Q(expires_at__isnull=True) | Q(expires_at__lte=Now())
LIVE = Q(expires_at__gt=Now())


def claim(
    event_id: int, owner: str, seconds: float | None = None, *, model: type[Lease] = MixerLease
) -> int | None:
    """Take the lapsed lease for a new process and return its generation (one more than the last);
    None when a process, or another launcher's claim, holds it now."""
    seconds = settings.MIXER_START_GRACE_SECONDS if seconds is None else seconds
    model.objects.bulk_create([model(event_id=event_id)], ignore_conflicts=True)
    with transaction.atomic():
        # The check and the claim in one statement; the row stays locked until the commit, so the
        # generation read back is the one this claim wrote.
        taken = model.objects.filter(LAPSED, event_id=event_id).update(
            generation=F("generation") + 1,
            owner=owner,
            expires_at=_from_now(seconds),
            renewed_at=Now(),
            finished_at=None,
        )
        if not taken:
            return None
        return model.objects.values_list("generation", flat=True).get(event_id=event_id)


def start(event_id: int, generation: int, owner: str, *, model: type[Lease] = MixerLease) -> bool:
    """The process of `generation` begins: name it as owner. False if it was superseded."""
    return bool(
        model.objects.filter(LIVE, event_id=event_id, generation=generation).update(
            owner=owner, expires_at=_from_now(_seconds(model)), renewed_at=Now()
        )
    )


def renew(event_id: int, generation: int, *, model: type[Lease] = MixerLease) -> bool:
    """Extend the lease if `generation` still holds it and it has not lapsed."""
    return bool(
        model.objects.filter(LIVE, event_id=event_id, generation=generation).update(
            expires_at=_from_now(_seconds(model)), renewed_at=Now()
        )
    )


def holds(event_id: int, generation: int, *, model: type[Lease] = MixerLease) -> bool:
    """Whether `generation` may publish now: it is current and its lease has not lapsed."""
    return model.objects.filter(LIVE, event_id=event_id, generation=generation).exists()


def release(event_id: int, generation: int, *, model: type[Lease] = MixerLease) -> None:
    """Let go at once (a clean stop), so a replacement need not wait for the lease to lapse."""
    model.objects.filter(event_id=event_id, generation=generation).update(expires_at=Now())


def mark_finished(event_id: int, generation: int, *, model: type[Lease] = MixerLease) -> None:
    """The show's ending is written (ENDLIST and replay): nothing more is owed to it."""
    model.objects.filter(event_id=event_id, generation=generation).update(finished_at=Now())


def is_lapsed(event_id: int, *, model: type[Lease] = MixerLease) -> bool:
    """No process holds a live lease for this event."""
    return not model.objects.filter(LIVE, event_id=event_id).exists()
