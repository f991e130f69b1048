"""A line: one input of the audio bridge, decoded in its own thread into 20 ms stereo frames."""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

import av
import numpy as np

from . import CHANNELS, FRAME_SAMPLES, SAMPLE_RATE, TICK_SECONDS

log = logging.getLogger(__name__)

HEALTH_CONNECTING = "connecting"
HEALTH_OK = "ok"
HEALTH_SILENT = "silent"
HEALTH_FAULTED = "faulted"

SILENCE_THRESHOLD = 10 ** (-60 / 20)
SILENT_AFTER_SAMPLES = 3 * SAMPLE_RATE
BACKOFF_FIRST = 0.5
BACKOFF_MAX = 10.0
# Decode errors in a row before a line counts as broken (garbage mid-stream is skipped).
MAX_DECODE_ERRORS = 25
# A paced reader runs up to this many frames ahead of schedule before it sleeps.
PACE_SLACK_FRAMES = 2
# A paced reader this far behind its schedule re-anchors instead of bursting to catch up.
MAX_LAG_SECONDS = 0.2


class SourceRefused(Exception):
    """A line's source may not be opened; the message says why, for the console."""


@dataclass(frozen=True)
class Opening:
    """What `av.open` gets for an admitted source: a URL or a stream, its demuxer and options."""

    target: str | BinaryIO
    format: str | None
    options: dict[str, str]


@dataclass(frozen=True)
class LineSpec:
    """What to open for one line: any URL FFmpeg opens, with demuxer format and options, or a
    stream `opener` gives (a browser uplink; it gets the reader's stop flag so it can end a wait).
    A `live` source is paced by whoever sends it, so the reader never waits on the wall clock.
    A producer's source is `admit`ted at every open: the callable checks it against the operator's
    policy (its name resolved then) and says what to open, or raises SourceRefused."""

    line_id: str
    url: str
    format: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    loop: bool = False
    opener: Callable[[threading.Event], BinaryIO] | None = None
    live: bool = False
    admit: Callable[[], Opening] | None = None


class LineReader:
    """Decodes one line in a thread (aiortc MediaPlayer shape) into a bounded jitter buffer.

    With `realtime=True` the reader is paced to the wall clock like `ffmpeg -re`, so a file or
    lavfi input cannot race ahead; a full buffer drops its oldest frame. With `realtime=False`
    it decodes as fast as the consumer takes frames (for benchmarks).
    """

    def __init__(
        self,
        spec: LineSpec,
        *,
        realtime: bool = True,
        buffer_frames: int = 10,
        prefill_frames: int = 3,
        open_timeout: float = 5.0,
    ) -> None:
        self.spec = spec
        self.realtime = realtime
        self.prefill_frames = prefill_frames
        self.open_timeout = open_timeout
        self._frames: collections.deque[np.ndarray] = collections.deque(maxlen=buffer_frames)
        self._ready = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._health = HEALTH_CONNECTING
        self._fault: str | None = None
        self._quiet_samples = 0
        self._delivered = 0
        self.opens = 0
        self.underruns = 0
        self.dropped = 0

    @property
    def health(self) -> str:
        """One of "connecting", "ok", "silent", "faulted"."""
        return self._health

    @property
    def fault(self) -> str | None:
        """Why the source was refused at its last open (the policy's reason), else None."""
        return self._fault

    def start(self) -> None:
        """Start the reader thread."""
        self._thread = threading.Thread(target=self._run, name=f"line-{self.spec.line_id}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 1.0) -> None:
        """Ask the thread to end and wait up to `timeout` seconds for it."""
        self._stop.set()
        with self._ready:
            self._ready.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def read_frame(self, wait: float = 0.0) -> np.ndarray:
        """Next (2, 960) float32 frame; silence on underrun. Waits at most `wait` seconds."""
        with self._ready:
            # A faulted line has nothing coming until its retry: waiting would only stall the mix.
            if not self._frames and wait > 0 and self._health != HEALTH_FAULTED:
                self._ready.wait_for(lambda: self._frames or self._stop.is_set(), wait)
            if self._frames:
                frame = self._frames.popleft()
                self._ready.notify_all()
                return frame
        self.underruns += 1
        return np.zeros((CHANNELS, FRAME_SAMPLES), dtype=np.float32)

    def _run(self) -> None:
        backoff = BACKOFF_FIRST
        while not self._stop.is_set():
            self._delivered = 0
            ended = False
            try:
                ended = self._play_once()
            except SourceRefused as refusal:
                reason = str(refusal)
                if reason != self._fault:  # once per reason, not at every retry
                    log.warning("line %s refused: %s", self.spec.line_id, reason, extra={"line": self.spec.line_id})
                self._fault = reason
            except Exception as exc:  # a line's failure must not leave its thread
                log.info("line %s faulted: %r", self.spec.line_id, exc, extra={"line": self.spec.line_id})
            if self._stop.is_set():
                break
            if ended and self.spec.loop and self._delivered:
                continue
            self._health = HEALTH_FAULTED
            if self._delivered:
                backoff = BACKOFF_FIRST
            self._stop.wait(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX)

    def _play_once(self) -> bool:
        """Open the input once and feed frames; True when the input ended, False when stopped."""
        self.opens += 1
        spec = self.spec
        target, format, options = self._admitted()
        self._fault = None
        with av.open(
            target, format=format, options=options, timeout=(self.open_timeout, self.open_timeout)
        ) as container:
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="fltp", layout="stereo", rate=SAMPLE_RATE)
            fifo = av.AudioFifo()
            pace_start = time.monotonic()
            paced_frames = 0
            errors = 0
            for packet in container.demux(stream):
                if self._stop.is_set():
                    return False
                try:
                    decoded = packet.decode()
                    errors = 0
                except av.error.FFmpegError:
                    errors += 1
                    if errors >= MAX_DECODE_ERRORS:
                        raise
                    continue
                for frame in decoded:
                    for out in resampler.resample(frame):
                        out.pts = None  # the fifo insists on continuous pts; we count samples
                        fifo.write(out)
                while fifo.samples >= FRAME_SAMPLES:
                    chunk = fifo.read(FRAME_SAMPLES)
                    if self.realtime and not spec.live:
                        pace_start, paced_frames = self._pace(pace_start, paced_frames)
                    if not self._deliver(_planes(chunk)):
                        return False
            return True

    def _admitted(self) -> tuple[str | BinaryIO, str | None, dict[str, str]]:
        """What av.open gets: the spec as it is, or what its admission says (SourceRefused if nothing)."""
        spec = self.spec
        if spec.opener is not None:
            return spec.opener(self._stop), spec.format, dict(spec.options)
        if spec.admit is None:
            return spec.url, spec.format, dict(spec.options)
        opening = spec.admit()
        return opening.target, opening.format, spec.options | opening.options

    def _pace(self, start: float, frames: int) -> tuple[float, int]:
        """Sleep until frame `frames` is due (a few frames early, to prefill the buffer)."""
        due = start + (frames - self.prefill_frames) * TICK_SECONDS
        now = time.monotonic()
        if now - due > MAX_LAG_SECONDS:
            return now - (frames - self.prefill_frames) * TICK_SECONDS, frames + 1
        # Sleep only once a few frames ahead, then until this one is due: one wake-up per
        # PACE_SLACK_FRAMES frames instead of one per frame (wake-ups are most of a line's CPU).
        if due - now > PACE_SLACK_FRAMES * TICK_SECONDS:
            self._stop.wait(due - now)
        return start, frames + 1

    def _deliver(self, frame: np.ndarray) -> bool:
        """Queue one frame and update health; False when the reader is stopping."""
        peak = float(np.abs(frame).max())
        if peak > SILENCE_THRESHOLD:
            self._quiet_samples = 0
        else:
            self._quiet_samples += FRAME_SAMPLES
        with self._ready:
            if not self.realtime:
                self._ready.wait_for(lambda: len(self._frames) < self._frames.maxlen or self._stop.is_set())
            if self._stop.is_set():
                return False
            if len(self._frames) == self._frames.maxlen:
                self.dropped += 1  # deque(maxlen) drops the oldest frame
            self._frames.append(frame)
            self._ready.notify_all()
        self._delivered += 1
        silent = self._quiet_samples > SILENT_AFTER_SAMPLES
        self._health = HEALTH_SILENT if silent else HEALTH_OK
        return True


def _planes(frame: av.AudioFrame) -> np.ndarray:
    """Copy a planar stereo frame into a (2, N) array without `to_ndarray`'s vstack."""
    out = np.empty((CHANNELS, frame.samples), dtype=np.float32)
    for channel, plane in enumerate(frame.planes):
        out[channel] = np.frombuffer(plane, dtype=np.float32, count=frame.samples)
    return out
