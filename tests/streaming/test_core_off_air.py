"""The off-air monitor's core, fed what a viewer gets from a stream the project's own mixer, encoder
and playlist writer made of numpy tones: each alarm is raised by causing its fault and cleared
when the fault goes."""

import threading

import numpy as np
import pytest

from streaming.core.clock import FreeRunningClock
from streaming.core.engine import MixEngine
from streaming.core.envelopes import ENVELOPE_FILE, EnvelopeStore, EnvelopeTail
from streaming.core.lines import LineSpec
from streaming.core.media_playlist import parse_media_playlist
from streaming.core.off_air import (
    DEAD_AIR,
    DISCONTINUITY,
    LATE,
    LOUD,
    REGRESSED,
    STALLED,
    WRONG_LINE,
    MonitorSettings,
    OffAirMonitor,
)
from tests.streaming.broadcast import Broadcast, Viewer, gated_tone
from tests.streaming.test_core_engine import _run_ticks

# Short holds, so each fault takes seconds of simulated program.
SETTINGS = MonitorSettings(
    dead_air_seconds=2.0,
    loud_seconds=2.0,
    late_seconds=2.0,
    stall_seconds=2.5,
    heard_window=3.0,
    heard_seconds=1.5,
    discontinuity_seconds=3.0,
    regressed_seconds=2.0,
)
NAMES = {"p1": "Alice", "p2": "Bob"}


@pytest.fixture
def show(tmp_path):
    return Broadcast(tmp_path, {"p1": gated_tone(440, 1), "p2": gated_tone(660, 2)})


@pytest.fixture
def viewer(show):
    return Viewer(show, OffAirMonitor(SETTINGS, line_names=NAMES))


def only(changes, alarm):
    return [(change.active, change.detail) for change in changes if change.alarm == alarm]


def test_a_show_as_the_stage_says_raises_nothing_and_reads_latency_loudness_and_who_is_heard(show, viewer):
    show.card("Alice")
    show.mix(6, {"p1": 0.0, "p2": None}, viewer)
    show.card("Alice", "Bob")
    show.mix(6, {"p1": 0.0, "p2": 0.0}, viewer)

    assert viewer.changes == []
    assert viewer.monitor.heard == ("Alice", "Bob")
    assert viewer.monitor.active == {}
    last = viewer.readings[-1]
    # A one-second segment is listed once its last sample is mixed, and read at the next reload.
    assert 1.0 <= last.latency <= 1.0 + 0.25 + 0.05
    # Two tones of amplitude 0.25 (-15 dBFS RMS), each on 60 % of the time, in both channels.
    assert -16 < last.short_term < -10
    assert last.integrated is not None and last.true_peak < -5
    assert [reading.sequence for reading in viewer.readings] == list(range(viewer.readings[0].sequence, 11))


def test_the_wrong_line_on_air_behind_the_stages_back_raises_wrong_line_until_the_stage_agrees(show, viewer):
    show.card("Alice")
    show.mix(5, {"p1": 0.0, "p2": None}, viewer)
    assert viewer.changes == [] and viewer.monitor.heard == ("Alice",)

    # The card still says Alice; the program carries Bob.
    show.mix(6, {"p1": None, "p2": 0.0}, viewer)
    assert only(viewer.changes, WRONG_LINE) == [(True, "heard but not on air: Bob; on air but not heard: Alice")]
    raised_at = viewer.changes[0].at
    assert 5.0 + 1.5 <= raised_at - show.anchor <= 5.0 + 4.0
    assert viewer.monitor.heard == ("Bob",)

    # The stage catches up: Bob is on air.
    show.card("Bob")
    show.mix(6, {"p1": None, "p2": 0.0}, viewer)
    assert only(viewer.changes, WRONG_LINE)[-1] == (False, "")
    assert viewer.raised() == [WRONG_LINE]


def test_an_unrecorded_source_in_the_program_is_a_wrong_line_too(tmp_path):
    show = Broadcast(tmp_path, {"p1": gated_tone(440, 1), "intruder": gated_tone(880, 3)})
    viewer = Viewer(show, OffAirMonitor(SETTINGS, line_names=NAMES))
    show.card("Alice")
    show.mix(4, {"p1": 0.0, "intruder": None}, viewer)
    # The double mixes a source but keeps no record of it (as a leak past the mixer would).
    def unrecorded(position, levels, add=show.recorder.add):
        ids, energy, gain = levels
        kept = [index for index, line in enumerate(ids) if line != "intruder"]
        return add(position, (tuple(ids[index] for index in kept), energy[kept], gain[kept]))

    show.recorder.add = unrecorded
    show.mix(6, {"p1": None, "intruder": 0.0}, viewer)
    assert only(viewer.changes, WRONG_LINE) == [
        (True, "on air but not heard: Alice; the program carries a source the mixer has no record of")
    ]


def test_muting_every_on_air_line_is_dead_air_until_sound_returns(show, viewer):
    monitor = viewer.monitor
    show.card("Alice")
    monitor.set_on_air(["Alice"], show.clock)
    show.mix(3, {"p1": 0.0}, viewer)
    # Muted: the card names nobody heard, but Alice is still on air.
    show.card()
    show.mix(1.5, {"p1": None}, viewer)
    assert viewer.changes == []  # a pause, not yet dead air
    show.mix(2.0, {"p1": None}, viewer)
    assert only(viewer.changes, DEAD_AIR) == [(True, "the program is silent while on air")]
    raised = viewer.changes[0].at - show.anchor
    assert 3.0 + 2.0 <= raised <= 3.0 + 2.0 + 0.2

    show.card("Alice")
    show.mix(3, {"p1": 0.0}, viewer)
    assert only(viewer.changes, DEAD_AIR)[-1] == (False, "")
    assert viewer.raised() == [DEAD_AIR]


def test_silence_with_nobody_on_air_or_on_hold_is_not_dead_air(show, viewer):
    show.card()
    viewer.monitor.set_on_air([], show.clock)
    show.mix(4, {"p1": None}, viewer)
    show.card("Alice", hold=True)
    show.mix(4, {"p1": None}, viewer)
    assert viewer.changes == []


def test_loudness_past_the_target_raises_loud_until_it_falls_back(tmp_path):
    show = Broadcast(tmp_path, {"p1": gated_tone(1000, 1, amplitude=0.85)})
    viewer = Viewer(show, OffAirMonitor(SETTINGS, line_names=NAMES))
    show.card("Alice")
    show.mix(7, {"p1": -20.0}, viewer)
    assert viewer.changes == []
    show.mix(7, {"p1": 0.0}, viewer)
    [(active, detail)] = only(viewer.changes, LOUD)
    assert active and detail.startswith("short-term loudness -") and detail.endswith("LUFS, target -16")
    assert float(detail.split()[2]) > -12
    show.mix(8, {"p1": -20.0}, viewer)
    assert only(viewer.changes, LOUD)[-1] == (False, "")


def test_a_frozen_mixer_stalls_the_playlist_and_its_restart_is_a_discontinuity(show, viewer):
    show.card("Alice")
    show.mix(4, {"p1": 0.0}, viewer)
    show.advance(2.0, viewer)  # frozen: no segment for a while, but not long enough yet
    assert viewer.changes == []
    show.restart(gap=2.0, viewer=viewer)  # frozen for 4 s in all, then replaced
    assert only(viewer.changes, STALLED) == [(True, "no new segment for 3 s")]

    show.card("Alice")
    show.mix(2, {"p1": 0.0}, viewer)
    assert only(viewer.changes, STALLED)[-1] == (False, "")
    # The double's frozen mixer never finished its last segment: the replacement's first is 3.
    assert only(viewer.changes, DISCONTINUITY) == [(True, "the stream was cut before segment 3")]
    show.mix(4, {"p1": 0.0}, viewer)
    assert only(viewer.changes, DISCONTINUITY)[-1] == (False, "")
    assert sorted(viewer.raised()) == [DISCONTINUITY, STALLED]
    assert viewer.changes[-1].alarm == DISCONTINUITY


def test_a_playlist_that_goes_back_raises_regressed_and_a_good_one_clears_it(show, viewer):
    show.card("Alice")
    show.mix(4, {"p1": 0.0}, viewer)
    current = show.published[-1][1]
    assert current.rstrip().endswith("segment_000002.ts")
    viewer.override = show.published[0][1]  # a server behind another answers with an older playlist
    show.advance(0.5, viewer)
    [(active, detail)] = only(viewer.changes, REGRESSED)
    assert active and detail == "the newest segment went back from 2 to 0"
    viewer.override = current.replace("segment_000002.ts", "segment_000099.ts")
    show.advance(0.3, viewer)
    viewer.override = None
    show.mix(3, {"p1": 0.0}, viewer)
    assert only(viewer.changes, REGRESSED)[-1] == (False, "")


def test_a_stale_playlist_makes_segments_late_and_the_alarm_clears_when_fresh_again(show):
    viewer = Viewer(show, OffAirMonitor(SETTINGS, line_names=NAMES), lag=3.5)
    show.card("Alice")
    show.mix(9, {"p1": 0.0}, viewer)
    [(active, detail)] = only(viewer.changes, LATE)
    assert active and detail.startswith("segments arrive 4.")
    assert 4.4 < viewer.readings[-1].latency < 4.8
    # Its first look found the live edge 3.5 s old already: stalled, until the next segment came.
    assert only(viewer.changes, STALLED) == [(True, "no new segment for 4 s"), (False, "")]
    viewer.lag = 0.0
    show.mix(5, {"p1": 0.0}, viewer)
    assert only(viewer.changes, LATE)[-1] == (False, "")


def test_an_unreadable_playlist_stalls_with_the_reason_and_the_end_clears_everything(show, viewer):
    show.card("Alice")
    show.mix(3, {"p1": 0.0}, viewer)
    viewer.override = "<html>Bad gateway</html>"
    show.advance(3.0, viewer)
    [(active, detail)] = only(viewer.changes, STALLED)
    assert active and detail == "the playlist cannot be read: a playlist starts with #EXTM3U"
    viewer.override = None
    show.writer.end()
    show.published.append((show.clock, show.writer.render_live()))
    show.advance(0.3, viewer)
    assert viewer.monitor.ended and viewer.monitor.active == {}
    assert only(viewer.changes, STALLED)[-1] == (False, "")


def gated_lavfi(line_id: str, frequency: int, gate_hz: float) -> LineSpec:
    """A lavfi tone keyed on and off at `gate_hz` (an organiser's test tone may be this too)."""
    expression = f"0.25*sin(2*PI*{frequency}*t)*(1+sgn(sin(2*PI*{gate_hz}*t)))/2"
    return LineSpec(line_id, f"aevalsrc={expression}:s=48000", format="lavfi")


def test_the_engine_records_each_lines_envelope_beside_its_segments_and_the_monitor_hears_who_is_on(tmp_path):
    engine = MixEngine(tmp_path, clock=FreeRunningClock(), frames_per_segment=47)
    engine.set_lines([gated_lavfi("p1", 440, 1.3), gated_lavfi("p2", 660, 0.7)])
    card = {"phase": "live", "hold": False, "speaking": ["Alice"], "segment": "", "question": "", "question_name": ""}
    engine.set_mix({"p1": 0.0, "p2": None}, card=card)
    _run_ticks(engine, threading.Event(), engine.clock, ticks=250)  # 5 s of program

    store = EnvelopeStore()
    for line in EnvelopeTail(tmp_path / ENVELOPE_FILE).read():
        store.add_line(line)
    playlist = parse_media_playlist((tmp_path / "live.m3u8").read_text())
    # Blocks start at the run's first sample; the first segment's date-time is that of its
    # first AAC frame, the encoder's priming (1024 samples) before it.
    assert store.start == pytest.approx(playlist.segments[0].pdt + 1024 / 48000, abs=1e-3)
    blocks = store.blocks(store.start, store.end)
    assert len(blocks) == 50
    steady = blocks[1:]  # the first block holds the 10 ms fade-in from silence
    assert {block.lines["p1"][1] for block in steady} == {1.0}
    assert {block.lines["p2"][1] for block in blocks} == {0.0}
    # Each line's input, on air or not: a 0.25 sine half the time, mono spread over two channels
    # at -3 dB each (-18.1 dB mean square).
    levels = [10 * np.log10(block.lines["p2"][0]) for block in blocks]
    assert max(levels) == pytest.approx(-18.1, abs=0.2) and min(levels) == -100.0

    monitor = OffAirMonitor(MonitorSettings(heard_window=2.0), line_names=NAMES)
    monitor.envelopes(EnvelopeTail(tmp_path / ENVELOPE_FILE).read())
    now = playlist.last.end + 0.1
    for segment in monitor.playlist((tmp_path / "live.m3u8").read_text(), now):
        monitor.segment(segment, (tmp_path / segment.uri).read_bytes(), now)
    monitor.tick(now)
    assert monitor.heard == ("Alice",)
    assert monitor.changes() == []


def test_a_show_just_gone_live_has_a_while_to_publish_its_first_playlist(show):
    monitor = OffAirMonitor(SETTINGS, line_names=NAMES)
    start = show.clock
    for seconds in (0.0, 10.0, 29.0):
        monitor.playlist_failed("the playlist could not be fetched: HTTP 404", start + seconds)
        monitor.tick(start + seconds)
    assert monitor.changes() == []  # a stall, once a playlist is read, would be 2.5 s
    monitor.playlist_failed("the playlist could not be fetched: HTTP 404", start + 31.0)
    [change] = monitor.changes()
    assert (change.alarm, change.active) == (STALLED, True)
    assert change.detail == "no playlist published 31 s into the show (the playlist could not be fetched: HTTP 404)"


def test_a_listener_on_air_whose_microphone_only_hears_the_room_is_not_missed(tmp_path):
    room = gated_tone(100, 5, amplitude=0.004)  # about -50 dBFS: a quiet room, not a voice
    show = Broadcast(tmp_path, {"p1": gated_tone(440, 1), "p2": room})
    viewer = Viewer(show, OffAirMonitor(SETTINGS, line_names=NAMES))
    show.card("Alice", "Bob")
    show.mix(8, {"p1": 0.0, "p2": 0.0}, viewer)
    assert viewer.changes == [] and viewer.monitor.heard == ("Alice",)
