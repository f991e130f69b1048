"""Calendar entries for an event: the .ics invite (icalendar) and Google / Outlook links.

The UID is the event's and never changes, and SEQUENCE rises with every schedule change, so a
calendar that holds the invite replaces its entry instead of adding a second one.
"""

from datetime import UTC, timedelta
from urllib.parse import urlencode, urlsplit

import icalendar
from django.conf import settings
from django.utils import timezone

from events.models import Event

PRODUCT_ID = "-//Webcast//Events//EN"


def event_uid(event: Event) -> str:
    host = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"event-{event.pk}-{int(event.created_at.timestamp())}@{host}"


def page_url(event: Event) -> str:
    return settings.SITE_URL + event.get_absolute_url()


def invite(event: Event, *, join_url: str | None = None) -> bytes:
    """The event as an iCalendar file; with `join_url`, the registrant's personal copy."""
    details = event.description.strip()
    link = join_url or page_url(event)
    details = f"{details}\n\n" if details else ""
    details += f"Join the webcast: {link}" if join_url else f"Event page: {link}"

    entry = icalendar.Event()
    entry.add("uid", event_uid(event))
    entry.add("sequence", event.calendar_sequence)
    entry.add("dtstamp", timezone.now().astimezone(UTC))
    entry.add("dtstart", event.local_starts_at)
    entry.add("dtend", event.local_ends_at)
    entry.add("summary", event.title)
    entry.add("description", details)
    entry.add("location", link)
    entry.add("url", link)

    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add_component(entry)
    # Only the rules around the event, not every transition since 1970.
    start = event.local_starts_at.date()
    calendar.add_missing_timezones(first_date=start - timedelta(days=366), last_date=start + timedelta(days=366))
    return calendar.to_ical()


def _utc_stamp(moment) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def google_url(event: Event) -> str:
    query = {
        "action": "TEMPLATE",
        "text": event.title,
        "dates": f"{_utc_stamp(event.starts_at)}/{_utc_stamp(event.ends_at)}",
        "details": f"{event.description.strip()}\n\n{page_url(event)}".strip(),
        "location": page_url(event),
        "ctz": event.time_zone,
    }
    return "https://calendar.google.com/calendar/render?" + urlencode(query)


def outlook_url(event: Event) -> str:
    query = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": event.title,
        "startdt": event.starts_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "enddt": event.ends_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "body": f"{event.description.strip()}\n\n{page_url(event)}".strip(),
        "location": page_url(event),
    }
    return "https://outlook.live.com/calendar/0/deeplink/compose?" + urlencode(query)
