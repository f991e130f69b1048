"""The registration form: the organiser's fields, and every kind of bad input refused with a clear
message, changing nothing."""

import pytest
from django.core import mail
from django.test import Client

from events import caches, ratelimit
from events.models import FieldMode, Question, Registration
from tests.conftest import scaled_out
from tests.events.helpers import make_event, question

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.both_modes]

Kind = Question.Kind
VALID = {"name": "Rita Registrant", "email": "rita@example.com"}


@pytest.fixture
def event():
    event = make_event(organisation_field=FieldMode.REQUIRED, job_title_field=FieldMode.OPTIONAL)
    question(event, "Why are you coming?", Kind.LONG_TEXT, position=1)
    question(event, "Your team", Kind.SHORT_TEXT, required=True, position=2)
    question(event, "Track", Kind.SINGLE_CHOICE, required=True, choices=("Product", "Engineering"), position=3)
    question(event, "Interests", Kind.MULTIPLE_CHOICE, choices=("Audio", "Video", "Q&A"), position=4)
    question(event, "I agree to the terms", Kind.CONSENT, required=True, position=5)
    return event


def answers(event, **overrides) -> dict:
    by_label = {q.label: q.field_name for q in event.questions.all()}
    data = {
        **VALID,
        "organisation": "Example Ltd",
        by_label["Your team"]: "Platform",
        by_label["Track"]: "Engineering",
        by_label["Interests"]: ["Audio", "Q&A"],
        by_label["I agree to the terms"]: "on",
    }
    for label, value in overrides.items():
        data[by_label.get(label, label)] = value
    return {key: value for key, value in data.items() if value is not None}


def test_the_form_asks_the_organisers_questions_and_stores_the_answers(client, event):
    page = client.get(event.get_absolute_url()).content.decode()
    for text in ("Organisation", "Job title", "Why are you coming?", "Your team", "Engineering", "Q&amp;A",
                 "I agree to the terms"):
        assert text in page

    response = client.post(event.get_absolute_url(), answers(event, **{"Why are you coming?": "To learn"}))

    assert (response.status_code, response["Location"]) == (303, "/e/launch/registered/")
    registration = Registration.objects.get()
    ids = {q.label: str(q.pk) for q in event.questions.all()}
    assert registration.organisation == "Example Ltd"
    assert registration.job_title == ""
    assert registration.answers == {
        ids["Why are you coming?"]: "To learn",
        ids["Your team"]: "Platform",
        ids["Track"]: "Engineering",
        ids["Interests"]: ["Audio", "Q&A"],
        ids["I agree to the terms"]: True,
    }


BAD_INPUT = [
    ("over-long name", {"name": "x" * 121}, "name", "Ensure this value has at most 120 characters (it has 121)."),
    ("over-long email", {"email": "a" * 250 + "@example.com"}, "email",
     "Ensure this value has at most 254 characters (it has 262)."),
    ("malformed email", {"email": "rita@"}, "email", "Enter a valid email address."),
    ("email with spaces", {"email": "rita @example.com"}, "email", "Enter a valid email address."),
    ("two emails", {"email": "a@example.com,b@example.com"}, "email", "Enter a valid email address."),
    ("blank name", {"name": "   "}, "name", "This field is required."),
    ("script tag in name", {"name": "<script>alert(1)</script>"}, "name",
     "Please use plain text: HTML tags such as &lt;script&gt; are not accepted."),
    ("tag in organisation", {"organisation": "<img src=x onerror=alert(1)>"}, "organisation",
     "Please use plain text: HTML tags such as &lt;script&gt; are not accepted."),
    ("tag in long answer", {"Why are you coming?": "hi </textarea><script>x()</script>"}, "Why are you coming?",
     "Please use plain text: HTML tags such as &lt;script&gt; are not accepted."),
    ("over-long short answer", {"Your team": "t" * 301}, "Your team",
     "Ensure this value has at most 300 characters (it has 301)."),
    ("over-long long answer", {"Why are you coming?": "w" * 4001}, "Why are you coming?",
     "Ensure this value has at most 4000 characters (it has 4001)."),
    ("missing required answer", {"Your team": None}, "Your team", "This field is required."),
    ("missing organisation", {"organisation": None}, "organisation", "This field is required."),
    ("wrong single choice", {"Track": "Marketing"}, "Track",
     "Select a valid choice. Marketing is not one of the available choices."),
    ("wrong multiple choice", {"Interests": ["Audio", "Cooking"]}, "Interests",
     "Select a valid choice. Cooking is not one of the available choices."),
    ("consent not given", {"I agree to the terms": None}, "I agree to the terms", "Please tick this box to register."),
    ("null character", {"name": "Rita\x00"}, "name", "Null characters are not allowed."),
]


@pytest.mark.parametrize(("case", "overrides", "field", "message"), BAD_INPUT, ids=[case[0] for case in BAD_INPUT])
def test_bad_input_gets_a_clear_error_and_changes_nothing(client, event, case, overrides, field, message):
    response = client.post(event.get_absolute_url(), answers(event, **overrides))

    assert response.status_code == 400
    form = response.context["form"]
    name = {q.label: q.field_name for q in event.questions.all()}.get(field, field)
    assert form.errors == {name: [message.replace("&lt;", "<").replace("&gt;", ">")]}
    page = response.content.decode()
    assert "Please correct the fields marked below." in page
    assert message.replace("&#x27;", "'") in page
    assert "<script>" not in page
    assert Registration.objects.count() == 0
    assert mail.outbox == []


def test_a_forged_post_without_the_csrf_token_is_refused(event):
    browser = Client(enforce_csrf_checks=True)
    browser.get(event.get_absolute_url())
    response = browser.post(event.get_absolute_url(), answers(event))
    assert response.status_code == 403
    assert b"CSRF verification failed" in response.content
    assert Registration.objects.count() == 0

    token = browser.cookies["csrftoken"].value
    response = browser.post(event.get_absolute_url(), answers(event) | {"csrfmiddlewaretoken": token})
    assert response.status_code == 303
    assert Registration.objects.count() == 1


def test_a_flood_from_one_address_is_refused_with_a_clear_message(client):
    event = make_event()
    limit = ratelimit.REGISTRATION.count
    for i in range(limit):
        response = client.post(event.get_absolute_url(), {"name": f"P{i}", "email": f"p{i}@example.com"})
        assert response.status_code == 303
    response = client.post(event.get_absolute_url(), {"name": "Flood", "email": "flood@example.com"})

    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= ratelimit.REGISTRATION.seconds
    assert b"We received too many requests from your network in a short time." in response.content
    assert Registration.objects.count() == limit
    assert not Registration.objects.filter(email="flood@example.com").exists()
    # Another address is not held up by the flood.
    other = client.post(event.get_absolute_url(), {"name": "Other", "email": "other@example.com"},
                        REMOTE_ADDR="192.0.2.7")
    assert other.status_code == 303


def test_a_flood_is_refused_before_its_form_is_judged(client):
    """The form is validated while the limiter counts (events/views/public.py); the verdict still
    comes first, so a flood learns nothing about its forms."""
    event = make_event()
    for i in range(ratelimit.REGISTRATION.count):
        client.post(event.get_absolute_url(), {"name": f"P{i}", "email": f"p{i}@example.com"})
    response = client.post(event.get_absolute_url(), {"name": "", "email": "not an address"})
    assert response.status_code == 429
    assert Registration.objects.count() == ratelimit.REGISTRATION.count


def test_a_verdict_never_read_does_not_answer_the_next_attempt():
    """An attempt's reply is read later (hit_soon); one its caller never read is read before the
    connection serves anyone else, so it can neither answer nor block another address."""
    limit = ratelimit.Limit("t", 2, 60)
    for at in (100.0, 100.1):
        ratelimit.hit(limit, "198.51.100.3", now=at)
    ratelimit.hit_soon(limit, "198.51.100.3", now=100.2)  # its third: refused, but nobody reads it
    assert ratelimit.hit(limit, "198.51.100.4", now=100.3) == ratelimit.Verdict(allowed=True, retry_after=60)
    assert ratelimit.hit_soon(limit, "198.51.100.3", now=100.4)() == ratelimit.Verdict(allowed=False, retry_after=60)


@pytest.mark.skipif(not scaled_out(), reason="Redis's script cache")
def test_an_attempt_on_a_redis_without_the_script_loads_it_and_counts_once():
    store = caches.store()
    known = store._attempt.sha
    store._attempt.sha = "0" * 40  # as after Redis restarted: NOSCRIPT
    limit = ratelimit.Limit("t", 1, 60)
    assert ratelimit.hit_soon(limit, "198.51.100.5", now=200.0)().allowed
    assert store._attempt.sha == known
    assert not ratelimit.hit(limit, "198.51.100.5", now=200.5).allowed


def test_the_rate_limit_window_slides():
    limit = ratelimit.Limit("t", 2, 60)
    verdicts = [ratelimit.hit(limit, "198.51.100.1", now=120.0 + i) for i in range(3)]
    assert [v.allowed for v in verdicts] == [True, True, False]
    assert verdicts[2].retry_after == 58  # when the attempt at 120 leaves the window
    assert not ratelimit.blocked(limit, "198.51.100.1", now=180.5).allowed  # 121 and 122 are still in it
    assert ratelimit.hit(limit, "198.51.100.1", now=181.5).allowed  # 120 and 121 have left it


def test_a_burst_across_a_minute_boundary_is_held_to_the_limit():
    """Fixed windows would let a burst straddling their boundary have twice the limit."""
    limit = ratelimit.Limit("t", 2, 60)
    verdicts = [ratelimit.hit(limit, "198.51.100.2", now=at) for at in (59.0, 59.5, 60.5, 61.0)]
    assert [v.allowed for v in verdicts] == [True, True, False, False]


def test_ipv6_addresses_are_limited_per_64_network(rf):
    one = rf.get("/", REMOTE_ADDR="2001:db8:1:2:aaaa::1")
    two = rf.get("/", REMOTE_ADDR="2001:db8:1:2:bbbb::2")
    assert ratelimit.client_address(one) == ratelimit.client_address(two) == "2001:db8:1:2::"
