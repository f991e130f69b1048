"""A test double of the mixer's output for the off-air monitor: the project's own mixer, AAC
encoder, playlist writer and envelope recorder, fed tones made with numpy on a simulated clock,
and a viewer that reads what it publishes as the monitor's adapter does (files instead of HTTP).

What the double lets a test do that the real mixer never would: mix lines other than the ones
the program card names (`mix(..., gains=...)` behind the stage's back), freeze, restart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from streaming.core import FRAME_SAMPLES, SAMPLE_RATE
from streaming.core.encoder import AacSegmenter
from streaming.core.envelopes import ENVELOPE_FILE, EnvelopeRecorder, EnvelopeTail, append_batch
from streaming.core.mixer import Mixer
from streaming.core.off_air import OffAirMonitor
from streaming.core.playlist import PlaylistWriter

T0 = datetime(2025, 5, 1, 12, 0, tzinfo=UTC).timestamp()
SEGMENT_FRAMES = 47  # 1.0027 s segments, target duration 1, as the supervision tests run
POLL = 0.25  # how often the viewer reloads the playlist


def gated_tone(frequency: float, seed: int, amplitude: float = 0.25):
    """A sine keyed on and off in 200 ms steps at random (seeded): an envelope as distinct as a
    voice's, so lines can be told apart by their envelopes alone."""
    gates = np.random.default_rng(seed).random(3000) < 0.6

    def samples(position: int, count: int) -> np.ndarray:
        index = np.arange(position, position + count)
        gate = gates[(index // (SAMPLE_RATE // 5)) % len(gates)]
        return (amplitude * np.sin(2 * np.pi * frequency * index / SAMPLE_RATE) * gate).astype(np.float32)

    return samples


@dataclass
class Broadcast:
    """Tones in, a live playlist and the mixer's envelope record out, on a simulated clock."""

    directory: Path
    tones: dict
    clock: float = T0
    names: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.writer = PlaylistWriter(self.directory, target_duration=1, window=6)
        self.mixer = Mixer()
        self.card_fields = {"phase": "live", "hold": False, "speaking": []}
        self.published: list[tuple[float, str]] = []  # (when, the live playlist's text then)
        self._begin_run()

    def _begin_run(self) -> None:
        self.writer.begin_run()
        self.segmenter = AacSegmenter(frames_per_segment=SEGMENT_FRAMES)
        self.recorder = EnvelopeRecorder(FRAME_SAMPLES)
        self.anchor = self.clock
        self._card_due = True

    def card(self, *speaking: str, hold: bool = False) -> None:
        """The stage changes what the audience is told, from the next tick."""
        self.card_fields = {"phase": "live", "hold": hold, "speaking": list(speaking)}
        self._card_due = True

    def mix(self, seconds: float, gains: dict[str, float | None], viewer: Viewer | None = None) -> None:
        """Mix `seconds` with these gains (dB per line, None silent) on the simulated clock; the
        viewer (if any) reloads the playlist every POLL seconds meanwhile."""
        self.mixer.set_gains(gains)
        for _ in range(round(seconds * SAMPLE_RATE / FRAME_SAMPLES)):
            position = self.segmenter.position
            if self._card_due:
                card = self.card_fields | {"segment": "", "question": "", "question_name": ""}
                self.writer.add_card(card, self._date(position))
                self._card_due = False
            frames = {line: np.stack([tone(position, FRAME_SAMPLES)] * 2) for line, tone in self.tones.items()}
            program = self.mixer.mix(frames)
            batch = self.recorder.add(position, self.mixer.line_levels())
            if batch is not None:
                append_batch(self.directory / ENVELOPE_FILE, batch.to_json(self._date(batch.position).timestamp()))
            for segment in self.segmenter.push(program):
                self.writer.add_segment(segment.data, segment.duration, self._date(segment.start))
                self.published.append((self.clock, self.writer.render_live()))
            self.advance(FRAME_SAMPLES / SAMPLE_RATE, viewer)

    def advance(self, seconds: float, viewer: Viewer | None = None) -> None:
        """Let time pass (a frozen mixer publishes nothing meanwhile)."""
        end = self.clock + seconds
        while viewer is not None and viewer.next_poll <= end:
            self.clock = viewer.next_poll
            viewer.poll(self.clock)
        self.clock = end

    def restart(self, gap: float, viewer: Viewer | None = None) -> None:
        """The mixer dies and its replacement starts `gap` seconds later: a discontinuity."""
        self.advance(gap, viewer)
        self._begin_run()

    def _date(self, position: int) -> datetime:
        return datetime.fromtimestamp(self.anchor + position / SAMPLE_RATE, tz=UTC)


class Viewer:
    """Reads the published files as the monitor's adapter reads them over HTTP and hands
    everything to the monitor; keeps its alarms' changes and readings."""

    def __init__(self, show: Broadcast, monitor: OffAirMonitor, lag: float = 0.0) -> None:
        self.show = show
        self.directory = show.directory
        self.monitor = monitor
        self.lag = lag  # a cache in the way serves the playlist as it was this long ago
        self.next_poll = show.clock + POLL
        self.tail = EnvelopeTail(show.directory / ENVELOPE_FILE)
        self.changes: list = []
        self.readings: list = []
        self.override: str | None = None  # a playlist text to serve instead of the real one

    def poll(self, now: float) -> None:
        self.next_poll = now + POLL
        served = [text for published, text in self.show.published if published <= now - self.lag]
        text = self.override if self.override is not None else served[-1] if served else None
        if text is None:
            return
        self.monitor.envelopes(self.tail.read())
        for segment in self.monitor.playlist(text, now):
            reading = self.monitor.segment(segment, (self.directory / segment.uri).read_bytes(), now)
            if reading is not None:
                self.readings.append(reading)
        self.monitor.tick(now)
        self.changes += self.monitor.changes()

    def raised(self) -> list[str]:
        return [change.alarm for change in self.changes if change.active]

    def cleared(self) -> list[str]:
        return [change.alarm for change in self.changes if not change.active]
