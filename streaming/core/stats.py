"""How a mixer keeps time and publishes, counted for the operators (reported once a second).

Pure: the engine feeds it tick lateness and publishing times from its own clock; `report`
returns the figures since the mixer started (totals) and since the last report (the worst lag
and delay), and starts a new interval.
"""

from __future__ import annotations

import threading

# A tick that starts later than this after its deadline counts as late (a tick is 20 ms).
LATE_SECONDS = 0.02


class MixStats:
    def __init__(self) -> None:
        self._lock = threading.Lock()  # ticks come from the mix loop, publishing from its own thread
        self.ticks = 0
        self.late_ticks = 0
        self.published = 0
        self.fenced = 0
        self._worst_lag = 0.0
        self._worst_delay = 0.0
        self._last_delay: float | None = None

    def tick(self, lag: float) -> None:
        """A tick started `lag` seconds after its deadline."""
        with self._lock:
            self.ticks += 1
            if lag > LATE_SECONDS:
                self.late_ticks += 1
            self._worst_lag = max(self._worst_lag, lag)

    def segment(self, delay: float, published: bool) -> None:
        """A segment left the mix loop `delay` seconds before it was in the playlist (or fenced off)."""
        with self._lock:
            if published:
                self.published += 1
                self._last_delay = delay
                self._worst_delay = max(self._worst_delay, delay)
            else:
                self.fenced += 1

    def report(self) -> dict:
        with self._lock:
            figures = {
                "type": "stats",
                "ticks": self.ticks,
                "late_ticks": self.late_ticks,
                "tick_lag_max_s": round(self._worst_lag, 4),
                "segments_published": self.published,
                "segments_fenced": self.fenced,
                "publish_delay_last_s": None if self._last_delay is None else round(self._last_delay, 4),
                "publish_delay_max_s": round(self._worst_delay, 4),
            }
            self._worst_lag = self._worst_delay = 0.0
            return figures
