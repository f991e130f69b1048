"""Registration rules: one registration per email, capacity and waitlist, approval, open and closed."""

import pytest
from django.core import mail

from events import registration as service
from events.models import Registration
from events.registration import RegistrationClosed, register
from tests.events.helpers import join_path, mails_to, make_event, new_registrations, statuses

# Transactional: mails go out when a registration commits, as in production.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.both_modes]

Status = Registration.Status


def test_the_same_email_never_makes_a_second_registration_and_gets_the_link_again():
    event = make_event()
    first = register(event, name="Rita", email="Rita@Example.com ")
    again = register(event, name="Someone else", email="  rita@example.COM")

    assert again.pk == first.pk
    assert list(event.registrations.values_list("name", "email", "status")) == [
        ("Rita", "rita@example.com", "confirmed")
    ]
    sent = mails_to("rita@example.com")
    assert [m.subject for m in sent] == ["You're registered: Launch"] * 2
    assert join_path(sent[0]) == join_path(sent[1]) == first.get_join_url()


def test_the_page_says_the_same_whether_the_email_was_new_or_known(client):
    event = make_event()
    new = client.post(event.get_absolute_url(), {"name": "Rita", "email": "rita@example.com"}, follow=True)
    known = client.post(event.get_absolute_url(), {"name": "Rita", "email": "RITA@example.com"}, follow=True)
    assert new.redirect_chain == known.redirect_chain == [("/e/launch/registered/", 303)]
    assert new.content == known.content
    assert b"sent your personal link" in new.content
    assert event.registrations.count() == 1


def test_a_full_event_waitlists_newcomers_in_the_order_they_came():
    event = make_event(capacity=2)
    new_registrations(event, 4)
    assert statuses(event) == {
        "person0@example.com": "confirmed",
        "person1@example.com": "confirmed",
        "person2@example.com": "waitlisted",
        "person3@example.com": "waitlisted",
    }
    assert [m.subject for m in mails_to("person2@example.com")] == ["You're on the waitlist for Launch"]
    assert "Your personal link to the webcast" not in mails_to("person2@example.com")[0].body
    assert mails_to("person2@example.com")[0].attachments == []


def test_cancelling_a_seat_promotes_the_first_waitlisted_and_tells_them():
    event = make_event(capacity=2)
    confirmed, _, first_waiting, _ = new_registrations(event, 4)
    mail.outbox.clear()

    service.cancel(confirmed)

    assert statuses(event) == {
        "person0@example.com": "cancelled",
        "person1@example.com": "confirmed",
        "person2@example.com": "confirmed",
        "person3@example.com": "waitlisted",
    }
    assert [(m.to[0], m.subject) for m in mail.outbox] == [
        ("person0@example.com", "Cancelled: Launch"),
        ("person2@example.com", "A seat opened up: you're in for Launch"),
    ]
    assert join_path(mail.outbox[1]) == first_waiting.get_join_url()
    assert event.registrations.filter(status=Status.CONFIRMED).count() == 2


def test_cancelling_a_waitlisted_registration_promotes_nobody():
    event = make_event(capacity=1)
    _, waiting, _last = new_registrations(event, 3)
    service.cancel(waiting)
    assert statuses(event)["person2@example.com"] == "waitlisted"
    assert service.cancel(waiting).status == "cancelled"  # cancelling twice changes nothing
    assert event.registrations.filter(status=Status.CONFIRMED).count() == 1


def test_raising_the_capacity_gives_seats_to_the_waitlist():
    event = make_event(capacity=1)
    new_registrations(event, 3)
    event.capacity = 2
    event.save()
    promoted = service.fill_seats(event)
    assert [r.email for r in promoted] == ["person1@example.com"]
    assert statuses(event)["person2@example.com"] == "waitlisted"


def test_approval_mode_waits_for_the_organiser_who_approves_or_rejects():
    event = make_event(requires_approval=True, capacity=1)
    alice, bob, carol = new_registrations(event, 3)
    assert set(statuses(event).values()) == {"pending"}
    assert mails_to("person0@example.com")[0].subject == "Your registration for Launch awaits approval"

    service.approve(alice)
    service.approve(bob)  # the one seat is taken: bob waits for it
    service.reject(carol)

    assert statuses(event) == {
        "person0@example.com": "confirmed",
        "person1@example.com": "waitlisted",
        "person2@example.com": "rejected",
    }
    assert mails_to("person0@example.com")[-1].subject == "Approved: you're registered for Launch"
    assert join_path(mails_to("person0@example.com")[-1]) == alice.get_join_url()
    assert mails_to("person1@example.com")[-1].subject == "You're on the waitlist for Launch"
    assert mails_to("person2@example.com")[-1].subject == "Your registration for Launch"
    assert "could not accept" in mails_to("person2@example.com")[-1].body

    service.cancel(alice)
    assert statuses(event)["person1@example.com"] == "confirmed"


def test_a_rejected_registrant_registering_again_changes_nothing_and_gets_nothing():
    event = make_event(requires_approval=True)
    (rejected,) = new_registrations(event, 1)
    service.reject(rejected)
    mail.outbox.clear()
    register(event, name="Person 0", email="person0@example.com")
    assert statuses(event) == {"person0@example.com": "rejected"}
    assert mail.outbox == []


def test_a_revoked_registrant_registering_again_gets_no_new_link():
    event = make_event()
    (revoked,) = new_registrations(event, 1)
    service.revoke_link(revoked)
    mail.outbox.clear()
    register(event, name="Person 0", email="person0@example.com")
    assert mail.outbox == []
    assert Registration.objects.get(pk=revoked.pk).access_key == ""


def test_a_cancelled_registrant_who_registers_again_joins_the_back_of_the_queue():
    event = make_event(capacity=1)
    first, _waiting = new_registrations(event, 2)
    service.cancel(first)  # waiting takes the seat
    again = register(event, name="Person 0 again", email="PERSON0@example.com", organisation="Org")
    assert again.pk == first.pk
    assert (again.status, again.name, again.organisation) == ("waitlisted", "Person 0 again", "Org")
    assert event.registrations.count() == 2


def test_closed_registration_says_so_and_accepts_nobody(client):
    event = make_event(registration_open=False)
    page = client.get(event.get_absolute_url())
    assert b"Registration for this event is closed." in page.content
    assert b"<form" not in page.content

    response = client.post(event.get_absolute_url(), {"name": "Rita", "email": "rita@example.com"})
    assert response.status_code == 403
    assert b"Registration for this event is closed." in response.content
    with pytest.raises(RegistrationClosed):
        register(event, name="Rita", email="rita@example.com")
    assert event.registrations.count() == 0
    assert mail.outbox == []


def test_a_full_event_page_says_newcomers_join_the_waitlist(client):
    event = make_event(capacity=1)
    assert b"fully booked" not in client.get(event.get_absolute_url()).content
    new_registrations(event, 1)
    assert b"This event is fully booked. Register to join the waitlist" in client.get(event.get_absolute_url()).content
