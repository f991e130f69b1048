"""An email owed to a registrant, written in the transaction that caused it (a transactional outbox).

The registration and its email commit together or not at all; a relay hands pending mails to the
workers later, so a broker that is down when someone registers delays the email, never loses it.
"""

from django.db import models
from django.db.models.functions import Now

from events.models.registration import Registration


class OutboxMail(models.Model):
    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="outbox_mails")
    # Which email (events.mail.KINDS).
    kind = models.CharField(max_length=32)
    created_at = models.DateTimeField(db_default=Now())
    # When the relay may hand it to a worker (again): a handed-out mail not sent by then is handed
    # out once more, and a failed one waits here for its next try.
    due_at = models.DateTimeField(db_default=Now())
    sent_at = models.DateTimeField(null=True, blank=True)
    # Given up after OUTBOX_MAX_ATTEMPTS failures; the last error says why.
    failed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [
            # The relay's scan and the outbox depth read pending mails only.
            models.Index(
                fields=["due_at"], name="outbox_pending",
                condition=models.Q(sent_at__isnull=True, failed_at__isnull=True),
            ),
            # Pruning reads the sent ones by age; the given-up ones are counted.
            models.Index(fields=["sent_at"], name="outbox_sent", condition=models.Q(sent_at__isnull=False)),
            models.Index(fields=["failed_at"], name="outbox_failed", condition=models.Q(failed_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.kind} email to registration {self.registration_id}"
