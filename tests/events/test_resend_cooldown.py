"""A registrant's link is sent again at most once per LINK_RESENDS window: whoever posts the public
form with somebody's address over and over gets the same answer every time, and the address gets
one extra mail, not a flood."""

import pytest
from django.core import mail

from events import ratelimit
from events import registration as service
from tests.events.helpers import mails_to, make_event

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.both_modes]  # mail goes on commit

VICTIM = {"name": "Vic", "email": "vic@example.com"}


def test_registering_the_same_address_again_and_again_mails_it_twice_and_answers_the_same(client):
    event = make_event()
    answers = [client.post(event.get_absolute_url(), VICTIM, REMOTE_ADDR=f"192.0.2.{i}") for i in range(10)]
    assert {(response.status_code, response["Location"]) for response in answers} == {(303, "/e/launch/registered/")}
    assert len(mails_to("vic@example.com")) == 2  # the registration, then one re-send
    assert event.registrations.count() == 1


def test_the_cooldown_is_per_registration(client):
    first, second = make_event("first"), make_event("second")
    for event in (first, second):
        for _ in range(3):
            client.post(event.get_absolute_url(), VICTIM)
    assert len(mails_to("vic@example.com")) == 4


def test_the_next_window_sends_again(monkeypatch):
    event = make_event()
    registration = service.register(event, **VICTIM)
    clock = [1_000_000.0]
    real_hit = ratelimit.hit
    monkeypatch.setattr(ratelimit, "hit", lambda limit, who, now=None: real_hit(limit, who, now=clock[0]))
    assert service.resend_link(registration) is True
    assert service.resend_link(registration) is False
    clock[0] += ratelimit.LINK_RESENDS.seconds
    assert service.resend_link(registration) is True
    assert len(mails_to("vic@example.com")) == 3


def test_an_organisers_resend_waits_too_but_a_replaced_link_is_always_sent():
    event = make_event()
    registration = service.register(event, **VICTIM)
    assert service.resend_link(registration) is True
    assert service.resend_link(registration) is False
    service.revoke_link(registration)
    assert service.resend_link(registration) is True  # the new link must reach them
    sent = mails_to("vic@example.com")
    assert len(sent) == 3
    assert registration.get_join_url() in sent[-1].body
    assert len(mail.outbox) == 3
