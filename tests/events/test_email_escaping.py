"""User-supplied texts in emails: the HTML part shows them escaped, as text, never as markup."""

import html

import pytest
from django.core import mail

from events import registration as service
from events.models import Presenter
from tests.events.helpers import make_event

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.both_modes]  # mail goes on commit

IMG = '<img src=x onerror="window.__xss=1">'
SCRIPT = "<script>window.__xss=1</script>"


def html_part(message) -> str:
    ((content, mimetype),) = message.alternatives
    assert mimetype == "text/html"
    return content


def assert_escaped(page: str, *payloads: str) -> None:
    for payload in payloads:
        assert payload not in page
        assert html.escape(payload, quote=False) in page or html.escape(payload) in page
    assert "<script" not in page and "<img" not in page


@pytest.mark.parametrize("kind", ["confirmed", "waitlisted", "cancelled"])
def test_a_registrants_email_escapes_their_name_and_the_events_title(kind):
    event = make_event(title=f"Show {SCRIPT}", capacity=0 if kind == "waitlisted" else None)
    registration = service.register(event, name=f"Reg {IMG}", email="reg@example.com")
    if kind == "cancelled":
        service.cancel(registration)
    message = mail.outbox[-1]
    assert_escaped(html_part(message), IMG, SCRIPT)
    assert f"Reg {IMG}" in message.body  # the plain-text part is text: nothing to escape


def test_a_presenters_invitation_escapes_their_name_and_the_events_title():
    event = make_event(title=f"Show {IMG}")
    Presenter.objects.create(event=event, name=f"Pia {SCRIPT}", email="pia@example.com")
    (message,) = mail.outbox
    assert_escaped(html_part(message), IMG, SCRIPT)
