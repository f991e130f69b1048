"""Reminder emails before an event starts, each sent once to each confirmed registrant.

A periodic task claims due reminders in batches by raising `Registration.reminder_level` inside a
transaction (rows locked with SKIP LOCKED, so two schedulers never claim the same registrant) and
hands each batch to a mail task. A reminder is claimed before it is sent: at most once, never twice.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from events.models import Event, Registration

# level → how long before the start it goes out; a later level supersedes an earlier one.
REMINDERS = {1: timedelta(days=1), 2: timedelta(hours=1)}
BATCH = 500


def due_level(event: Event, now: datetime) -> int:
    """The latest reminder whose time has come for `event` (all of them once it started)."""
    level = 0
    for candidate, lead in REMINDERS.items():
        if now >= event.starts_at - lead:
            level = candidate
    return level


def claim_due(now: datetime | None = None) -> list[tuple[list[int], int]]:
    """Claim every reminder due now; returns batches of (registration ids, level) to send."""
    now = now or timezone.now()
    upcoming = Event.objects.filter(starts_at__gt=now, starts_at__lte=now + max(REMINDERS.values()))
    batches = []
    for event in upcoming:
        level = due_level(event, now)
        while level:
            with transaction.atomic():
                ids = list(
                    Registration.objects.filter(
                        event=event, status=Registration.Status.CONFIRMED, reminder_level__lt=level
                    )
                    .exclude(access_key="")
                    .select_for_update(skip_locked=True)
                    .order_by("pk")
                    .values_list("pk", flat=True)[:BATCH]
                )
                Registration.objects.filter(pk__in=ids).update(reminder_level=level)
            if not ids:
                break
            batches.append((ids, level))
    return batches
