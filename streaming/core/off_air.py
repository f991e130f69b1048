"""The off-air monitor's core: what the audience really receives, from the published stream alone.

It is handed what a viewer's player gets (the playlist's text, each segment's bytes, when they
arrived), the mixer's record of its lines (streaming/core/envelopes.py) and, optionally, which
lines the stage has on air; it measures latency, loudness (EBU R128), dead air, a stalled or
regressing playlist, discontinuities and who is heard, and raises and clears its alarms with
hysteresis (streaming/core/alarms.py). No I/O, no clock: the adapter fetches and tells the time.

Times: the playlist's alarms run on the wall clock (`now`); what is heard runs on the program's
date-time, so an alarm about the audio holds whatever the latency.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from . import SAMPLE_RATE
from .alarms import AlarmChange, Hysteresis
from .envelopes import EnvelopeStore
from .hearing import SOUNDING, who_is_heard
from .loudness import LoudnessMeter
from .media_playlist import MediaPlaylist, MediaSegment, PlaylistError, parse_media_playlist
from .program_audio import ProgramDecoder, ProgramTrack, UndecodableSegment, container_of
from .stage_view import StageView

DEAD_AIR, LOUD, LATE, STALLED, REGRESSED, DISCONTINUITY, WRONG_LINE = (
    "dead_air",
    "loud",
    "late",
    "stalled",
    "regressed",
    "discontinuity",
    "wrong_line",
)
ALARMS = (DEAD_AIR, LOUD, LATE, STALLED, REGRESSED, DISCONTINUITY, WRONG_LINE)
# The mixer's own fallback line (streaming/core/engine.py FALLBACK_ID): it may always be heard.
FALLBACK_LINE = "fallback"
BLOCK_SAMPLES = SAMPLE_RATE // 10
BLOCK_SECONDS = BLOCK_SAMPLES / SAMPLE_RATE
# More of the program's energy than this from no line the mixer recorded: something else is on air.
UNEXPLAINED = 0.6
# A line on air is missed from the program only if its input is this loud against the program.
MISSED_BELOW_PROGRAM = 0.1
# Two segments in a row whose date-times are further apart than this are not one stream.
CONTINUOUS = 0.05


@dataclass(frozen=True)
class MonitorSettings:
    """Thresholds; `None` ones follow the playlist's target duration."""

    dead_air_seconds: float = 5.0
    silence_db: float = -55.0
    loudness_target: float = -16.0
    loudness_tolerance: float = 4.0
    loud_seconds: float = 5.0
    latency_max: float | None = None  # 3 target durations
    late_seconds: float = 5.0
    stall_seconds: float | None = None  # 3 target durations
    heard_window: float = 5.0
    heard_seconds: float = 3.0
    discontinuity_seconds: float = 30.0
    regressed_seconds: float = 10.0
    start_segments: int = 3
    # A show that just went live has no playlist until its mixer has started and mixed a segment.
    first_playlist_seconds: float = 30.0


@dataclass(frozen=True)
class Reading:
    """What the monitor measured of one segment: its arrival against its program date-time, the
    program's loudness when it ended (momentary: the loudest in it; integrated since the monitor
    began; true peak: the highest since then, dBTP) and who was heard last."""

    sequence: int
    pdt: float | None
    arrival: float | None
    latency: float | None
    momentary: float | None
    short_term: float | None
    integrated: float | None
    true_peak: float | None
    heard: tuple[str, ...]


@dataclass
class _Pending:
    """Decoded audio not yet cut into whole blocks, and where it starts."""

    start: float
    audio: np.ndarray = field(default_factory=lambda: np.zeros((2, 0), np.float32))


class OffAirMonitor:
    """Feed it `playlist`, then each segment it asks for with `segment`, the mixer's record with
    `envelopes`, and call `tick` now and then; take the alarms' changes from `changes`."""

    def __init__(self, settings: MonitorSettings | None = None, line_names: dict[str, str] | None = None) -> None:
        self.settings = settings or MonitorSettings()
        self.line_names = dict(line_names or {})
        s = self.settings
        self.alarms = {
            DEAD_AIR: Hysteresis(DEAD_AIR, 0.0, 1.0),  # the silence is counted in `_judge_block`
            LOUD: Hysteresis(LOUD, s.loud_seconds, s.loud_seconds),
            LATE: Hysteresis(LATE, s.late_seconds, s.late_seconds),
            STALLED: Hysteresis(STALLED, 0.0, 0.0),
            REGRESSED: Hysteresis(REGRESSED, 0.0, s.regressed_seconds),
            DISCONTINUITY: Hysteresis(DISCONTINUITY, 0.0, s.discontinuity_seconds),
            WRONG_LINE: Hysteresis(WRONG_LINE, s.heard_seconds, s.heard_seconds),
        }
        self.stage = StageView()
        self.record = EnvelopeStore()
        self.track = ProgramTrack()
        self.decoder = ProgramDecoder()
        self.loudness = LoudnessMeter(true_peak=True)
        self.ended = False
        self.heard: tuple[str, ...] = ()
        self.target_duration: int | None = None
        self.init_section: bytes = b""  # fMP4's EXT-X-MAP, fetched by the adapter
        self._changes: list[AlarmChange] = []
        self._last: MediaPlaylist | None = None
        self._uris: dict[int, str] = {}  # sequence number: URI, as listed
        self._fetched = -1  # the newest sequence number handed out to fetch
        self._arrivals: dict[int, float] = {}  # when a segment was first listed
        self._progress: float | None = None  # when the playlist last gained a segment
        self._failure = ""
        self._previous: MediaSegment | None = None  # the last segment decoded
        self._pending: _Pending | None = None
        self._silence = 0.0  # seconds of program silent while on air, up to the last block
        self._heard_until: float | None = None

    # What comes in.

    def playlist(self, text: str, now: float) -> list[MediaSegment]:
        """A reload of the playlist, answered at `now`; returns the new segments to fetch, in order."""
        try:
            current = parse_media_playlist(text)
        except PlaylistError as error:
            self.playlist_failed(f"the playlist cannot be read: {error}", now)
            return []
        self._failure = ""
        self.target_duration = current.target_duration
        self.stage.add_cards(current.cards)
        self._check_order(current, now)
        newest = current.last.sequence if current.last else -1
        if self._progress is None and current.last is not None and current.last.end is not None:
            # The first look: the live edge is as old as its newest segment (a monitor that takes
            # over a stalled stream finds it stalled still).
            self._progress = min(now, current.last.end)
        elif self._progress is None or newest > max(self._uris, default=-1) or current.ended:
            self._progress = now
        for segment in current.segments:
            if segment.sequence not in self._uris:
                self._uris[segment.sequence] = segment.uri
                if self._last is not None:
                    self._arrivals[segment.sequence] = now
        self._forget(current)
        self._last = current
        self._check_stall(now)
        if current.ended:
            self._end(now)
        fresh = [segment for segment in current.segments if segment.sequence > self._fetched]
        if len(fresh) > self.settings.start_segments + 2 or self._fetched < 0:
            # The first look, or too far behind to catch up: from the newest few on.
            fresh = fresh[-self.settings.start_segments :]
        if fresh:
            self._fetched = fresh[-1].sequence
        return fresh

    def playlist_failed(self, reason: str, now: float) -> None:
        """The playlist could not be fetched (an HTTP error, a timeout) or read."""
        self._failure = reason
        if self._progress is None:
            self._progress = now
        self._check_stall(now)

    def segment(self, segment: MediaSegment, data: bytes, now: float) -> Reading | None:
        """A segment `playlist` asked for, fetched by `now`; its reading, or None if it does not decode."""
        continuous = (
            self._previous is not None
            and segment.pdt is not None
            and self._previous.end is not None
            and not segment.discontinuity
            and abs(segment.pdt - self._previous.end) <= CONTINUOUS
        )
        if not continuous:
            self.decoder.reset()
            self._pending = None
        try:
            audio = self.decoder.decode(data, container_of(segment.uri), self.init_section)
        except UndecodableSegment as error:
            self._note_discontinuity(segment, f"segment {segment.sequence} does not decode: {error}", now)
            self._previous = None
            return None
        arrival = self._arrivals.pop(segment.sequence, None)
        if self._previous is not None and segment.sequence == self._previous.sequence + 1 and arrival is not None:
            self._check_cut(segment, now)
        self._previous = segment
        momentary = None
        if segment.pdt is not None:
            self.track.add(segment.pdt, audio)
            momentary = self._listen(segment.pdt, audio)
        latency = None
        if arrival is not None and segment.pdt is not None:
            latency = arrival - segment.pdt
            limit = self._limit(self.settings.latency_max)
            detail = f"segments arrive {latency:.1f} s after they were mixed"
            self._observe(LATE, latency > limit, arrival, detail=detail)
        self._hear()
        return Reading(
            segment.sequence,
            segment.pdt,
            arrival,
            None if latency is None else round(latency, 3),
            momentary,
            _rounded(self.loudness.short_term),
            _rounded(self.loudness.integrated),
            self.loudness.true_peak,
            self.heard,
        )

    def segment_missing(self, segment: MediaSegment, reason: str, now: float) -> None:
        """A listed segment could not be fetched (a player would fail on it too)."""
        self._arrivals.pop(segment.sequence, None)
        self._previous = None
        self._note_discontinuity(segment, f"segment {segment.sequence} could not be fetched: {reason}", now)

    def envelopes(self, lines: Iterable[str]) -> None:
        """Lines of the mixer's record (streaming/core/envelopes.py); one that cannot be read is skipped."""
        for line in lines:
            try:
                self.record.add_line(line)
            except (ValueError, KeyError, TypeError, IndexError):
                continue

    def set_on_air(self, names: Iterable[str], at: float) -> None:
        """The stage has these lines on air (by name, muted ones included) from `at`."""
        self.stage.set_on_air(names, at)

    def adopt(self, alarm: str, detail: str, at: float) -> None:
        """An alarm the stage shows already (a previous monitor raised it): this one starts from it."""
        if alarm in self.alarms:
            self.alarms[alarm].force(True, at, detail)

    def tick(self, now: float) -> None:
        """Time passes: a playlist that stopped moving stalls; an old cut is forgotten; what the
        mixer's record now covers is heard."""
        self._check_stall(now)
        self._observe(DISCONTINUITY, False, now)
        self._observe(REGRESSED, False, now)
        self._hear()

    # What goes out.

    def changes(self) -> list[AlarmChange]:
        """The alarms raised and cleared since the last call, in order."""
        changes, self._changes = self._changes, []
        return changes

    @property
    def latency_limit(self) -> float:
        """Segments arriving later than this after they were mixed are late."""
        return self._limit(self.settings.latency_max)

    @property
    def map_uri(self) -> str | None:
        """The playlist's initialisation section (fMP4), to fetch into `init_section`."""
        return self._last.map_uri if self._last is not None else None

    @property
    def active(self) -> dict[str, str]:
        """The alarms raised now, with what was found."""
        return {name: alarm.detail for name, alarm in self.alarms.items() if alarm.active}

    # The playlist.

    def _check_order(self, current: MediaPlaylist, now: float) -> None:
        """A player stalls on a playlist that goes back: media sequence, discontinuity sequence,
        a sequence number now naming another segment, or program date-time running backwards."""
        last = self._last
        problem = None
        if last is not None:
            last_newest = last.last.sequence if last.last else -1
            newest = current.last.sequence if current.last else -1
            if current.media_sequence < last.media_sequence:
                problem = f"the media sequence went back from {last.media_sequence} to {current.media_sequence}"
            elif current.discontinuity_sequence < last.discontinuity_sequence:
                problem = "the discontinuity sequence went back"
            elif newest < last_newest and not current.ended:
                problem = f"the newest segment went back from {last_newest} to {newest}"
        for segment in current.segments:
            known = self._uris.get(segment.sequence)
            if problem is None and known is not None and known != segment.uri:
                problem = f"sequence {segment.sequence} now names {segment.uri}, not {known}"
        dates = [segment.pdt for segment in current.segments if segment.pdt is not None]
        if problem is None and dates != sorted(dates):
            problem = "program date-time runs backwards"
        self._observe(REGRESSED, problem is not None, now, detail=problem or "")

    def _check_stall(self, now: float) -> None:
        if self.ended or self._progress is None:
            return
        waited = now - self._progress
        if self._last is None:
            limit = self.settings.first_playlist_seconds
            detail = f"no playlist published {waited:.0f} s into the show ({self._failure})"
        else:
            limit = self._limit(self.settings.stall_seconds)
            detail = self._failure or f"no new segment for {waited:.0f} s"
        self._observe(STALLED, waited > limit, now, detail=detail)

    def _check_cut(self, segment: MediaSegment, now: float) -> None:
        previous = self._previous
        if segment.discontinuity:
            self._note_discontinuity(segment, f"the stream was cut before segment {segment.sequence}", now)
        elif segment.pdt is not None and previous.end is not None and abs(segment.pdt - previous.end) > 0.25:
            jump = segment.pdt - previous.end
            self._note_discontinuity(
                segment, f"program date-time jumps {jump:+.2f} s at segment {segment.sequence} unmarked", now
            )

    def _note_discontinuity(self, segment: MediaSegment, detail: str, now: float) -> None:
        self._observe(DISCONTINUITY, True, now, detail=detail)

    def _limit(self, configured: float | None) -> float:
        return configured if configured is not None else 3.0 * (self.target_duration or 2)

    def _forget(self, current: MediaPlaylist) -> None:
        oldest = current.media_sequence - 50
        for sequence in [sequence for sequence in self._uris if sequence < oldest]:
            del self._uris[sequence]
            self._arrivals.pop(sequence, None)

    def _end(self, now: float) -> None:
        """The show is over: nothing is wrong with a stream that ended."""
        self.ended = True
        for alarm in self.alarms.values():
            change = alarm.force(False, now)
            if change is not None:
                self._changes.append(change)

    # The audio.

    def _listen(self, start: float, audio: np.ndarray) -> float | None:
        """Loudness and dead air, block by block; returns the segment's loudest momentary loudness."""
        pending = self._pending
        if pending is None or abs(pending.start + pending.audio.shape[1] / SAMPLE_RATE - start) > CONTINUOUS:
            pending = _Pending(start)
        audio = np.concatenate((pending.audio, audio), axis=1)
        at, loudest = pending.start, None
        blocks = audio.shape[1] // BLOCK_SAMPLES
        for index in range(blocks):
            block = audio[:, index * BLOCK_SAMPLES : (index + 1) * BLOCK_SAMPLES]
            self.loudness.push(np.ascontiguousarray(block))
            momentary = self.loudness.momentary
            if momentary is not None:
                loudest = momentary if loudest is None else max(loudest, momentary)
            self._judge_block(block, at)
            at += BLOCK_SECONDS
        self._pending = _Pending(at, audio[:, blocks * BLOCK_SAMPLES :])
        return _rounded(loudest)

    def _judge_block(self, block: np.ndarray, start: float) -> None:
        end = start + BLOCK_SECONDS
        power = float(np.mean(np.square(block, dtype=np.float64)))
        level = 10 * math.log10(power) if power > 0 else -math.inf
        expected = self.stage.expected_at(start)
        if expected is None:
            dead = None
        else:
            # Silence counts while someone is on air, live and not on hold; any sound ends it.
            on_air = expected.live and not expected.hold and expected.anyone_on_air
            self._silence = self._silence + BLOCK_SECONDS if on_air and level < self.settings.silence_db else 0.0
            dead = self._silence >= self.settings.dead_air_seconds - 1e-6
        self._observe(DEAD_AIR, dead, end, detail="the program is silent while on air")
        short_term = self.loudness.short_term
        high = self.settings.loudness_target + self.settings.loudness_tolerance
        if short_term is None or short_term < high - 1.0:
            loud = False
        elif short_term > high:
            loud = True
        else:
            loud = None  # between the two: as it was
        detail = (
            ""
            if short_term is None
            else f"short-term loudness {short_term:.1f} LUFS, target {high - self.settings.loudness_tolerance:.0f}"
        )
        self._observe(LOUD, loud, end, detail=detail)

    def _hear(self) -> None:
        """Judge who is heard over each window the mixer's record and the decoded program both cover."""
        block = self.record.block_seconds
        covered = min(self.track.end or -math.inf, self.record.end or -math.inf)
        if block is None or not math.isfinite(covered):
            return
        window = self.settings.heard_window
        if self._heard_until is None:
            # The first window ends a window after both began.
            self._heard_until = max(self.track.start, self.record.start) + window - 1.0
        while self._heard_until + 1.0 <= covered + 1e-6:
            end = self._heard_until + 1.0
            self._heard_until = end
            self._judge_window(end - window, end, block)

    def _judge_window(self, start: float, end: float, block: float) -> None:
        blocks = self.record.blocks(start - 1e-3, end - block + 1e-3)
        if len(blocks) < 0.9 * round((end - start) / block) or not self.stage.same_card(start, end):
            return  # the record has a hole, or the stage changed within the window: no verdict
        program = [self.track.mean_power(item.start, item.start + block) for item in blocks]
        if any(power is None for power in program):
            return
        lines = {line for item in blocks for line in item.lines}
        inputs = {line: np.array([item.lines.get(line, (0.0, 0.0))[0] for item in blocks]) for line in lines}
        hearing = who_is_heard(np.array(program), inputs)
        name = self.line_names.get
        heard = {name(line, line) for line in hearing.heard if line != FALLBACK_LINE}
        self.heard = tuple(sorted(heard))
        card = self.stage.card_at(start)
        if card is None:
            return
        expected = set() if card.hold else set(card.speaking)
        undecided = {name(line, line) for line in hearing.undecided if line != FALLBACK_LINE}
        if not undecided <= expected:
            return  # an unexpected line cannot be told apart from an expected one here
        unexpected = heard - expected
        # Missed: a line the stage says is heard, with something to say (its input within 10 dB of
        # the program; not a listener's room noise), that the program does not carry.
        program_power = float(np.mean(program))
        speaking = {
            line
            for line in hearing.sounding - hearing.undecided
            if float(np.mean(inputs[line])) >= MISSED_BELOW_PROGRAM * program_power
        }
        missing = {who for who in expected - heard - undecided if any(name(line, line) == who for line in speaking)}
        sounding = program_power >= SOUNDING
        unknown = sounding and hearing.unexplained > UNEXPLAINED
        problems = []
        if unexpected:
            problems.append(f"heard but not on air: {', '.join(sorted(unexpected))}")
        if missing:
            problems.append(f"on air but not heard: {', '.join(sorted(missing))}")
        if unknown:
            problems.append("the program carries a source the mixer has no record of")
        # Each window is one moment (its end): the alarm waits for windows that agree.
        self._observe(WRONG_LINE, bool(problems), end, detail="; ".join(problems))

    def _observe(
        self, alarm: str, condition: bool | None, start: float, end: float | None = None, detail: str = ""
    ) -> None:
        change = self.alarms[alarm].observe(condition, start, end, detail)
        if change is not None and not self.ended:
            self._changes.append(change)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
