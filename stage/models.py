"""The persisted stage: one versioned state document per event and its audit log."""

from django.db import models

from events.models import Event


class StageState(models.Model):
    event = models.OneToOneField(Event, on_delete=models.CASCADE, related_name="stage")
    version = models.PositiveIntegerField(default=0)
    document = models.JSONField()
    # The state the log starts from, so replaying the log rebuilds `document` exactly.
    initial_document = models.JSONField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.event} v{self.version}"


class StageLogEntry(models.Model):
    """One applied command: who, what, when, and the version it produced."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="stage_log")
    version = models.PositiveIntegerField()
    actor = models.CharField(max_length=64)
    role = models.CharField(max_length=16, default="producer")
    client_id = models.CharField(max_length=64)
    command = models.JSONField()
    applied_at = models.FloatField(help_text="Unix time the command was applied.")
    # A take names a chapter of the replay (the segment's title, or who went on air).
    chapter = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["event", "version"]
        constraints = [
            models.UniqueConstraint(fields=["event", "version"], name="one_entry_per_version"),
            models.UniqueConstraint(fields=["event", "client_id"], name="one_entry_per_client_command"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} v{self.version} {self.command.get('type')} by {self.actor}"
