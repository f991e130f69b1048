"""Which mixer may write an event's webcast and which off-air monitor watches it (leases with a
generation number, a fencing token), and what the monitor found (the post-show report's history)."""

from django.db import models

from events.models import Event


class Lease(models.Model):
    # Every start claims generation + 1; a process whose generation is not the current one is
    # fenced off, so a paused zombie or a duplicate start can never publish.
    generation = models.PositiveIntegerField(default=0)
    owner = models.CharField(max_length=128, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    renewed_at = models.DateTimeField(null=True, blank=True)
    # When the process finished the ended show; empty while a show is owed that (a mixer's ENDLIST
    # and replay), so the watchdog has generation + 1 finish it.
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class MixerLease(Lease):
    event = models.OneToOneField(Event, on_delete=models.CASCADE, related_name="mixer_lease")

    def __str__(self) -> str:
        return f"mixer lease of {self.event} (generation {self.generation})"


class OffAirLease(Lease):
    event = models.OneToOneField(Event, on_delete=models.CASCADE, related_name="off_air_lease")

    def __str__(self) -> str:
        return f"off-air monitor lease of {self.event} (generation {self.generation})"


class OffAirReading(models.Model):
    """What the off-air monitor measured of one published segment (streaming/core/off_air.py)."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="off_air_readings")
    at = models.DateTimeField(help_text="When the segment's first sample was mixed (its program date-time).")
    latency = models.FloatField(null=True, help_text="Seconds from program date-time to arrival.")
    momentary = models.FloatField(null=True, help_text="The loudest momentary loudness in it, LUFS.")
    short_term = models.FloatField(null=True, help_text="Short-term loudness at its end, LUFS.")
    integrated = models.FloatField(null=True, help_text="Integrated loudness since the monitor began, LUFS.")
    true_peak = models.FloatField(null=True, help_text="The highest true peak since the monitor began, dBTP.")
    heard = models.JSONField(default=list, help_text="Who was heard, by name.")

    class Meta:
        ordering = ["event", "at"]
        indexes = [models.Index(fields=["event", "at"], name="off_air_reading_event_at")]

    def __str__(self) -> str:
        return f"{self.event_id} {self.at:%H:%M:%S} {self.latency} s {self.short_term} LUFS"


class OffAirAlarm(models.Model):
    """One alarm of the off-air monitor, from when it was raised until it cleared (still open: not yet)."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="off_air_alarms")
    alarm = models.CharField(max_length=32)
    detail = models.CharField(max_length=300, blank=True)
    raised_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["event", "raised_at"]

    def __str__(self) -> str:
        return f"{self.event_id} {self.alarm} from {self.raised_at:%H:%M:%S}"
