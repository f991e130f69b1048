"""Registrant emails: HTML and text, the personal links, a calendar invite with a stable UID, and
reminders that go out once each."""

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from django.core import mail
from django.utils import timezone

from events import reminders
from events.calendar import event_uid
from events.registration import register
from events.tasks import send_due_reminders
from tests.events.helpers import join_path, mails_to, make_event, new_registrations

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.both_modes]


def invite_of(message) -> icalendar.Calendar:
    ((_filename, content, mimetype),) = message.attachments
    assert mimetype == "text/calendar"
    return icalendar.Calendar.from_ical(content)


def test_the_confirmation_has_text_and_html_the_links_and_a_calendar_invite(settings):
    settings.SITE_URL = "https://webcast.example"
    start = datetime(2031, 3, 4, 9, 30, tzinfo=UTC)
    event = make_event(title="Spring keynote", starts_at=start, time_zone="Europe/Berlin",
                       duration=timedelta(minutes=90), description="All about spring.")
    registration = register(event, name="Rita <Ops> & Co", email="rita@example.com")

    (message,) = mail.outbox
    assert message.subject == "You're registered: Spring keynote"
    assert message.to == ["rita@example.com"]
    join_url = "https://webcast.example" + registration.get_join_url()
    cancel_url = "https://webcast.example" + registration.get_cancel_url()
    assert f"Your personal link to the webcast (keep it to yourself):\n{join_url}\n" in message.body
    assert f"Cancel your registration:\n{cancel_url}\n" in message.body
    assert "Tuesday 4 March 2031, 10:30–12:00 (Europe/Berlin)" in message.body
    assert "Hello Rita <Ops> & Co," in message.body
    ((html, mimetype),) = message.alternatives
    assert mimetype == "text/html"
    assert f'href="{join_url}"' in html and f'href="{cancel_url}"' in html
    assert "Hello Rita &lt;Ops&gt; &amp; Co," in html

    entry = invite_of(message).walk("VEVENT")[0]
    assert str(entry["UID"]) == event_uid(event)
    assert entry["SUMMARY"] == "Spring keynote"
    assert entry.decoded("DTSTART") == start
    assert entry["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert entry.decoded("DTEND") == start + timedelta(minutes=90)
    assert entry["SEQUENCE"] == 0
    assert entry["DESCRIPTION"] == f"All about spring.\n\nJoin the webcast: {join_url}"
    assert [tz["TZID"] for tz in invite_of(message).walk("VTIMEZONE")] == ["Europe/Berlin"]


def test_a_rescheduled_event_sends_the_same_uid_with_a_higher_sequence():
    event = make_event()
    register(event, name="Rita", email="rita@example.com")
    event.starts_at += timedelta(hours=2)
    event.save()
    event.save()  # saving without a change keeps the sequence
    register(event, name="Rita", email="rita@example.com")

    first, second = (invite_of(m).walk("VEVENT")[0] for m in mail.outbox)
    assert first["UID"] == second["UID"]
    assert (first["SEQUENCE"], second["SEQUENCE"]) == (0, 1)
    assert second.decoded("DTSTART") - first.decoded("DTSTART") == timedelta(hours=2)


def test_the_ics_download_is_the_same_entry_without_a_personal_link(client, settings):
    settings.SITE_URL = "https://webcast.example"
    event = make_event(time_zone="America/New_York")
    response = client.get(f"/e/{event.slug}/calendar.ics")
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{event.slug}.ics"'
    entry = icalendar.Calendar.from_ical(response.content).walk("VEVENT")[0]
    assert str(entry["UID"]) == event_uid(event)
    assert entry["DESCRIPTION"] == "Event page: https://webcast.example/e/launch/"
    assert "/join/" not in response.content.decode()


def test_reminders_go_out_once_each_and_never_late():
    event = make_event(starts_at=timezone.now() + timedelta(days=3))
    early, = new_registrations(event, 1)
    mail.outbox.clear()
    assert send_due_reminders() == 0
    event.starts_at = timezone.now() + timedelta(hours=23)  # moved: the day-before reminder is due
    event.save()

    assert send_due_reminders() == 1
    assert send_due_reminders() == 0
    (reminder,) = mail.outbox
    assert reminder.subject == "Tomorrow: Launch"
    assert join_path(reminder) == early.get_join_url()
    assert len(reminder.attachments) == 1

    # Fifty minutes before the start the last reminder is due; someone registering now gets only
    # the confirmation, not a reminder right after it.
    event.starts_at = timezone.now() + timedelta(minutes=50)
    event.save(update_fields=["starts_at"])
    _late, = new_registrations(event, 1, start=1)
    mail.outbox.clear()
    assert send_due_reminders() == 1
    assert send_due_reminders() == 0
    assert [(m.to, m.subject) for m in mail.outbox] == [(["person0@example.com"], "Starting soon: Launch")]


def test_reminders_skip_the_waitlisted_cancelled_and_revoked():
    from events import registration as service

    event = make_event(capacity=2, starts_at=timezone.now() + timedelta(minutes=30))
    kept, revoked, _waiting = new_registrations(event, 3)
    for registration in (kept, revoked):  # registered before the reminder time
        registration.__class__.objects.filter(pk=registration.pk).update(reminder_level=0)
    service.revoke_link(revoked)
    mail.outbox.clear()
    assert send_due_reminders() == 1
    assert [m.to for m in mail.outbox] == [["person0@example.com"]]


def test_due_reminder_levels():
    event = make_event(starts_at=timezone.now())
    start = event.starts_at
    assert reminders.due_level(event, start - timedelta(days=2)) == 0
    assert reminders.due_level(event, start - timedelta(hours=24)) == 1
    assert reminders.due_level(event, start - timedelta(minutes=60)) == 2
    assert reminders.due_level(event, start + timedelta(minutes=5)) == 2


def test_promotion_and_cancellation_mails_name_the_change():
    from events import registration as service

    event = make_event(capacity=1)
    first, second = new_registrations(event, 2)
    mail.outbox.clear()
    service.cancel(first)
    assert mails_to("person0@example.com")[0].subject == "Cancelled: Launch"
    assert "Cancel your registration" not in mails_to("person0@example.com")[0].body
    promoted = mails_to("person1@example.com")[0]
    assert join_path(promoted) == second.get_join_url()
    assert len(promoted.attachments) == 1
