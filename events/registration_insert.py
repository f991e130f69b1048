"""The common registration in one statement: the row, the email it is owed in the outbox, and the
event's rules checked, in one round trip to PostgreSQL (autocommitted, so all or nothing).

Registering is the platform's busiest write. The general path (events/registration.py) takes a
transaction: BEGIN, INSERT, INSERT, COMMIT, four round trips. For an event without a seat limit
the same rows go in one `WITH … INSERT … INSERT` statement instead; its `WHERE` re-reads the event
row, so a process holding a slightly old copy of the event (events/form_cache.py) never registers
anyone after registration closed or a seat limit or approval was switched on: it gets None and
takes the general path with a fresh copy.

The statement is prepared on each pooled connection (after the `prepare_threshold` of
config/settings.py, five uses): parsing and planning it anew cost the server about 0.3 ms, as much
as running it. Django's own cursors bind parameters on the client and are never prepared; this
one binds them on the server.
"""

from __future__ import annotations

from functools import cache

from django.db import DEFAULT_DB_ALIAS, connections

from events.models import Event, OutboxMail, Registration


def applies() -> bool:
    """Only PostgreSQL takes an INSERT inside WITH; elsewhere the general path runs."""
    return connections[DEFAULT_DB_ALIAS].vendor == "postgresql"


def insert_with_mail(registration: Registration, requires_approval: bool) -> Registration | None:
    """INSERT `registration` (unsaved) and its email (of its status) if the event still takes
    registrations without a seat limit and with `requires_approval` as given; returns it saved,
    or None when the event's rules changed. A duplicate email raises IntegrityError."""
    # The wrapper itself, not django.db.connection: every attribute read through that proxy
    # looks the wrapper up again in a context-local, about a hundred times a registration.
    database = connections[DEFAULT_DB_ALIAS]
    fields, sql = _statement()
    values = [f.get_db_prep_save(f.pre_save(registration, add=True), database) for f in fields]
    with _server_binding_cursor(database) as cursor:
        cursor.execute(sql, [*values, registration.event_id, requires_approval, str(registration.status)])
        row = cursor.fetchone()
    if row is None:
        return None
    registration.pk = row[0]
    registration._state.adding = False
    registration._state.db = database.alias
    return registration


@cache
def _statement() -> tuple[list, str]:
    """The registration's fields and the statement's text (the same for every registration)."""
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    fields = [f for f in Registration._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(quote(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    event_table, mail_table = quote(Event._meta.db_table), quote(OutboxMail._meta.db_table)
    sql = (
        f"WITH registration AS ("
        f" INSERT INTO {quote(Registration._meta.db_table)} ({columns}) SELECT {placeholders} FROM {event_table}"
        f" WHERE id = %s AND registration_open AND capacity IS NULL AND requires_approval = %s RETURNING id"
        f"), mail AS ("
        f" INSERT INTO {mail_table} (registration_id, kind, attempts, last_error)"
        f" SELECT id, %s, 0, '' FROM registration"
        f") SELECT id FROM registration"
    )
    return fields, sql


def _server_binding_cursor(database):
    """A cursor of Django's (its error translation, its query log) whose parameters are bound on
    the server, so psycopg prepares a statement that runs often."""
    from django.db.backends.postgresql.base import ServerBindingCursor  # psycopg is only needed here

    database.ensure_connection()
    database.validate_thread_sharing()
    raw = ServerBindingCursor(database.connection)
    return database.make_debug_cursor(raw) if database.queries_logged else database.make_cursor(raw)
