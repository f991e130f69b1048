"""What viewers did: per registrant totals and per event viewer counts, written by the presence flush."""

from django.db import models

from events.models.event import Event
from events.models.registration import Registration


class Attendance(models.Model):
    """A registrant's watching, summed over every flushed presence bucket."""

    registration = models.OneToOneField(
        Registration, on_delete=models.CASCADE, primary_key=True, related_name="attendance"
    )
    # Denormalised so reports aggregate one table.
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="attendances")
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    seconds_live = models.PositiveIntegerField(default=0)
    seconds_replay = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.registration_id}: {self.seconds_live}s live, {self.seconds_replay}s replay"

    @property
    def seconds_watched(self) -> int:
        return self.seconds_live + self.seconds_replay


class ViewerCount(models.Model):
    """Distinct viewers of an event during one presence bucket starting at `at`."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="viewer_counts")
    at = models.DateTimeField()
    viewers = models.PositiveIntegerField()

    class Meta:
        ordering = ["event", "at"]
        constraints = [models.UniqueConstraint(fields=["event", "at"], name="one_viewer_count_per_bucket")]

    def __str__(self) -> str:
        return f"{self.event_id} {self.at:%H:%M}: {self.viewers}"


class PresenceFlush(models.Model):
    """A presence bucket written to the database; its unique row makes each flush happen once."""

    bucket = models.BigIntegerField(unique=True)
    beats = models.PositiveIntegerField()
    flushed_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"bucket {self.bucket}: {self.beats} beats"
