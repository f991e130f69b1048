"""Keeps a running engine in step with the stage: polls the state version and renews the lease.

The stage is persisted before it is broadcast, so the database is the one source both modes
share. The version is looked up every 50 ms by one plain statement, written once: through the ORM
the same lookup cost the mixer a quarter of a millisecond of CPU each time (the queryset built
and compiled again), 20 times a second; the statement alone, about a sixth of that.
"""

import logging
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection

from stage.models import StageState
from stage.state import ENDED
from streaming.holder import LeaseHolder
from streaming.stage_link import needs_mixer

log = logging.getLogger(__name__)

POLL_SECONDS = 0.05


class StageFollower(threading.Thread):
    """Feeds stage changes to `on_state` until the show ends, the lease is lost, or `stop` is set."""

    def __init__(self, holder: LeaseHolder, on_state: Callable[[dict], None], stop: threading.Event):
        super().__init__(name=f"stage-follower-{holder.event_id}", daemon=True)
        self.event_id = holder.event_id
        self.holder = holder
        self.on_state = on_state
        self.stop = stop
        self.version = -1
        self.ended = False
        self.lost_lease = False
        self._version_statement = version_statement()

    def run(self) -> None:
        try:
            self._follow()
        except Exception:
            log.exception("stage follower of event %s failed", self.event_id)
            self.stop.set()
        finally:
            connection.close()

    def _follow(self) -> None:
        next_renewal = 0.0
        while not self.stop.is_set():
            if time.monotonic() >= next_renewal:
                # Hours-long processes outlive database connections: the server closes idle ones.
                close_old_connections()
                if self.holder.renew() is False:
                    log.warning(
                        "mixer of event %s lost its lease (generation %s)", self.event_id, self.holder.generation
                    )
                    self.lost_lease = True
                    self.stop.set()
                    return
                next_renewal = time.monotonic() + settings.MIXER_RENEW_SECONDS
            try:
                self._poll()
            except DatabaseError:
                connection.close()  # the mix goes on as it was; the next poll tries again
            if self.ended or self.stop.is_set():
                return
            self.stop.wait(POLL_SECONDS)

    def _poll(self) -> None:
        version = self._version()
        if version is not None and version != self.version:
            state = StageState.objects.get(event_id=self.event_id).document
            self.version = state["version"]
            self.on_state(state)
            if not needs_mixer(state):
                self.ended = state["phase"] == ENDED
                self.stop.set()

    def _version(self) -> int | None:
        """The stage's version, None before the event has a stage."""
        with connection.cursor() as cursor:
            cursor.execute(self._version_statement, [self.event_id])
            row = cursor.fetchone()
        return None if row is None else row[0]


def version_statement() -> str:
    """SELECT version of one event's StageState, quoted for the connection's database."""
    quote = connection.ops.quote_name
    table, version = StageState._meta.db_table, StageState._meta.get_field("version").column
    event = StageState._meta.get_field("event").column
    return f"SELECT {quote(version)} FROM {quote(table)} WHERE {quote(event)} = %s"
