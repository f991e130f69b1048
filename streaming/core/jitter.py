"""How unevenly a line's packets arrive: what a jitter buffer must cover, measured (as WebRTC's
NetEq does) rather than guessed from its own underruns.

Each packet carries its media time (its RTP timestamp, in seconds). Arriving at `now`, its offset
is `now - media_time`; the smallest offset of the window is the most punctual packet's, and how
late any other packet came is its offset less that one. A high percentile of the lateness over the
last couple of seconds is the delay that keeps all but the rarest packets in time, and it falls
again as soon as the late ones have left the window. Pure: no clock, no threads.
"""

from __future__ import annotations

import collections
import math

# Two seconds of 20 ms packets: a burst of lateness is forgotten that long after it ends.
WINDOW_PACKETS = 100
# The rarest late packets are let go (a gap each) rather than every frame waiting for them.
LATENESS_QUANTILE = 0.95


class ArrivalJitter:
    """The arrival offsets of a line's newest packets, and what they say about its lateness."""

    def __init__(self, window: int = WINDOW_PACKETS, quantile: float = LATENESS_QUANTILE) -> None:
        if window < 1:
            raise ValueError(f"window must be at least one packet, not {window}")
        if not 0.0 < quantile <= 1.0:
            raise ValueError(f"quantile must be in (0, 1], not {quantile}")
        self.quantile = quantile
        self._offsets: collections.deque[float] = collections.deque(maxlen=window)

    def arrived(self, now: float, media_time: float) -> None:
        """Note a packet of media time `media_time` (seconds) arriving at `now` (seconds)."""
        self._offsets.append(now - media_time)

    def on_time(self, media_time: float) -> float | None:
        """When the packet of `media_time` arrives (or arrived) if it is as punctual as the window's
        most punctual one; None before any packet."""
        return min(self._offsets) + media_time if self._offsets else None

    def lateness(self) -> float:
        """The window's `quantile` of how late its packets came (seconds; 0 before any)."""
        if not self._offsets:
            return 0.0
        ordered = sorted(self._offsets)
        rank = max(0, math.ceil(self.quantile * len(ordered)) - 1)
        return ordered[rank] - ordered[0]


RTP_WRAP = 1 << 32


class RtpTimeline:
    """One stream's RTP timestamps (32 bits, wrapping, `rate` a second) as seconds since its first
    packet: a packet's media time."""

    def __init__(self, rate: int) -> None:
        if rate <= 0:
            raise ValueError(f"an RTP clock rate is positive, not {rate}")
        self.rate = rate
        self._last: int | None = None
        self._ticks = 0

    def seconds(self, timestamp: int) -> float:
        if self._last is not None:
            # The nearest way round: a step back (a reordered packet) stays a step back.
            self._ticks += (timestamp - self._last + RTP_WRAP // 2) % RTP_WRAP - RTP_WRAP // 2
        self._last = timestamp
        return self._ticks / self.rate
