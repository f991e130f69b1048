"""A circuit breaker for one dependency, per process: the pure core.

During an outage every caller would wait out the connection timeout before its error. After a
failure the breaker is open: one caller at a time (the probe) may try the dependency, and every
other caller is turned away at once while the probe is out. The probe's success closes the
breaker; its failure keeps it open, and the next caller probes.

There is no pause between probes, on purpose: a pause would delay recovery for its length, and a
mixer renewing its lease (a single caller, in a process of its own) must get the database back as
soon as it answers. Every probe must end in `succeeded` or `failed` (the caller's try/except), or
its turn stays taken.
"""

from __future__ import annotations

import threading


class Breaker:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open = False
        self._probing = False

    @property
    def is_open(self) -> bool:
        return self._open

    @property
    def probing(self) -> bool:
        return self._probing

    def allow(self) -> bool:
        """Whether the caller may try the dependency now (when open: it is the probe)."""
        if not self._open:  # the common case: no lock taken
            return True
        with self._lock:
            if not self._open:
                return True
            if self._probing:
                return False  # another caller's probe is out
            self._probing = True
            return True

    def succeeded(self) -> None:
        with self._lock:
            self._open = self._probing = False

    def failed(self) -> None:
        with self._lock:
            self._open, self._probing = True, False
