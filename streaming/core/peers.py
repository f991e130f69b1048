"""The bridge's talk-back side as the engine sees it: one `PeerAudio` per WebRTC connection.

A peer is a presenter (its id is the presenter's stage id, which is also their line's id) or a
producer (its id is their stage actor, "user:<name>"). What the peer says arrives as decoded
20 ms frames in `inbound`, pushed by the WebRTC adapter's thread; what the peer hears (their
return, or a producer's monitor) leaves through `send_return`, called by the mix loop once per
tick. Pure: threads and arrays, no Django, no network.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable

import numpy as np

from . import TICK_SECONDS
from .lines import SILENCE_THRESHOLD, SILENT_AFTER_SAMPLES

PRESENTER_PEER = "presenter"
PRODUCER_PEER = "producer"
# What a producer's monitor carries (`PeerAudio.monitor`): the program at bridge latency, the
# preview bus (the presenters of the next take), the backstage bus, or "line:<id>" (pre-fader).
MONITOR_CHOICES = ("program", "preview", "backstage")
LINE_MONITOR_PREFIX = "line:"


class FrameQueue:
    """A small adaptive jitter buffer of (channels, samples) float32 frames: pushed by one thread,
    popped by the mix loop. It plays once `cushion` frames wait, and drops the oldest frame beyond
    `capacity`, so a peer whose clock runs fast cannot build up delay.

    The cushion is as small as the arrivals allow: it starts at `prefill` (one frame: on a quiet
    network a frame waits less than a tick), grows by a frame at each underrun (the arrivals
    jittered by more than it covered), up to `most`, and shrinks by one again after `relax_every`
    pops without an underrun, never below `prefill`.

    A burst fills it up, and as frames then come as fast as they go, it would stay full: every
    frame of the line late by the whole buffer. So it watches the fewest frames that waited over
    each `trim_every` pops, and when even that is above the cushion, the cushion was never needed:
    it drops the surplus (oldest first), a click's worth of audio for a lasting cut in delay."""

    def __init__(
        self, *, prefill: int = 1, most: int = 4, capacity: int = 8, trim_every: int = 50, relax_every: int = 500
    ) -> None:
        self.prefill = prefill
        self.most = max(most, prefill)
        self.cushion = prefill
        self.trim_every = trim_every
        self.relax_every = relax_every
        self._fewest = capacity
        self._pops = 0
        self._calm_pops = 0  # pops since the last underrun
        self.trimmed = 0
        self._frames: collections.deque[np.ndarray] = collections.deque(maxlen=capacity)
        self._lock = threading.Lock()
        self._playing = False
        self.last_push = 0.0  # time.monotonic() of the newest frame, 0 before the first
        self.pushed = 0
        self.underruns = 0
        self.dropped = 0
        self.quiet_samples = 0  # since the last frame above the silence threshold

    @property
    def silent(self) -> bool:
        """Whether what arrives has been silence for longer than a line may be (as LineReader)."""
        return self.quiet_samples > SILENT_AFTER_SAMPLES

    def push(self, frame: np.ndarray) -> None:
        quiet = float(np.abs(frame).max()) <= SILENCE_THRESHOLD
        with self._lock:
            self.quiet_samples = self.quiet_samples + frame.shape[1] if quiet else 0
            if len(self._frames) == self._frames.maxlen:
                self.dropped += 1
            self._frames.append(frame)
            self.pushed += 1
            self.last_push = time.monotonic()

    def pop(self) -> np.ndarray | None:
        """The next frame, or None while prefilling or on underrun (the caller plays silence)."""
        with self._lock:
            if not self._playing:
                if len(self._frames) < self.cushion:
                    return None
                self._playing = True
            if self._frames:
                self._watch_depth()
                return self._frames.popleft()
            # Empty: count the gap, widen the cushion and build it up before playing on.
            self._playing = False
            self.underruns += 1
            self.cushion = min(self.most, self.cushion + 1)
            self._calm_pops = 0
            return None

    def _watch_depth(self) -> None:
        """Count this pop; relax a cushion long unused; at the end of a window, trim a standing
        surplus (the caller holds the lock)."""
        self._calm_pops += 1
        if self._calm_pops >= self.relax_every and self.cushion > self.prefill:
            self.cushion -= 1
            self._calm_pops = 0
        self._fewest = min(self._fewest, len(self._frames))
        self._pops += 1
        if self._pops < self.trim_every:
            return
        surplus = self._fewest - self.cushion
        for _ in range(max(0, surplus)):
            self._frames.popleft()
            self.trimmed += 1
        self._pops, self._fewest = 0, self._frames.maxlen

    def active(self, within: float = 25 * TICK_SECONDS) -> bool:
        """Whether frames arrived lately (half a second by default): the peer is speaking to us."""
        return self.last_push > 0 and time.monotonic() - self.last_push < within


class PeerAudio:
    """One connected peer: its inbound frames, its return, and (producers) what it monitors."""

    def __init__(self, peer_id: str, kind: str) -> None:
        if kind not in (PRESENTER_PEER, PRODUCER_PEER):
            raise ValueError(f"unknown peer kind {kind!r}")
        self.peer_id = peer_id
        self.kind = kind
        self.inbound = FrameQueue()
        self.monitor = "program"
        # A producer speaking on the backstage bus (their TALK BACKSTAGE held).
        self.backstage_talk = False
        # Set by the WebRTC adapter: takes each return frame, from the mix thread; must not block.
        self.listener: Callable[[np.ndarray], None] | None = None
        # Link figures the adapter reads from the connection's statistics (rtt_ms, jitter_ms,
        # loss_pct, state); the engine reports them with the line's meters.
        self.stats: dict = {}

    def send_return(self, frame: np.ndarray) -> None:
        listener = self.listener
        if listener is not None:
            listener(frame)
