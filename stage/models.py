"""The persisted stage: one versioned state document per event, its audit log, and viewers' votes."""

from django.db import models

from events.models import Event, Registration


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


class QuestionVote(models.Model):
    """A viewer's upvote of a question (a stage question id): one per registration and question."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="question_votes")
    question = models.CharField(max_length=32)
    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="question_votes")
    voted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "question", "registration"], name="one_upvote_per_viewer"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} {self.question} +1 by {self.registration_id}"


class PollVote(models.Model):
    """A viewer's answer to a poll (a stage poll id, the option's index): one per registration and poll."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="poll_votes")
    poll = models.CharField(max_length=32)
    option = models.PositiveSmallIntegerField()
    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="poll_votes")
    voted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "poll", "registration"], name="one_answer_per_viewer"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} {self.poll} option {self.option} by {self.registration_id}"
