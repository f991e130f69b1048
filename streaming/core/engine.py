"""The mix engine: line readers → mixer → AAC segments → HLS playlist and recording, on a clock."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import numpy as np

from . import SAMPLE_RATE, TICK_SECONDS
from .clock import Clock, RealtimeClock
from .diskfull import FENCED, WRITTEN, DiskWatch
from .encoder import AAC_FRAME_SAMPLES, AacRecorder, AacSegmenter, Part, Segment
from .envelopes import ENVELOPE_FILE, EnvelopeBatch, EnvelopeRecorder, append_batch
from .lines import HEALTH_OK, HEALTH_SILENT, LineReader, LineSpec
from .loudness import LoudnessMeter, LoudnessNormaliser
from .mixer import METER_FLOOR_DB, Mixer
from .peers import PRESENTER_PEER, PeerAudio
from .playlist import PlaylistWriter, target_duration_for
from .publisher import Publisher
from .returns import ProducerIn, ReturnPlan, Returns
from .stats import MixStats
from .watch import LineWatch

log = logging.getLogger(__name__)

REPORT_EVERY_TICKS = 5  # meters about ten times a second
STATS_EVERY_TICKS = 50  # timing figures once a second (streaming/core/stats.py)
RECORDING_NAME = "program.aac"
PRIVATE_DIR = "private"
# How long a free-running engine waits for a non-paced line's next frame before playing silence.
FREE_RUNNING_WAIT = 0.5
# "More than a moment" of dead air before the fallback plays alone.
FALLBACK_AFTER_SECONDS = 1.0
FALLBACK_ID = "fallback"

Gains = dict[str, float | None]


class MixEngine:
    """One event's mixer: owns the line readers and runs the real-time mix loop in `run`.

    `set_lines` and `set_mix` are safe from any thread; `run` blocks the calling thread.
    Public segments go to `out_dir`'s live playlist and the recording; rehearsal (public=False)
    segments go to `out_dir/private/` only. With `frames_per_part`, the public playlist is
    low-latency HLS: each segment's parts are published as soon as they are encoded. The program
    card (what the audience is told about the stage) goes into the playlist the program goes to,
    at the first sample mixed with it.
    When lines are on air but none of them carries audio for more than FALLBACK_AFTER_SECONDS,
    the `fallback` line plays alone until one does.
    Reports: "meters" ten times a second; "line_health" (with the policy's reason when a source
    was refused), "alarm", "fallback" and "output" (the disk full, or not) on changes.
    """

    def __init__(
        self,
        out_dir: Path,
        *,
        bitrate: int = 128000,
        frames_per_segment: int = 47,
        frames_per_part: int | None = None,
        window: int = 6,
        may_publish: Callable[[], bool] = lambda: True,
        on_report: Callable[[dict], None] = lambda report: None,
        clock: Clock | None = None,
        fallback: LineSpec | None = None,
        loudness_target: float | None = None,
    ) -> None:
        self.out_dir = Path(out_dir)
        self.bitrate = bitrate
        self.frames_per_segment = frames_per_segment
        self.frames_per_part = min(frames_per_part, frames_per_segment) if frames_per_part else None
        self.window = window
        self.may_publish = may_publish
        self.on_report = on_report
        self.clock = clock or RealtimeClock()
        self.fallback = fallback
        self.mixer = Mixer()
        self.watch = LineWatch(round(FALLBACK_AFTER_SECONDS / TICK_SECONDS))
        self.loudness = LoudnessMeter()
        self.normaliser = LoudnessNormaliser(loudness_target) if loudness_target is not None else None
        self.fenced = 0  # segments a lost lease kept from being published
        self.stats = MixStats()  # timing and publishing, reported once a second
        self.disk = DiskWatch(self._send)
        self._measure: list[np.ndarray] = []
        self._lock = threading.Lock()
        self._specs: dict[str, LineSpec] = {}
        self._readers: dict[str, LineReader] = {}
        self._pending_mix: tuple[Gains, bool, bool, dict | None] | None = None
        self._gains: Gains = {}
        self._hold = False
        self._card: dict | None = None
        self._card_due = False  # the card is to be written at this tick: changed, rerouted, run begun
        self._applied_gains: Gains | None = None
        self._public = True
        self._writers: dict[bool, PlaylistWriter] = {}
        self._recorder: AacRecorder | None = None
        self._publisher: Publisher | None = None  # while `run` runs: the segments' way out
        self._anchor_wall = 0.0
        self._peers: dict[str, PeerAudio] = {}
        self._past_peer_gaps: dict[str, int] = {}
        self._returns_plan = ReturnPlan()
        self.returns = Returns(self.mixer)

    def set_lines(self, specs: list[LineSpec]) -> None:
        """Make these the lines: start readers for new or changed ones, stop removed ones."""
        with self._lock:
            self._specs = {spec.line_id: spec for spec in specs}
            stale = self._sync_readers()
        for reader in stale:
            reader.stop()

    def set_mix(self, gains_db: Gains, *, public: bool = True, hold: bool = False, card: dict | None = None) -> None:
        """Gains in dB per line (None or missing = silent), routing, hold (the fallback alone) and
        the program card (None: unchanged); applied at the next tick."""
        with self._lock:
            self._pending_mix = (dict(gains_db), public, hold, card)

    def set_peer(self, peer_id: str, peer: PeerAudio | None) -> None:
        """Add (or with None remove) a WebRTC peer: a presenter's voice and return, or a
        producer's talkback and monitor (streaming/core/peers.py)."""
        with self._lock:
            previous = self._peers.pop(peer_id, None)
            if previous is not None and previous is not peer:
                # A line's gaps only ever grow: those of a connection it had count on after it.
                self._past_peer_gaps[peer_id] = self._past_peer_gaps.get(peer_id, 0) + previous.inbound.underruns
            if peer is not None:
                self._peers[peer_id] = peer

    def set_returns(self, plan: ReturnPlan) -> None:
        """What the peers hear (streaming/core/returns.py), from the next tick on."""
        with self._lock:
            self._returns_plan = plan

    def set_fallback(self, spec: LineSpec | None) -> None:
        """The source played alone on hold or when the on-air lines carry no audio."""
        with self._lock:
            self.fallback = spec
            stale = self._sync_readers()
        for reader in stale:
            reader.stop()

    def run(self, stop: threading.Event) -> None:
        """The mix loop: a 20 ms tick scheduled on the clock, until `stop` is set."""
        segmenter = AacSegmenter(
            bitrate=self.bitrate, frames_per_segment=self.frames_per_segment, frames_per_part=self.frames_per_part
        )
        with self._lock:
            self._sync_readers()
        self._writer(self._public).begin_run()
        if self._recorder is None:
            self._recorder = AacRecorder(self.out_dir / RECORDING_NAME)
        # Program date-time is a sample clock anchored to the wall clock at the start of each run.
        self._anchor_wall = self.clock.time()
        self._envelopes = EnvelopeRecorder(self.mixer.frame_samples)  # keyed by this run's samples
        self._card_due = True  # a restarted mixer writes the card in force at its first tick
        ticks = 0
        deadline = self.clock.monotonic()
        self._publisher = Publisher()
        try:
            while not stop.is_set():
                self._publisher.check()  # a failed publish stops the mix, as it did in the tick
                self._tick(segmenter)
                ticks += 1
                if ticks % REPORT_EVERY_TICKS == 0:
                    self._report()
                if ticks % STATS_EVERY_TICKS == 0:
                    self._send(self.stats.report())
                deadline += TICK_SECONDS
                # When late, the deadline is already past and the next tick runs at once.
                self.clock.sleep_until(deadline)
                self.stats.tick(self.clock.monotonic() - deadline)
        finally:
            try:
                for piece in segmenter.finish():
                    self._submit(piece)
            finally:
                with self._lock:
                    readers, self._readers = list(self._readers.values()), {}
                for reader in readers:
                    reader.stop()
                # Every segment is written before `run` returns (and `end_show` ends the playlist).
                self._publisher.close()

    def end_show(self) -> None:
        """After `run` returned: end the playlist (EXT-X-ENDLIST) and close the recording."""
        self._writer(True).end()
        if self._recorder is not None:
            self._recorder.close()
            self._recorder = None

    def _tick(self, segmenter: AacSegmenter) -> None:
        with self._lock:
            readers = dict(self._readers)
            peers = dict(self._peers)
            plan = self._returns_plan
            pending, self._pending_mix = self._pending_mix, None
        if pending is not None:
            self._gains, public, self._hold, card = pending
            if public != self._public:
                self._reroute(segmenter, public)
            if card is not None and card != self._card:
                self._card, self._card_due = card, True
        if self._card_due and self._card is not None:
            # This tick's first sample is the first one mixed with the new gains.
            self._submit_card(self._card, segmenter.position)
            self._card_due = False
        # A presenter speaking over WebRTC: their line's input is their peer's, not the uplink's.
        speaking = {
            line_id: peer
            for line_id, peer in peers.items()
            if peer.kind == PRESENTER_PEER and line_id in readers and peer.inbound.active()
        }
        self._watch(readers, speaking)
        wait = 0.0 if self.clock.realtime else FREE_RUNNING_WAIT
        frames = {
            line_id: self._peer_frame(speaking[line_id]) if line_id in speaking else reader.read_frame(wait)
            for line_id, reader in readers.items()
        }
        program = self.mixer.mix(frames)
        self._record_envelopes(segmenter.position)
        if peers:
            # Before the encoder's share of the tick: the returns' latency is the mix's alone.
            self._send_returns(plan, frames, program, peers, speaking.keys())
        # Feed-forward: with normalisation on, the sum before the normaliser's own gain is what is
        # measured, which keeps the 3 s short-term window out of a feedback loop that would hunt.
        self._measure.append(program if self.normaliser is None else self.mixer.last_sum)
        if len(self._measure) == REPORT_EVERY_TICKS:
            # One push per meter report: a fifth of the PyAV frames and filter runs of one per tick.
            self.loudness.push(np.concatenate(self._measure, axis=1))
            self._measure.clear()
            if self.normaliser is not None:
                gain_db = self.normaliser.update(self.loudness.short_term, REPORT_EVERY_TICKS * TICK_SECONDS)
                self.mixer.set_program_gain(gain_db)
        for piece in segmenter.push(program):
            self._submit(piece)

    def _record_envelopes(self, position: int) -> None:
        """Note what each line put into this tick (for the off-air monitor, streaming/core/envelopes.py);
        a second's worth is written beside the public segments, never beside the rehearsal's."""
        batch = self._envelopes.add(position, self.mixer.line_levels())
        if batch is not None and self._public:
            self._publisher.submit(partial(self._publish_envelopes, batch))

    def _publish_envelopes(self, batch: EnvelopeBatch) -> None:
        if self.may_publish():  # a fenced-off mixer's record would contradict its replacement's
            line = batch.to_json(self._date_time(batch.position).timestamp())
            self.disk.keep_record(partial(append_batch, self.out_dir / ENVELOPE_FILE, line))

    def _peer_frame(self, peer: PeerAudio) -> np.ndarray:
        frame = peer.inbound.pop()
        return frame if frame is not None else np.zeros((self.mixer.channels, self.mixer.frame_samples), np.float32)

    def _send_returns(
        self,
        plan: ReturnPlan,
        frames: dict[str, np.ndarray],
        program: np.ndarray,
        peers: dict[str, PeerAudio],
        speaking: Iterable[str],
    ) -> None:
        presenters = [peer_id for peer_id, peer in peers.items() if peer.kind == PRESENTER_PEER]
        producers = {
            peer_id: ProducerIn(peer.inbound.pop(), peer.monitor, peer.backstage_talk)
            for peer_id, peer in peers.items()
            if peer.kind != PRESENTER_PEER
        }
        returns = self.returns.compute(plan, frames, program, presenters, set(speaking), producers)
        for peer_id, frame in returns.items():
            try:
                peers[peer_id].send_return(frame)
            except Exception:  # one broken connection must not stop the program or the others
                log.exception("return to peer %s failed", peer_id)
        # The returns leave together: one wake-up of the adapter's loop a tick, not one a peer.
        for flush in {peer.after_returns for peer in peers.values() if peer.after_returns is not None}:
            try:
                flush()
            except Exception:
                log.exception("returns could not be sent")

    def _watch(self, readers: dict[str, LineReader], speaking: dict[str, PeerAudio]) -> None:
        """Report health changes and alarms; put the fallback on or off air. A line whose
        presenter speaks over WebRTC has the health of what their peer sends (ok, or silent
        after three seconds of silence), whatever its uplink reader says."""
        health = {line_id: reader.health for line_id, reader in readers.items() if line_id != FALLBACK_ID}
        health |= {
            line_id: HEALTH_SILENT if peer.inbound.silent else HEALTH_OK
            for line_id, peer in speaking.items()
            if line_id in health
        }
        faults = {line_id: readers[line_id].fault for line_id in health}
        on_air = {line_id for line_id, gain in self._gains.items() if gain is not None and line_id in health}
        reports = self.watch.update(health, on_air, faults)
        # The fallback plays alone; the dead lines stay silent until one carries audio again.
        fallback = self._hold or self.watch.fallback_active
        gains = _FALLBACK_GAINS if fallback and FALLBACK_ID in readers else self._gains
        if gains is not self._applied_gains:
            self.mixer.set_gains(gains)
            self._applied_gains = gains
        for report in reports:
            self._send(report)

    def _reroute(self, segmenter: AacSegmenter, public: bool) -> None:
        """Switch between public and rehearsal output at an AAC frame boundary."""
        # The encoder holds back about two AAC frames, so ≈40 ms of the old routing's audio
        # lands in the first segment of the new one.
        for piece in segmenter.cut():
            self._submit(piece)
        self._public = public
        self._card_due = True  # the new output's playlist starts with the card in force
        self._publisher.submit(lambda: self._writer(public).begin_run())

    def _submit(self, piece: Part | Segment) -> None:
        """Publish a part or segment where the current routing sends it, off the mix loop's thread
        (a segment with the moment it was cut, for the publish delay)."""
        publish = self._publish_part if isinstance(piece, Part) else self._publish
        self._publisher.submit(partial(publish, piece, self._public, self.clock.monotonic()))

    def _submit_card(self, card: dict, position: int) -> None:
        """Write `card` into the playlist of the current routing, from the sample at `position`."""
        self._publisher.submit(partial(self._publish_card, card, position, self._public))

    def _publish_card(self, card: dict, position: int, public: bool) -> None:
        self._writer(public).add_card(card, self._date_time(position))

    def _date_time(self, position: int) -> datetime:
        """The program date-time of the sample at `position` in this run."""
        return datetime.fromtimestamp(self._anchor_wall + position / SAMPLE_RATE, tz=UTC)

    def _publish_part(self, part: Part, public: bool, _cut_at: float) -> None:
        # The rehearsal's private playlist is plain HLS: its players (a producer's preview, a
        # presenter's return) need no part.
        if public:
            self.disk.publish_part(self._writer(True), part, self._date_time(part.start))

    def _publish(self, segment: Segment, public: bool, cut_at: float) -> None:
        pdt = self._date_time(segment.start)
        # A full disk drops the segment and raises the alarm (streaming/core/diskfull.py).
        outcome = self.disk.publish(self._writer(public), segment, pdt)
        if outcome == FENCED:
            self.fenced += 1
        elif outcome == WRITTEN and public and self._recorder is not None:
            self.disk.record(self._recorder, segment)
        self.stats.segment(self.clock.monotonic() - cut_at, published=outcome == WRITTEN)

    def _writer(self, public: bool) -> PlaylistWriter:
        if public not in self._writers:
            directory = self.out_dir if public else self.out_dir / PRIVATE_DIR
            parts = public and self.frames_per_part
            self._writers[public] = PlaylistWriter(
                directory,
                target_duration=target_duration_for(self.frames_per_segment * AAC_FRAME_SAMPLES / SAMPLE_RATE),
                window=self.window,
                may_publish=self.may_publish,
                part_target=self.frames_per_part * AAC_FRAME_SAMPLES / SAMPLE_RATE if parts else None,
            )
        return self._writers[public]

    def _wanted_specs(self) -> dict[str, LineSpec]:
        wanted = dict(self._specs)
        if self.fallback is not None:
            wanted[FALLBACK_ID] = self.fallback
        return wanted

    def _sync_readers(self) -> list[LineReader]:
        """Start readers for wanted lines; returns the readers to stop (caller holds the lock)."""
        wanted = self._wanted_specs()
        stale = [
            self._readers.pop(line_id)
            for line_id, reader in list(self._readers.items())
            if wanted.get(line_id) != reader.spec
        ]
        for line_id, spec in wanted.items():
            if line_id not in self._readers:
                reader = LineReader(spec, realtime=self.clock.realtime)
                reader.start()
                self._readers[line_id] = reader
        return stale

    def _report(self) -> None:
        meters = self.mixer.meters()
        with self._lock:
            readers = {line_id: reader for line_id, reader in self._readers.items() if line_id != FALLBACK_ID}
            # Gaps: 20 ms frames the line had nothing for since it opened (its contribution's dropouts).
            peers = {peer_id: peer for peer_id, peer in self._peers.items() if peer.kind == PRESENTER_PEER}
            past_gaps = dict(self._past_peer_gaps)
        lines = {
            line_id: {
                **meters["lines"].get(line_id, _SILENT_METER),
                "health": reader.health,
                "gaps": reader.underruns + past_gaps.get(line_id, 0),
            }
            for line_id, reader in readers.items()
        }
        for line_id, meter in lines.items():
            if line_id in peers:
                # Ticks the peer's jitter buffer ran dry count as the line's gaps too.
                meter["gaps"] += peers[line_id].inbound.underruns
                meter["link"] = _link(peers[line_id])
                if meter["link"]["path"] == "webrtc":
                    meter["health"] = HEALTH_OK  # as the watch counts it (see _watch)
        gain_db = self.normaliser.gain_db if self.normaliser is not None else 0.0
        program = {
            **meters["program"],
            # With normalisation on, the measured sum plus the (slow) gain: the program's loudness.
            "momentary_lufs": _plus(self.loudness.momentary, gain_db),
            "short_term_lufs": _plus(self.loudness.short_term, gain_db),
            "gain_db": round(gain_db, 2),
        }
        self._send(
            {
                "type": "meters",
                "lines": lines,
                "program": program,
                "fallback": self.watch.fallback_active,
                "public": self._public,
            }
        )

    def _send(self, report: dict) -> None:
        try:
            self.on_report(report)
        except Exception:  # a broken listener must not stop the program
            log.exception("mixer report failed")


def _link(peer: PeerAudio) -> dict:
    """How a presenter's line reaches the mixer: their WebRTC peer while it delivers audio, else
    the WebSocket uplink; with the peer connection's figures (None until the adapter has them)
    how long the peer's jitter buffer held its frames past their on-time arrival, and the frames
    of this connection's voice that came too late or too many to be mixed."""
    stats = peer.stats
    figures = {name: _number(stats.get(name)) for name in ("rtt_ms", "jitter_ms", "loss_pct")}
    buffer_ms = round(peer.inbound.held * 1000, 1)
    path = "webrtc" if peer.inbound.active() else "websocket"
    return {"path": path, **figures, "buffer_ms": buffer_ms, "cut_frames": peer.inbound.cut}


def _number(value) -> float | None:
    return None if value is None else round(float(value), 2)


def _plus(lufs: float | None, gain_db: float) -> float | None:
    return None if lufs is None else round(lufs + gain_db, 2)


_FALLBACK_GAINS: Gains = {FALLBACK_ID: 0.0}
_SILENT_METER = {"peak_db": METER_FLOOR_DB, "rms_db": METER_FLOOR_DB}
