"""The registrants' outbox: a registration and its email commit together; the relay hands due
mails to the workers; a mail is sent once however often its task runs; failures are retried,
backing off, then given up; SMTP never waits forever."""

import smtplib
import socket
import time

import pytest
from django.core import mail
from django.core.mail import get_connection
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from events import form_cache, outbox, relay
from events.models import Event, OutboxMail
from events.registration import RegistrationClosed, register
from events.tasks import send_outbox_mails
from tests.events.helpers import make_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def owed_only(monkeypatch) -> None:
    """Commits owe mails but relay nothing: the test relays itself."""
    monkeypatch.setattr(relay, "kick", lambda: None)


def test_a_registration_owes_its_email_in_the_outbox_and_the_relay_marks_it_sent(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as kicks:
        registration = register(make_event(), name="Ada", email="ada@example.com")
    assert len(kicks) == 1
    (owed,) = OutboxMail.objects.all()
    assert (owed.registration_id, owed.kind, owed.attempts) == (registration.pk, "confirmed", 1)
    assert owed.sent_at is not None and owed.failed_at is None
    assert [message.to for message in mail.outbox] == [["ada@example.com"]]
    assert outbox.depth() == outbox.Depth(pending=0, retrying=0, failed=0, oldest_pending_seconds=0.0)


def test_a_mail_is_sent_once_however_often_its_task_runs(owed_only):
    registration = register(make_event(), name="Ada", email="ada@example.com")
    owed = OutboxMail.objects.get(registration=registration)
    assert outbox.depth().pending == 1 and mail.outbox == []
    assert send_outbox_mails.apply(args=([owed.pk],)).get() == 1
    assert send_outbox_mails.apply(args=([owed.pk],)).get() == 0  # redelivered after a crash, say
    assert len(mail.outbox) == 1 and outbox.depth().pending == 0


def test_the_relay_hands_out_every_due_mail_in_chunks_and_the_command_reports_it(owed_only, capsys, monkeypatch):
    event = make_event()
    for i in range(3):
        register(event, name=f"P{i}", email=f"p{i}@example.com")
    monkeypatch.setattr(relay, "CHUNK", 2)
    tasks, publish = [], send_outbox_mails.apply_async
    monkeypatch.setattr(send_outbox_mails, "apply_async", lambda args, **options: tasks.append(args[0])
                        or publish(args, **options))
    call_command("relay_outbox")
    assert "relayed 3 emails" in capsys.readouterr().out
    assert [len(chunk) for chunk in tasks] == [2, 1]  # a burst shares tasks and mail connections
    assert sorted(m.to[0] for m in mail.outbox) == ["p0@example.com", "p1@example.com", "p2@example.com"]
    assert relay.relay() == 0  # nothing due: sent mails are never handed out again


def test_a_broker_that_refuses_leaves_the_mails_due_at_once(owed_only, monkeypatch):
    register(make_event(), name="Ada", email="ada@example.com")

    def refused(*args, **kwargs):
        raise ConnectionRefusedError("the broker is down")

    monkeypatch.setattr(send_outbox_mails, "apply_async", refused)
    with pytest.raises(ConnectionRefusedError):
        relay.relay()
    assert OutboxMail.objects.filter(outbox.PENDING, due_at__lte=timezone.now()).count() == 1
    assert outbox.claim_due(10) != []  # due again, not parked for the claim's lifetime


def test_a_failed_mail_is_retried_backing_off_then_given_up(settings, monkeypatch, owed_only):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    register(make_event(), name="Ada", email="ada@example.com")
    owed = OutboxMail.objects.get()

    def refuse(self, messages):
        raise OSError("550 mailbox unavailable")

    monkeypatch.setattr(type(get_connection()), "send_messages", refuse)
    assert outbox.deliver(owed.pk) is False
    owed.refresh_from_db()
    assert (owed.attempts, owed.failed_at, owed.last_error) == (1, None, "OSError: 550 mailbox unavailable")
    assert 25 < (owed.due_at - timezone.now()).total_seconds() <= 30  # the first retry waits 30 s
    assert outbox.depth().retrying == 1
    assert outbox.deliver(owed.pk) is False
    owed.refresh_from_db()
    assert owed.attempts == 2 and owed.failed_at is not None
    assert outbox.depth() == outbox.Depth(pending=0, retrying=0, failed=1, oldest_pending_seconds=0.0)
    assert [outbox.retry_delay(n) for n in (1, 2, 3, 8, 20)] == [30, 60, 120, 3600, 3600]


def test_a_kept_form_that_is_stale_never_registers_after_registration_closed(client):
    event = make_event()
    assert client.get(event.get_absolute_url()).status_code == 200  # the form definition is kept
    Event.objects.filter(pk=event.pk).update(registration_open=False)  # no signal: other processes' view
    assert form_cache.form_definition(event.slug)[0].registration_open is True
    with pytest.raises(RegistrationClosed):
        register(form_cache.form_definition(event.slug)[0], name="Ada", email="ada@example.com")
    assert not OutboxMail.objects.exists() and not event.registrations.exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the one-statement path is PostgreSQL's")
def test_a_kept_form_that_missed_a_new_seat_limit_counts_seats(client):
    event = make_event(capacity=1)
    register(event, name="Ada", email="ada@example.com")
    Event.objects.filter(pk=event.pk).update(capacity=None)
    stale = form_cache.form_definition(event.slug)[0]
    Event.objects.filter(pk=event.pk).update(capacity=1)  # the organiser set a limit again
    assert register(stale, name="Bea", email="bea@example.com").status == "waitlisted"


def test_smtp_gives_up_on_a_server_that_never_answers(settings):
    settings.EMAIL_TIMEOUT = 0.3
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # accepts the connection, never says hello
        smtp = get_connection("django.core.mail.backends.smtp.EmailBackend", host="127.0.0.1",
                              port=silent.getsockname()[1])
        assert smtp.timeout == 0.3
        began = time.monotonic()
        with pytest.raises(smtplib.SMTPServerDisconnected, match="timed out"):
            smtp.open()
        assert time.monotonic() - began < 5
