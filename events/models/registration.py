"""A registrant's place at an event. State changes go through events.registration, never here."""

from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from events.access import new_access_key
from events.models.event import Event


class Registration(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting approval"
        CONFIRMED = "confirmed", "Confirmed"
        WAITLISTED = "waitlisted", "Waitlisted"
        CANCELLED = "cancelled", "Cancelled"
        REJECTED = "rejected", "Rejected"

    ACTIVE = (Status.PENDING, Status.CONFIRMED, Status.WAITLISTED)
    # may_watch as a query, for many rows at once (streaming/renewals.py); a test holds the two equal.
    WATCHING = models.Q(status=Status.CONFIRMED) & ~models.Q(access_key="")

    # No index of its own: the constraint and the two indexes below all begin with the event, so
    # they serve every query by event, and each registration has one index fewer to write.
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="registrations", db_index=False)
    name = models.CharField(max_length=120)
    # Stored trimmed and lower-cased (events.registration.normalise_email).
    email = models.EmailField(max_length=254)
    organisation = models.CharField(max_length=200, blank=True)
    job_title = models.CharField(max_length=200, blank=True)
    # Answers to the event's questions by question id: text, a choice, a list of choices, or true.
    answers = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status, default=Status.CONFIRMED)
    # An empty key is a revoked link: access_key_matches never accepts it.
    access_key = models.CharField(max_length=64, default=new_access_key, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # The waitlist is served in the order people joined it.
    status_changed_at = models.DateTimeField(default=timezone.now)
    # The last reminder sent (events.reminders.REMINDERS), so each goes out once.
    reminder_level = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint("event", Lower("email"), name="one_registration_per_email"),
        ]
        indexes = [
            models.Index(fields=["event", "status", "status_changed_at"], name="registration_queue"),
            models.Index(fields=["event", "created_at"], name="registration_timeline"),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def link_revoked(self) -> bool:
        return not self.access_key

    @property
    def may_watch(self) -> bool:
        return self.status == self.Status.CONFIRMED and not self.link_revoked

    def get_join_url(self) -> str:
        return reverse("events:join", args=[self.pk, self.access_key])

    def get_cancel_url(self) -> str:
        return reverse("events:cancel", args=[self.pk, self.access_key])
