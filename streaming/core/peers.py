"""The bridge's talk-back side as the engine sees it: one `PeerAudio` per WebRTC connection.

A peer is a presenter (its id is the presenter's stage id, which is also their line's id) or a
producer (its id is their stage actor, "user:<name>"). What the peer says arrives as decoded
20 ms frames in `inbound`, pushed by the WebRTC adapter's thread; what the peer hears (their
return, or a producer's monitor) leaves through `send_return`, called by the mix loop once per
tick. Pure: threads and arrays, no Django, no network.
"""

from __future__ import annotations

import collections
import math
import threading
import time
from collections.abc import Callable

import numpy as np

from . import TICK_SECONDS
from .jitter import ArrivalJitter
from .lines import SILENCE_THRESHOLD, SILENT_AFTER_SAMPLES

# A conversation cannot wait longer for a late voice: lateness beyond this is a gap, not a delay.
LONGEST_WAIT_SECONDS = 0.08
PRESENTER_PEER = "presenter"
PRODUCER_PEER = "producer"
# What a producer's monitor carries (`PeerAudio.monitor`): the program at bridge latency, the
# preview bus (the presenters of the next take), the backstage bus, or "line:<id>" (pre-fader).
MONITOR_CHOICES = ("program", "preview", "backstage")
LINE_MONITOR_PREFIX = "line:"


class FrameQueue:
    """A peer's jitter buffer: (channels, samples) float32 frames of one tick, pushed by the WebRTC
    loop as they arrive (with their media time, from the RTP timestamp), popped by the mix loop
    once a tick. A frame waits as long as the line's measured arrival jitter asks
    (streaming/core/jitter.py), and no longer:

    - it plays (and after an underrun plays again) once the oldest frame has waited, past the
      moment it would have come were it as punctual as the most punctual of the last two seconds,
      as long as the late ones among them came late (their 95th percentile; at most `longest`),
      or once it is full: on calm arrivals the next tick plays it, and one frame waits at most;
    - every `trim_every` pops, when each frame played in that while waited a tick or more beyond
      that lateness, the surplus goes, oldest first, counted in `trimmed`: a burst, an underrun's
      restart, or jitter that has calmed down leaves no standing delay;
    - beyond `capacity` frames the oldest goes, counted in `dropped`: a peer whose clock runs
      fast cannot build up delay;
    - a frame that came after a later one (its packet overtaken on the way) never reaches it:
      the receiver counts it here, in `overtaken`.

    `cut` sums the three: audio of this voice that was never mixed, shown on the line's card.

    A frame pushed without a media time counts as on time (its arrival is its media time); one
    stream is timed or not, never both."""

    def __init__(
        self,
        *,
        capacity: int = 6,
        trim_every: int = 25,
        longest: float = LONGEST_WAIT_SECONDS,
        jitter: ArrivalJitter | None = None,
    ) -> None:
        if capacity < 2 or trim_every < 1 or longest < 0:
            raise ValueError(
                f"a jitter buffer needs room for two frames, a trim window, a wait: {capacity}, {trim_every}, {longest}"
            )
        self.jitter = jitter or ArrivalJitter()
        self.trim_every = trim_every
        self.longest = longest
        self._frames: collections.deque[tuple[np.ndarray, float]] = collections.deque(maxlen=capacity)
        self._lock = threading.Lock()
        self._playing = False
        self._pops = 0
        self._waits = 0.0  # the frames played this window: their waits past on time, summed
        self._least_wait = math.inf  # and the shortest of them
        self.held = 0.0  # the last window's mean wait past on time (seconds): what the buffer adds
        self.last_push = 0.0  # time.monotonic() of the newest frame, 0 before the first
        self.pushed = 0
        self.underruns = 0
        self.dropped = 0
        self.trimmed = 0
        self.overtaken = 0
        self.quiet_samples = 0  # since the last frame above the silence threshold

    @property
    def silent(self) -> bool:
        """Whether what arrives has been silence for longer than a line may be (as LineReader)."""
        return self.quiet_samples > SILENT_AFTER_SAMPLES

    @property
    def cut(self) -> int:
        """The frames of this voice never mixed: dropped for room, trimmed, or overtaken."""
        return self.dropped + self.trimmed + self.overtaken

    def __len__(self) -> int:
        """The frames waiting."""
        return len(self._frames)

    def push(self, frame: np.ndarray, media_time: float | None = None, now: float | None = None) -> None:
        """Take a frame arriving at `now` (time.monotonic()), of `media_time` seconds on the
        sender's clock (None: on time)."""
        now = time.monotonic() if now is None else now
        quiet = float(np.abs(frame).max()) <= SILENCE_THRESHOLD
        with self._lock:
            self.quiet_samples = self.quiet_samples + frame.shape[1] if quiet else 0
            if len(self._frames) == self._frames.maxlen:
                self.dropped += 1
            media_time = now if media_time is None else media_time
            self.jitter.arrived(now, media_time)
            self._frames.append((frame, media_time))
            self.pushed += 1
            self.last_push = now

    def count_overtaken(self) -> None:
        """A frame whose packet came after a later one's: never pushed, counted in `cut`."""
        with self._lock:
            self.overtaken += 1

    def pop(self, now: float | None = None) -> np.ndarray | None:
        """The next frame, or None while it must wait or on underrun (the caller plays silence)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if not self._frames:
                if self._playing:  # a gap: count it, and wait for the late frame's lateness
                    self._playing = False
                    self.underruns += 1
                return None
            if not self._playing:
                # Full, it plays whatever the lateness: waiting longer would only drop frames.
                if self._waited(now) < self.target() and len(self._frames) < self._frames.maxlen:
                    return None
                self._playing = True
            self._watch_wait(now)
            return self._frames.popleft()[0]

    def target(self) -> float:
        """How long past on time a frame waits: the measured lateness, at most `longest`."""
        return min(self.jitter.lateness(), self.longest)

    def _waited(self, now: float) -> float:
        """How long the oldest frame has waited past its on-time arrival (the caller holds the lock)."""
        return now - self.jitter.on_time(self._frames[0][1])

    def _watch_wait(self, now: float) -> None:
        """Count the wait of the frame about to play; at the end of a window, trim what every frame
        of it waited beyond the lateness, in whole frames, keeping the one to play."""
        waited = self._waited(now)
        self._waits += waited
        self._least_wait = min(self._least_wait, waited)
        self._pops += 1
        if self._pops < self.trim_every:
            return
        self.held = self._waits / self._pops
        surplus = min(int((self._least_wait - self.target()) // TICK_SECONDS), len(self._frames) - 1)
        for _ in range(max(0, surplus)):
            self._frames.popleft()
            self.trimmed += 1
        self._pops, self._waits, self._least_wait = 0, 0.0, math.inf

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
        # Set by the adapter too: called once a tick after every peer's return was given (the
        # same callable for peers that share a way out, which is then called once).
        self.after_returns: Callable[[], None] | None = None
        # Link figures the adapter reads from the connection's statistics (rtt_ms, jitter_ms,
        # loss_pct, state); the engine reports them with the line's meters.
        self.stats: dict = {}

    def send_return(self, frame: np.ndarray) -> None:
        listener = self.listener
        if listener is not None:
            listener(frame)
