"""Which mixer may write an event's webcast: a lease with a generation number (a fencing token)."""

from django.db import models

from events.models import Event


class MixerLease(models.Model):
    event = models.OneToOneField(Event, on_delete=models.CASCADE, related_name="mixer_lease")
    # Every start claims generation + 1; a mixer whose generation is not the current one is fenced
    # off, so a paused zombie or a duplicate start can never publish.
    generation = models.PositiveIntegerField(default=0)
    owner = models.CharField(max_length=128, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    renewed_at = models.DateTimeField(null=True, blank=True)
    # When a mixer finished the ended show (ENDLIST, replay); empty while a show is owed that,
    # so the watchdog has generation + 1 finish a show whose mixer died before it could.
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"mixer lease of {self.event} (generation {self.generation})"
