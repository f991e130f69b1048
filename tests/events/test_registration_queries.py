"""What a registration costs the database, pinned: one statement on PostgreSQL (the registration
and its email in the outbox, events/registration_insert.py), the general path's transaction on
SQLite. Then, where tasks run eagerly (the embedded default, and the tests), the relay sends the
email within the request: a claim (one statement on PostgreSQL) and the send's transaction; with
a broker, the relay's thread does that after the request. The event's form definition comes from
the process's copy (events/form_cache.py)."""

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from events.models import OutboxMail, Registration
from tests.events.helpers import make_event, new_registrations

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.both_modes]


@pytest.fixture(autouse=True)
def _nothing_prepared_yet():
    """Each test starts on new pooled connections that have prepared nothing: pooled connections
    outlive a test, and one an earlier test prepared the statement on runs it prepared from its
    first use (which Django's query log records without its text)."""
    if connection.vendor == "postgresql":
        connection.close()
        connection.close_pool()


def test_a_registration_is_one_statement_on_postgresql_and_one_short_transaction_on_sqlite(client):
    event = make_event()
    assert client.get(event.get_absolute_url()).status_code == 200  # the form definition, kept
    with CaptureQueriesContext(connection) as queries:
        response = client.post(event.get_absolute_url(), {"name": "Ada", "email": "ada@example.com"})
    assert response.status_code == 303
    statements = [query["sql"] for query in queries]
    relay_statements = RELAY_STATEMENTS[connection.vendor]
    relaying = len(relay_statements) if settings.CELERY_TASK_ALWAYS_EAGER else 0
    registering = statements[: len(statements) - relaying]
    if connection.vendor == "postgresql":
        assert [sql[:28] for sql in registering] == ["WITH registration AS ( INSER"], statements
    else:
        assert [sql.split(" ", 1)[0] for sql in registering] == ["BEGIN", "SELECT", "INSERT", "INSERT", "COMMIT"]
    assert [sql.split(" ", 1)[0] for sql in statements[len(registering):]] == relay_statements[:relaying]
    registration = Registration.objects.get(event=event, email="ada@example.com")
    assert list(OutboxMail.objects.filter(registration=registration).values_list("kind", flat=True)) == ["confirmed"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the one statement is PostgreSQL's")
def test_the_one_statement_is_prepared_on_a_connection_that_ran_it_five_times():
    event = make_event()
    new_registrations(event, 4)  # one connection: no request ends in between to give it back
    assert _prepared_registrations() == 0
    new_registrations(event, 2, start=4)
    assert _prepared_registrations() == 1
    assert event.registrations.count() == OutboxMail.objects.filter(registration__event=event).count() == 6


def _prepared_registrations() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'WITH registration AS%%'")
        return cursor.fetchone()[0]


# Claim the due mail (its due time moved on, so no other relay takes it: on PostgreSQL one UPDATE
# of the rows it locks), then send it and mark it sent.
SENDING = ["BEGIN", "SELECT", "UPDATE", "COMMIT"]
RELAY_STATEMENTS = {"postgresql": ["UPDATE", *SENDING], "sqlite": ["BEGIN", "SELECT", "UPDATE", "COMMIT", *SENDING]}
