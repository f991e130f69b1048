"""One mixer's hold on its lease, surviving a short database outage.

While the mixer cannot reach the database, no watchdog can see its lease as lapsed before the
moment its last renewal set, so the mixer may trust the lease until then, less one renewal period
for clock drift. A mixer that cannot renew by then stops, as a zombie would be stopped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection

from streaming import lease

log = logging.getLogger(__name__)


class LeaseHolder:
    """Renews and checks one generation's lease; knows how long it may trust it without the database."""

    def __init__(
        self,
        event_id: int,
        generation: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        renew: Callable[[int, int], bool] = lease.renew,
        holds: Callable[[int, int], bool] = lease.holds,
    ) -> None:
        self.event_id = event_id
        self.generation = generation
        self.clock = clock
        self._renew = renew
        self._holds = holds
        self.trusted_until = clock() + self._trust()  # `lease.start` has just renewed it

    def renew(self) -> bool | None:
        """True: renewed. False: lost to a newer generation or lapsed. None: the database is out."""
        try:
            renewed = self._renew(self.event_id, self.generation)
        except DatabaseError:
            log.warning("mixer of event %s could not renew its lease; trying again", self.event_id)
            connection.close()
            return None if self.clock() < self.trusted_until else False
        if renewed:
            self.trusted_until = self.clock() + self._trust()
        return renewed

    def may_publish(self) -> bool:
        """The fencing check before every publish; without the database, the lease as last renewed."""
        try:
            return self._holds(self.event_id, self.generation)
        except DatabaseError:
            connection.close()
            return self.clock() < self.trusted_until

    @contextmanager
    def renewing(self) -> Iterator[None]:
        """Keep the lease while the mixer finishes the show: the stage follower, which renews it
        during the show, has stopped, and an hour's replay takes longer than a lease lasts."""
        done = threading.Event()

        def renew_until_done() -> None:
            try:
                while not done.wait(settings.MIXER_RENEW_SECONDS):
                    close_old_connections()
                    self.renew()
            finally:
                connection.close()

        renewer = threading.Thread(target=renew_until_done, name=f"lease-renewer-{self.event_id}", daemon=True)
        renewer.start()
        try:
            yield
        finally:
            done.set()
            renewer.join()

    @staticmethod
    def _trust() -> float:
        return settings.MIXER_LEASE_SECONDS - settings.MIXER_RENEW_SECONDS
