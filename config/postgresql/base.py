"""Django's PostgreSQL backend with two changes to how a request gets its pooled connection.

1. The pool's check before it hands out a connection costs no round trip. Django's check (with
   CONN_HEALTH_CHECKS) sends an empty query each time: a third of a registration's round trips,
   dear on a loaded machine where each one waits for the server to be scheduled. An idle
   connection has nothing to read; one the server closed (a restart, a terminated backend) has
   its end-of-file or the server's farewell waiting, so the socket is readable. Only then the
   real check runs, and throws the dead connection away.
2. A circuit breaker (config/breaker.py) around getting a connection: once getting one failed,
   one request at a time tries the database again (waiting up to DATABASE_POOL_TIMEOUT) and the
   others are turned away at once with the 503 "back in a moment" of events/views/errors.py,
   instead of each waiting the timeout; the first success lets everybody through again.

Set as the ENGINE in config/settings.py when DATABASE_URL names PostgreSQL.
"""

from __future__ import annotations

import select

import psycopg
from django.db.backends.postgresql import base
from psycopg_pool import ConnectionPool

from config.breaker import Breaker

# Per process and database alias, as Django keeps its pools.
_breakers: dict[str, Breaker] = {}


class CircuitOpen(psycopg.OperationalError):
    """Turned away without trying: the database failed, and another caller is trying it again."""


def check_without_round_trip(connection: psycopg.Connection) -> None:
    """The pool's check: quiet for a live idle connection; raises for one the server closed."""
    poll = select.poll()  # not select(): a busy server's descriptors pass FD_SETSIZE
    poll.register(connection.fileno(), select.POLLIN)
    if poll.poll(0):  # something to read while idle: a farewell, end of file (or a notice)
        ConnectionPool.check_connection(connection)


def breaker(alias: str) -> Breaker:
    return _breakers.get(alias) or _breakers.setdefault(alias, Breaker())


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def pool(self):
        pool = super().pool
        # Django passes its own check to the pool it makes (and refuses another one in the
        # options); this is that pool, the first time a connection asks for it.
        if pool is not None and pool._check is ConnectionPool.check_connection:
            pool._check = check_without_round_trip
        return pool

    def get_new_connection(self, conn_params):
        if self.pool is None:
            return super().get_new_connection(conn_params)
        gate = breaker(self.alias)
        if not gate.allow():
            raise CircuitOpen("PostgreSQL is not answering; another request is trying it again")
        try:
            connection = super().get_new_connection(conn_params)
        except BaseException:
            gate.failed()
            raise
        gate.succeeded()
        return connection
