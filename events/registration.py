"""Every change of a registration's status, for views, admin actions and tasks alike.

Invariants, held by the database as well as here:
- one registration per event and email (a unique index on the lower-cased email);
- at most `event.capacity` confirmed registrations: every path that may confirm someone counts
  the seats while holding the event row's lock (select_for_update), so concurrent requests take
  seats one after another, and a cancellation hands its seat to the first on the waitlist.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from events import ratelimit, registration_insert
from events.access import new_access_key
from events.metrics import REGISTRATIONS
from events.models import Event, Registration
from events.notifications import notify, relay_after_commit
from events.reminders import due_level
from events.signals import watching_withdrawn

Status = Registration.Status


class RegistrationClosed(Exception):
    """The event does not take registrations now."""


@dataclass(frozen=True)
class Registrant:
    """What a person tells us when registering."""

    name: str
    email: str
    organisation: str = ""
    job_title: str = ""
    answers: dict = field(default_factory=dict)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def register(event: Event, *, name: str, email: str, organisation: str = "", job_title: str = "",
             answers: dict | None = None) -> Registration:
    """Register `email` once. Registering again changes nothing and re-sends the registrant's
    current email (link, waitlist or approval notice); a cancelled registration comes back."""
    if not event.registration_open:
        raise RegistrationClosed(event.slug)
    registrant = Registrant(name.strip(), normalise_email(email), organisation.strip(), job_title.strip(),
                            answers or {})
    now = timezone.now()
    try:
        registration = _create_in_one_statement(event, registrant, now)
        if registration is None:
            # The row and the email it is owed commit together (a savepoint inside a caller's
            # transaction, so a duplicate leaves that transaction usable).
            with transaction.atomic():
                registration = _create(_fresh(event), registrant, now)
                notify(registration, registration.status)
    except IntegrityError:  # registered before, or a moment ago in a concurrent request
        REGISTRATIONS.labels("again").inc()
        return _register_again(_find(event, registrant.email), registrant, now)
    REGISTRATIONS.labels("new").inc()
    return registration


def cancel(registration: Registration) -> Registration:
    """Cancel a registration; a confirmed one's seat goes to the first on the waitlist."""
    with transaction.atomic():
        event = _lock(registration.event)
        current = Registration.objects.select_for_update().get(pk=registration.pk)
        if current.status not in Registration.ACTIVE:
            return current
        freed = current.status == Status.CONFIRMED
        _set_status(current, Status.CANCELLED, event)
        notify(current, "cancelled")
        if freed:
            _fill_seats(event)
    return current


def approve(registration: Registration) -> Registration:
    """Let a pending registrant in: confirmed if a seat is free, else onto the waitlist."""
    with transaction.atomic():
        event = _lock(registration.event)
        current = Registration.objects.select_for_update().get(pk=registration.pk)
        if current.status != Status.PENDING:
            return current
        free = _free_seats(event)
        if free is None or free > 0:
            _set_status(current, Status.CONFIRMED, event)
            notify(current, "approved")
        else:
            _set_status(current, Status.WAITLISTED, event)
            notify(current, Status.WAITLISTED)
    return current


def reject(registration: Registration) -> Registration:
    """Turn down a pending or waitlisted registrant and tell them."""
    with transaction.atomic():
        current = Registration.objects.select_for_update().get(pk=registration.pk)
        if current.status not in (Status.PENDING, Status.WAITLISTED):
            return current
        _set_status(current, Status.REJECTED, current.event)
        notify(current, "rejected")
    return current


def revoke_link(registration: Registration) -> bool:
    """Make the registrant's join and cancel links, and sessions opened with them, stop working."""
    revoked = Registration.objects.filter(pk=registration.pk).exclude(access_key="").update(access_key="")
    registration.access_key = ""
    if revoked:
        watching_withdrawn.send(Registration, registration=registration)
    return bool(revoked)


def resend_link(registration: Registration) -> bool:
    """Email an active registrant their links again (once per LINK_RESENDS window); a revoked link
    is replaced by a new one, which is always sent. False if nothing was sent."""
    with transaction.atomic():
        current = Registration.objects.select_for_update().get(pk=registration.pk)
        if current.status not in Registration.ACTIVE:
            return False
        if current.link_revoked:
            current.access_key = new_access_key()
            current.save(update_fields=["access_key"])
        elif not _may_resend(current):
            return False
        notify(current, current.status)
    registration.access_key = current.access_key
    return True


def fill_seats(event: Event) -> list[Registration]:
    """Confirm waitlisted registrants while seats are free (after the capacity was raised)."""
    with transaction.atomic():
        return _fill_seats(_lock(event))


def _create_in_one_statement(event: Event, registrant: Registrant, now: datetime) -> Registration | None:
    """The common case (no seat limit, PostgreSQL): the row and its email in one round trip
    (events/registration_insert.py); None when the general path must run."""
    if event.seats_limited or not registration_insert.applies():
        return None
    status = Status.PENDING if event.requires_approval else Status.CONFIRMED
    registration = Registration(status=status, **_fields(event, registrant, now))
    if transaction.get_connection().in_atomic_block:
        with transaction.atomic():  # a savepoint, so a duplicate leaves the caller's transaction usable
            saved = registration_insert.insert_with_mail(registration, event.requires_approval)
    else:
        saved = registration_insert.insert_with_mail(registration, event.requires_approval)
    if saved is not None:
        relay_after_commit()
    return saved


def _fresh(event: Event) -> Event:
    """The event as the database has it now (the caller's copy may be a few seconds old)."""
    current = Event.objects.get(pk=event.pk)
    if not current.registration_open:
        raise RegistrationClosed(event.slug)
    return current


def _create(event: Event, registrant: Registrant, now: datetime) -> Registration:
    """Insert the registration, in the caller's transaction (seats counted under the event's lock)."""
    fields = _fields(event, registrant, now)
    if event.seats_limited:
        free = _free_seats(_lock(event))
        status = Status.CONFIRMED if free > 0 else Status.WAITLISTED
    else:
        status = Status.PENDING if event.requires_approval else Status.CONFIRMED
    return Registration.objects.create(status=status, **fields)


def _fields(event: Event, registrant: Registrant, now: datetime) -> dict:
    return {
        "event": event,
        "name": registrant.name,
        "email": registrant.email,
        "organisation": registrant.organisation,
        "job_title": registrant.job_title,
        "answers": registrant.answers,
        "status_changed_at": now,
        "reminder_level": due_level(event, now),
    }


def _register_again(existing: Registration, registrant: Registrant, now: datetime) -> Registration:
    if existing.link_revoked or existing.status == Status.REJECTED:
        return existing  # the organiser's decision stands; nothing to send
    if existing.status in Registration.ACTIVE:
        if _may_resend(existing):
            notify(existing, existing.status)
        return existing
    return _reinstate(existing, registrant, now)


def _reinstate(cancelled: Registration, registrant: Registrant, now: datetime) -> Registration:
    """A cancelled registrant registers anew: same row, fresh details, back of the queue."""
    with transaction.atomic():
        event = _lock(cancelled.event)
        current = Registration.objects.select_for_update().get(pk=cancelled.pk)
        if current.status != Status.CANCELLED:
            return current
        if event.requires_approval:
            status = Status.PENDING
        else:
            free = _free_seats(event)
            status = Status.CONFIRMED if free is None or free > 0 else Status.WAITLISTED
        current.name, current.organisation = registrant.name, registrant.organisation
        current.job_title, current.answers = registrant.job_title, registrant.answers
        current.reminder_level = 0
        current.save(update_fields=["name", "organisation", "job_title", "answers", "reminder_level"])
        _set_status(current, status, event, now)
        notify(current, status)
    return current


def _may_resend(registration: Registration) -> bool:
    """Whether this registration's email may go out again now (counts the resend)."""
    return ratelimit.hit(ratelimit.LINK_RESENDS, str(registration.pk)).allowed


def _find(event: Event, email: str) -> Registration:
    # Lower(email) = … uses the unique expression index; email__iexact would not.
    return Registration.objects.alias(lower_email=Lower("email")).get(event=event, lower_email=email)


def _lock(event: Event) -> Event:
    return Event.objects.select_for_update().get(pk=event.pk)


def _free_seats(event: Event) -> int | None:
    """Seats left, counted under the event lock; None when there is no limit."""
    if event.capacity is None:
        return None
    confirmed = event.registrations.filter(status=Status.CONFIRMED).count()
    return max(0, event.capacity - confirmed)


def _fill_seats(event: Event) -> list[Registration]:
    free = _free_seats(event)
    queue = event.registrations.filter(status=Status.WAITLISTED).order_by("status_changed_at", "pk")
    promoted = list(queue if free is None else queue[:free])
    for registration in promoted:
        _set_status(registration, Status.CONFIRMED, event)
        notify(registration, "promoted")
    return promoted


def _set_status(registration: Registration, status: str, event: Event, now: datetime | None = None) -> None:
    now = now or timezone.now()
    withdrawn = registration.status == Status.CONFIRMED and status != Status.CONFIRMED
    registration.status = status
    registration.status_changed_at = now
    fields = ["status", "status_changed_at"]
    if status == Status.CONFIRMED:
        # Reminders whose time has passed are not sent late to someone confirmed just now.
        registration.reminder_level = max(registration.reminder_level, due_level(event, now))
        fields.append("reminder_level")
    registration.save(update_fields=fields)
    if withdrawn:
        watching_withdrawn.send(Registration, registration=registration)
