"""The PostgreSQL backend (config/postgresql/base.py) against a PostgreSQL of the test's own, which
it stops and starts: the pool's check without a round trip, and the circuit breaker in an outage."""

import threading
import time

import pytest
from django.db import OperationalError
from django.db.utils import ConnectionHandler
from psycopg_pool import ConnectionPool

from config.postgresql import base
from events.harness import wait_for
from tests.supervision import throwaway

pytestmark = pytest.mark.skipif(
    bool(throwaway.missing_programs()), reason=f"needs PostgreSQL's programs: {throwaway.missing_programs()}"
)

ALIAS = "outage_drill"
POOL_TIMEOUT = 2.0


@pytest.fixture
def postgres():
    server = throwaway.Postgres()
    server.start()
    yield server
    server.remove()


@pytest.fixture
def connections(postgres, django_db_blocker):
    """Django connections (one per thread) to `postgres` through the backend, with a pool of two
    (not the test database, so pytest-django's guard is lifted for them)."""
    handler = ConnectionHandler({"default": {"ENGINE": "django.db.backends.dummy"}, ALIAS: {
        "ENGINE": "config.postgresql", "NAME": postgres.name, "USER": "postgres", "HOST": "127.0.0.1",
        "PORT": str(postgres.port), "CONN_MAX_AGE": 0, "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {"pool": {"min_size": 1, "max_size": 2, "timeout": POOL_TIMEOUT, "reconnect_timeout": 1.0}},
    }})
    with django_db_blocker.unblock():
        yield handler
    handler[ALIAS].close_pool()
    base._breakers.pop(ALIAS, None)


def select_one(handler: ConnectionHandler) -> int:
    """One request's worth of database: a connection from the pool, a query, the connection back."""
    connection = handler[ALIAS]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone()[0]
    finally:
        connection.close()


def test_a_live_pooled_connection_is_handed_out_without_a_query_and_a_dead_one_is_replaced(
        connections, postgres, monkeypatch):
    assert select_one(connections) == 1
    full_checks = []
    real_check = ConnectionPool.check_connection
    monkeypatch.setattr(ConnectionPool, "check_connection",
                        staticmethod(lambda connection: full_checks.append(1) or real_check(connection)))
    assert select_one(connections) == 1
    assert full_checks == []  # idle and alive: nothing was sent to ask
    # The server ends the pooled connection (as a restart does): it is checked, thrown away, replaced.
    others = "FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
    postgres.query(f"SELECT pg_terminate_backend(pid) {others}", postgres.name)
    # pg_terminate_backend only signals: the backend says goodbye and exits a moment later.
    wait_for(lambda: postgres.query(f"SELECT count(*) {others}", postgres.name)[0][0] == 0, 10, "the backend to end")
    assert select_one(connections) == 1
    assert full_checks, "the dead connection was handed out unchecked"


def test_in_an_outage_one_request_tries_the_database_and_the_others_are_turned_away_at_once(connections, postgres):
    assert select_one(connections) == 1
    breaker = base.breaker(ALIAS)
    postgres.stop()
    with pytest.raises(OperationalError):  # the first one to meet the outage waits the pool's timeout
        select_one(connections)
    assert breaker.is_open

    probe_failed = []

    def probe():
        try:
            select_one(connections)
        except OperationalError as error:
            probe_failed.append(error)

    prober = threading.Thread(target=probe)
    prober.start()
    wait_for(lambda: breaker.probing, 5, "the probe to go out")
    began = time.monotonic()
    with pytest.raises(OperationalError) as turned_away:
        select_one(connections)
    assert isinstance(turned_away.value.__cause__, base.CircuitOpen)
    assert time.monotonic() - began < POOL_TIMEOUT / 2  # at once, not after the pool's timeout
    prober.join()
    assert probe_failed and not isinstance(probe_failed[0].__cause__, base.CircuitOpen)
    assert breaker.is_open and not breaker.probing

    postgres.start()
    wait_for(lambda: _answers(connections), 10 + POOL_TIMEOUT, "the database through the breaker again")
    assert not breaker.is_open
    assert [select_one(connections) for _ in range(3)] == [1, 1, 1]


def _answers(handler: ConnectionHandler) -> bool:
    try:
        return select_one(handler) == 1
    except OperationalError:
        return False
