"""The mix engine: line readers → mixer → AAC segments → HLS playlist and recording, on a clock."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from . import SAMPLE_RATE, TICK_SECONDS
from .clock import Clock, RealtimeClock
from .encoder import AAC_FRAME_SAMPLES, AacRecorder, AacSegmenter, Segment
from .lines import LineReader, LineSpec
from .mixer import METER_FLOOR_DB, Mixer
from .playlist import PlaylistWriter, target_duration_for

log = logging.getLogger(__name__)

REPORT_EVERY_TICKS = 5  # meters about ten times a second
RECORDING_NAME = "program.aac"
PRIVATE_DIR = "private"
# How long a free-running engine waits for a non-paced line's next frame before playing silence.
FREE_RUNNING_WAIT = 0.5


class MixEngine:
    """One event's mixer: owns the line readers and runs the real-time mix loop in `run`.

    `set_lines` and `set_mix` are safe from any thread; `run` blocks the calling thread.
    Public segments go to `out_dir`'s live playlist and the recording; rehearsal (public=False)
    segments go to `out_dir/private/` only.
    """

    def __init__(
        self,
        out_dir: Path,
        *,
        bitrate: int = 128000,
        frames_per_segment: int = 94,
        window: int = 6,
        may_publish: Callable[[], bool] = lambda: True,
        on_report: Callable[[dict], None] = lambda report: None,
        clock: Clock | None = None,
    ) -> None:
        self.out_dir = Path(out_dir)
        self.bitrate = bitrate
        self.frames_per_segment = frames_per_segment
        self.window = window
        self.may_publish = may_publish
        self.on_report = on_report
        self.clock = clock or RealtimeClock()
        self.mixer = Mixer()
        self._lock = threading.Lock()
        self._specs: dict[str, LineSpec] = {}
        self._readers: dict[str, LineReader] = {}
        self._pending_mix: tuple[dict[str, float | None], bool] | None = None
        self._public = True
        self._writers: dict[bool, PlaylistWriter] = {}
        self._recorder: AacRecorder | None = None
        self._anchor_wall = 0.0

    def set_lines(self, specs: list[LineSpec]) -> None:
        """Make these the lines: start readers for new or changed ones, stop removed ones."""
        with self._lock:
            self._specs = {spec.line_id: spec for spec in specs}
            stale = self._sync_readers()
        for reader in stale:
            reader.stop()

    def set_mix(self, gains_db: dict[str, float | None], *, public: bool = True) -> None:
        """Gains in dB per line (None or missing = silent) and routing; applied at the next tick."""
        with self._lock:
            self._pending_mix = (dict(gains_db), public)

    def run(self, stop: threading.Event) -> None:
        """The mix loop: a 20 ms tick scheduled on the clock, until `stop` is set."""
        segmenter = AacSegmenter(bitrate=self.bitrate, frames_per_segment=self.frames_per_segment)
        with self._lock:
            self._sync_readers()
        self._writer(self._public).begin_run()
        if self._recorder is None:
            self._recorder = AacRecorder(self.out_dir / RECORDING_NAME)
        # Program date-time is a sample clock anchored to the wall clock at the start of each run.
        self._anchor_wall = self.clock.time()
        ticks = 0
        deadline = self.clock.monotonic()
        try:
            while not stop.is_set():
                self._tick(segmenter)
                ticks += 1
                if ticks % REPORT_EVERY_TICKS == 0:
                    self._report()
                deadline += TICK_SECONDS
                # When late, the deadline is already past and the next tick runs at once.
                self.clock.sleep_until(deadline)
        finally:
            for segment in segmenter.finish():
                self._publish(segment, self._public)
            with self._lock:
                readers, self._readers = list(self._readers.values()), {}
            for reader in readers:
                reader.stop()

    def end_show(self) -> None:
        """After `run` returned: end the playlist (EXT-X-ENDLIST) and close the recording."""
        self._writer(True).end()
        if self._recorder is not None:
            self._recorder.close()
            self._recorder = None

    def _tick(self, segmenter: AacSegmenter) -> None:
        with self._lock:
            readers = dict(self._readers)
            pending, self._pending_mix = self._pending_mix, None
        if pending is not None:
            gains, public = pending
            self.mixer.set_gains(gains)
            if public != self._public:
                self._reroute(segmenter, public)
        wait = 0.0 if self.clock.realtime else FREE_RUNNING_WAIT
        frames = {line_id: reader.read_frame(wait) for line_id, reader in readers.items()}
        for segment in segmenter.push(self.mixer.mix(frames)):
            self._publish(segment, self._public)

    def _reroute(self, segmenter: AacSegmenter, public: bool) -> None:
        """Switch between public and rehearsal output at an AAC frame boundary."""
        # The encoder holds back about two AAC frames, so ≈40 ms of the old routing's audio
        # lands in the first segment of the new one.
        partial = segmenter.cut()
        if partial is not None:
            self._publish(partial, self._public)
        self._public = public
        self._writer(public).begin_run()

    def _publish(self, segment: Segment, public: bool) -> None:
        start = self._anchor_wall + segment.start / SAMPLE_RATE
        pdt = datetime.fromtimestamp(start, tz=UTC)
        written = self._writer(public).add_segment(segment.data, segment.duration, pdt)
        if written and public and self._recorder is not None:
            self._recorder.write(segment)

    def _writer(self, public: bool) -> PlaylistWriter:
        if public not in self._writers:
            directory = self.out_dir if public else self.out_dir / PRIVATE_DIR
            self._writers[public] = PlaylistWriter(
                directory,
                target_duration=target_duration_for(self.frames_per_segment * AAC_FRAME_SAMPLES / SAMPLE_RATE),
                window=self.window,
                may_publish=self.may_publish,
            )
        return self._writers[public]

    def _sync_readers(self) -> list[LineReader]:
        """Start readers for wanted lines; returns the readers to stop (caller holds the lock)."""
        stale = [
            self._readers.pop(line_id)
            for line_id, reader in list(self._readers.items())
            if self._specs.get(line_id) != reader.spec
        ]
        for line_id, spec in self._specs.items():
            if line_id not in self._readers:
                reader = LineReader(spec, realtime=self.clock.realtime)
                reader.start()
                self._readers[line_id] = reader
        return stale

    def _report(self) -> None:
        meters = self.mixer.meters()
        with self._lock:
            health = {line_id: reader.health for line_id, reader in self._readers.items()}
        lines = {
            line_id: {**meters["lines"].get(line_id, _SILENT_METER), "health": state}
            for line_id, state in health.items()
        }
        try:
            self.on_report({"type": "meters", "lines": lines, "program": meters["program"]})
        except Exception:  # a broken listener must not stop the program
            log.exception("meter report failed")


_SILENT_METER = {"peak_db": METER_FLOOR_DB, "rms_db": METER_FLOOR_DB}
