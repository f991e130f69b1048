"""Handing the outbox's due mails to the workers (the relay of the transactional outbox).

Three things run it: a thread in each process that committed mail (`kick`, after the commit, so
the request never waits on the broker and a burst of registrations is relayed in batches), beat
every OUTBOX_RELAY_SECONDS (mails of a process that died before relaying), and `manage.py
relay_outbox`. Any number may run at once: claims skip rows another holds. When the broker is
down the claimed mails are due again at once and the thread tries again, backing off; nothing
waits in memory but a wake-up.

Without a broker (the embedded default: tasks run eagerly) the kick relays at once, in the
committing thread, as the email was sent before.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time

from celery import current_app
from django.conf import settings
from django.db import connection

from events import outbox
from events.metrics import OUTBOX_RELAYED

log = logging.getLogger(__name__)

BATCH = 200
# Mails a task: one publish and one mail connection for a burst of registrations, while a lone
# registration's email still goes out at once, in a task of its own. A worker that dies mid-task
# has the whole task delivered again; the mails it sent are skipped.
CHUNK = 20
# Relays of one process start at least this far apart; the first after a quiet spell at once.
SPACING_SECONDS = 0.1
# The thread's wait after a failed relay, doubling up to the last.
BACKOFF_SECONDS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)


def relay(limit: int = BATCH) -> int:
    """Hand every due mail to the workers, CHUNK mails a task; returns how many mails. Raises if
    the broker refuses, leaving what was not handed out due."""
    from events.tasks import send_outbox_mails

    total = 0
    while ids := outbox.claim_due(limit):
        handed = 0
        try:
            # Eager (no broker), the tasks run here and no producer is needed.
            eager = settings.CELERY_TASK_ALWAYS_EAGER
            with contextlib.nullcontext() if eager else current_app.producer_or_acquire() as producer:
                for start in range(0, len(ids), CHUNK):
                    chunk = ids[start : start + CHUNK]
                    send_outbox_mails.apply_async((chunk,), producer=producer)
                    handed += len(chunk)
                    OUTBOX_RELAYED.inc(len(chunk))
        except Exception:
            outbox.unclaim(ids[handed:])
            raise
        total += handed
        if len(ids) < limit:
            break
    return total


class Kicker:
    """One relaying thread per process, woken after each commit that added mail."""

    def __init__(self) -> None:
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def kick(self) -> None:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            relay()
            return
        self._wake.set()
        if self._pid != os.getpid() or self._thread is None:  # first kick, or a forked child
            with self._lock:
                if self._pid != os.getpid() or self._thread is None:
                    self._pid = os.getpid()
                    self._thread = threading.Thread(target=self._run, name="outbox-relay", daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        failures, last = 0, -SPACING_SECONDS
        while True:
            self._wake.wait(BACKOFF_SECONDS[min(failures, len(BACKOFF_SECONDS)) - 1] if failures else None)
            # A burst shares relays: after one, the next waits out the spacing, gathering what
            # commits meanwhile (one relay a registration cost more than the registration).
            time.sleep(max(0.0, last + SPACING_SECONDS - time.monotonic()))
            self._wake.clear()
            last = time.monotonic()
            try:
                relay()
                failures = 0
            except Exception as error:
                failures += 1
                log.warning("the outbox could not be relayed (attempt %s); trying again: %r", failures, error)
            finally:
                connection.close()  # this thread's own


_kicker = Kicker()


def kick() -> None:
    """Relay soon: called after a transaction that added mail has committed."""
    _kicker.kick()
