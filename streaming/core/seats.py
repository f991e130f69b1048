"""Low-latency seats: how many viewers one web process lets play low-latency HLS at once.

A low-latency viewer costs the process that serves its HLS about 8 requests a second (a blocking
playlist reload and a part every quarter second), a viewer of whole segments about 2.3: past a
number of the first, one daphne falls behind everyone. So a viewer is seated when granted a media
pass while a seat is free, and plays low latency; the rest play whole segments. A seat is held by
its viewer (a registration id), kept by every later grant and freed a pass lifetime after the
last one: a viewer who left, or whose link was revoked, stops renewing. A viewer granted without a
seat is remembered the same way and stays unseated while they renew: their player already plays
whole segments and will not change mid-play, and a seat given to it would be one no one uses.

Pure and thread-safe: the ASGI front grants on the event loop, Django in its worker thread.
"""

from __future__ import annotations

import threading
from collections import OrderedDict


class Seats:
    """`seats` low-latency seats (0: as many as there are viewers), each held until `lifetime`
    seconds after its holder's last grant."""

    def __init__(self, seats: int, lifetime: float):
        if seats < 0 or lifetime <= 0:
            raise ValueError(f"seats must be 0 (unlimited) or more and the lifetime positive, not {seats}, {lifetime}")
        self.seats = seats
        self.lifetime = lifetime
        # holder → (last grant, seated), the least recently granted first: what expires comes first.
        self._viewers: OrderedDict[int, tuple[float, bool]] = OrderedDict()
        self._seated = 0
        self._lock = threading.Lock()

    def take(self, holder: int, now: float) -> bool:
        """Whether `holder`, granted a pass at `now`, plays low latency: seated before and still
        held, or a seat free now. O(1) but for the expired records it drops, each once."""
        if not self.seats:
            return True
        with self._lock:
            self._expire(now)
            known = self._viewers.pop(holder, None)
            seated = known[1] if known is not None else self._seated < self.seats
            if known is None and seated:
                self._seated += 1
            self._viewers[holder] = (now, seated)
            return seated

    def seated(self, now: float) -> int:
        """How many seats are held at `now`."""
        with self._lock:
            self._expire(now)
            return self._seated

    def _expire(self, now: float) -> None:
        # Grants come in time order (give or take a clock step back, which only keeps a record a
        # little longer), so the expired records are the oldest.
        while self._viewers:
            holder, (granted_at, seated) = next(iter(self._viewers.items()))
            if now - granted_at < self.lifetime:
                return
            del self._viewers[holder]
            self._seated -= seated
