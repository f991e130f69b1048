"""Celery tasks of the event domain: registrant emails, presenter invitations, reminders and the presence flush."""

from celery import shared_task
from django.core.mail import get_connection

from events import attendance, mail, reminders
from events.models import Presenter, Registration


@shared_task
def send_registration_mail(registration_id: int, kind: str) -> None:
    """Email a registrant about their registration (events.mail.KINDS)."""
    registration = Registration.objects.select_related("event").filter(pk=registration_id).first()
    if registration is None:  # deleted before the mail went out: nobody to write to
        return
    mail.build(registration, kind).send()


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


@shared_task
def send_greenroom_invitation(presenter_pk: int) -> None:
    """Email a presenter their personal green-room link (events.mail.build_invitation)."""
    presenter = Presenter.objects.select_related("event").filter(pk=presenter_pk).first()
    if presenter is None or not presenter.email:  # deleted, or the address removed, before it went out
        return
    mail.build_invitation(presenter).send()
