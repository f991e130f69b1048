"""The emails of the event domain: a registrant's (one template pair, text and HTML, worded by kind)
and a presenter's green-room invitation."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from events import calendar
from events.models import Presenter, Registration


@dataclass(frozen=True)
class Kind:
    subject: str
    lead: str
    join_link: bool = False
    invite: bool = False


KINDS = {
    "confirmed": Kind("You're registered: {title}", "You are registered for {title}.", join_link=True, invite=True),
    "approved": Kind("Approved: you're registered for {title}", "The organiser approved your registration for "
                     "{title}.", join_link=True, invite=True),
    "promoted": Kind("A seat opened up: you're in for {title}", "A seat became free at {title} and it is yours: "
                     "you are now registered.", join_link=True, invite=True),
    "waitlisted": Kind("You're on the waitlist for {title}", "{title} is fully booked, so you are on the waitlist. "
                       "When a seat frees up it goes to the next person in line, and we email you your link."),
    "pending": Kind("Your registration for {title} awaits approval", "The organiser of {title} approves each "
                    "registration. We will email you as soon as they have decided."),
    "rejected": Kind("Your registration for {title}", "We are sorry: the organiser of {title} could not accept "
                     "your registration."),
    "cancelled": Kind("Cancelled: {title}", "Your registration for {title} is cancelled. If that was a "
                      "mistake, register again on the event page."),
    "reminder-1": Kind("Tomorrow: {title}", "A reminder: {title} starts tomorrow.", join_link=True, invite=True),
    "reminder-2": Kind("Starting soon: {title}", "A reminder: {title} starts in about an hour.",
                       join_link=True, invite=True),
}


def build(registration: Registration, kind: str, connection=None) -> EmailMultiAlternatives:
    """The email of `kind` for `registration`, ready to send."""
    spec = KINDS[kind]
    event = registration.event
    join_url = settings.SITE_URL + registration.get_join_url() if spec.join_link else None
    context = {
        "registration": registration,
        "event": event,
        "lead": spec.lead.format(title=event.title),
        "join_url": join_url,
        "cancel_url": settings.SITE_URL + registration.get_cancel_url() if kind not in ("rejected", "cancelled")
        else None,
        "event_url": calendar.page_url(event),
    }
    message = EmailMultiAlternatives(
        subject=spec.subject.format(title=event.title),
        body=render_to_string("events/email/registration.txt", context),
        to=[registration.email],
        connection=connection,
    )
    message.attach_alternative(render_to_string("events/email/registration.html", context), "text/html")
    if spec.invite:
        message.attach(f"{event.slug}.ics", calendar.invite(event, join_url=join_url).decode(), "text/calendar")
    return message


# How long before the start a presenter should be in the green room (sound check, cues, chat).
GREENROOM_LEAD = timedelta(minutes=30)


def build_invitation(presenter: Presenter, connection=None) -> EmailMultiAlternatives:
    """The presenter's invitation to the green room: their personal link and how to get ready."""
    event = presenter.event
    context = {
        "presenter": presenter,
        "event": event,
        "greenroom_url": settings.SITE_URL + presenter.get_greenroom_url(),
        "arrive_at": event.starts_at - GREENROOM_LEAD,
        "lead_minutes": int(GREENROOM_LEAD.total_seconds() // 60),
        "event_url": calendar.page_url(event),
    }
    message = EmailMultiAlternatives(
        subject=f"Your green-room link: {event.title}",
        body=render_to_string("events/email/greenroom_invitation.txt", context),
        to=[presenter.email],
        connection=connection,
    )
    message.attach_alternative(render_to_string("events/email/greenroom_invitation.html", context), "text/html")
    return message
