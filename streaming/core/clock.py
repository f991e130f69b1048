"""Clocks for the mix loop: the real one, and a free-running one for tests and benchmarks."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """What the engine needs of time."""

    realtime: bool

    def monotonic(self) -> float:
        """Seconds on a clock that never jumps."""

    def time(self) -> float:
        """Wall clock, Unix seconds (for program date-time)."""

    def sleep_until(self, deadline: float) -> None:
        """Return once monotonic() has reached `deadline`."""


class RealtimeClock:
    """time.monotonic, time.time and real sleeping."""

    realtime = True

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    def sleep_until(self, deadline: float) -> None:
        delay = deadline - time.monotonic()
        if delay > 0:
            time.sleep(delay)


class FreeRunningClock:
    """Simulated time that jumps to each deadline instead of sleeping."""

    realtime = False

    def __init__(self, start_wall: float | None = None) -> None:
        self._now = 0.0
        self._wall = time.time() if start_wall is None else start_wall

    def monotonic(self) -> float:
        return self._now

    def time(self) -> float:
        return self._wall + self._now

    def sleep_until(self, deadline: float) -> None:
        self._now = max(self._now, deadline)
