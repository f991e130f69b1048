"""The organisers' admin: questions per event, registrations searched, filtered and acted upon."""

import pytest
from django.core import mail

from events.models import Event, Question, Registration
from tests.events.helpers import join_path, mails_to, make_event, new_registrations, statuses

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.both_modes]

CHANGELIST = "/admin/events/registration/"


def act(admin_client, action: str, registrations, url: str = CHANGELIST):
    return admin_client.post(url, {"action": action, "_selected_action": [r.pk for r in registrations]})


def test_approve_and_reject_tell_the_registrants(admin_client):
    event = make_event(requires_approval=True)
    alice, bob = new_registrations(event, 2)
    mail.outbox.clear()
    act(admin_client, "approve", [alice])
    act(admin_client, "reject", [bob])
    assert statuses(event) == {"person0@example.com": "confirmed", "person1@example.com": "rejected"}
    assert [m.subject for m in mail.outbox] == ["Approved: you're registered for Launch",
                                                "Your registration for Launch"]


def test_cancel_frees_seats_for_the_waitlist(admin_client):
    event = make_event(capacity=1)
    first, _ = new_registrations(event, 2)
    act(admin_client, "cancel", [first])
    assert statuses(event) == {"person0@example.com": "cancelled", "person1@example.com": "confirmed"}


def test_revoke_then_resend_replaces_the_link(admin_client, client):
    (registration,) = new_registrations(make_event(), 1)
    old_link = registration.get_join_url()
    act(admin_client, "revoke_link", [registration])
    assert client.get(old_link).status_code == 404
    mail.outbox.clear()
    act(admin_client, "resend_link", [registration])
    (message,) = mails_to("person0@example.com")
    new_link = join_path(message)
    assert new_link != old_link
    assert client.get(new_link).status_code == 302


def test_export_action_streams_the_selected_registrants(admin_client):
    event = make_event()
    question_ = Question.objects.create(event=event, label="Team", kind=Question.Kind.SHORT_TEXT)
    chosen, _ = new_registrations(event, 2)
    Registration.objects.filter(pk=chosen.pk).update(answers={str(question_.pk): "Blue"})
    response = act(admin_client, "export", [chosen])
    assert response.streaming
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert len(lines) == 2
    assert "Team" in lines[0] and "person0@example.com" in lines[1] and "Blue" in lines[1]


def test_search_and_filters(admin_client):
    event = make_event(capacity=1)
    new_registrations(event, 2)
    page = admin_client.get(CHANGELIST, {"q": "person1"}).content.decode()
    assert "person1@example.com" in page and "person0@example.com" not in page
    page = admin_client.get(CHANGELIST, {"status__exact": "waitlisted"}).content.decode()
    assert "person1@example.com" in page and "person0@example.com" not in page
    detail = admin_client.get(f"{CHANGELIST}{event.registrations.first().pk}/change/")
    assert detail.status_code == 200


def test_raising_capacity_in_the_admin_promotes_the_waitlist(admin_client):
    event = make_event(capacity=1)
    new_registrations(event, 2)
    form = admin_client.get(f"/admin/events/event/{event.pk}/change/").context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "producers"}
    data |= {
        "starts_at_0": event.starts_at.strftime("%Y-%m-%d"), "starts_at_1": event.starts_at.strftime("%H:%M:%S"),
        "duration": "01:00:00", "capacity": "2", "registration_open": "on",
    }
    for prefix in ("questions", "presenters", "segments"):
        data |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
    response = admin_client.post(f"/admin/events/event/{event.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    assert Event.objects.get(pk=event.pk).capacity == 2
    assert statuses(event) == {"person0@example.com": "confirmed", "person1@example.com": "confirmed"}
    assert mails_to("person1@example.com")[-1].subject == "A seat opened up: you're in for Launch"


def test_a_choice_question_needs_choices(admin_client):
    event = make_event()
    question_ = Question(event=event, label="Track", kind=Question.Kind.SINGLE_CHOICE, choices="Only one")
    with pytest.raises(Exception) as refused:
        question_.full_clean()
    assert refused.value.message_dict["choices"] == ["A choice question needs at least two choices, one per line."]
    Question(event=event, label="Track", kind=Question.Kind.SINGLE_CHOICE, choices="A\nB").full_clean()
