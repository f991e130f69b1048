"""Celery tasks of the event domain: registrant emails, presenter invitations, reminders and the presence flush.

Registrants' outbox mails are idempotent and acknowledged late: a worker that dies while sending
leaves the task to be delivered again (reject_on_worker_lost), and each outbox row says whether
its mail went. A presenter's invitation is acknowledged late too: after such a crash it may go
twice, never not at all. Reminders stay acknowledged early: they are claimed before they are sent,
at most once by design (events/reminders.py).
"""

from celery import shared_task
from django.conf import settings
from django.core.mail import get_connection

from events import attendance, mail, outbox, reminders
from events.models import Presenter, Registration

# What a crashed worker must not lose: redelivered, not acknowledged, when it dies mid-task.
REDELIVERED = {"acks_late": True, "reject_on_worker_lost": True}


@shared_task(**REDELIVERED)
def send_outbox_mails(mail_ids: list[int]) -> int:
    """Send emails of the outbox (events/outbox.py) over one mail connection, skipping those that
    went already; returns how many this call sent."""
    with get_connection() as connection:
        return sum(outbox.deliver(mail_id, connection) for mail_id in mail_ids)


@shared_task
def relay_outbox() -> int:
    """Periodic: hand due outbox mails to the workers (those no committing process relayed) and
    forget mails sent long ago."""
    from events.relay import relay

    relayed = relay()
    outbox.prune(settings.OUTBOX_KEEP_DAYS)
    return relayed


@shared_task
def send_due_reminders() -> int:
    """Periodic: claim the reminders due now and queue them in batches; returns how many."""
    claimed = reminders.claim_due()
    for registration_ids, level in claimed:
        send_reminder_batch.delay(registration_ids, level)
    return sum(len(ids) for ids, _ in claimed)


@shared_task
def send_reminder_batch(registration_ids: list[int], level: int) -> None:
    """Send one claimed batch of reminders over a single mail connection."""
    registrations = Registration.objects.select_related("event").filter(
        pk__in=registration_ids, status=Registration.Status.CONFIRMED
    ).exclude(access_key="")
    with get_connection() as connection:
        connection.send_messages([mail.build(r, f"reminder-{level}", connection) for r in registrations])


@shared_task
def flush_attendance() -> int:
    """Periodic: write closed presence buckets from the cache to the database."""
    return attendance.flush()


@shared_task(**REDELIVERED)
def send_greenroom_invitation(presenter_pk: int) -> None:
    """Email a presenter their personal green-room link (events.mail.build_invitation)."""
    presenter = Presenter.objects.select_related("event").filter(pk=presenter_pk).first()
    if presenter is None or not presenter.email:  # deleted, or the address removed, before it went out
        return
    mail.build_invitation(presenter).send()
