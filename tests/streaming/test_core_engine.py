"""The mix engine end to end: lavfi tones in, HLS segments out, gains heard where they were set."""

import io
import itertools
import threading
from contextlib import contextmanager
from functools import partial

import av
import numpy as np
import pytest

from events.harness import wait_for
from stage.contract.messages import validate_server_message
from stage.contract.records import CONSOLE
from streaming.core.clock import FreeRunningClock
from streaming.core.engine import MixEngine
from streaming.core.lines import LineSpec
from streaming.core.mixer import Mixer
from streaming.core.peers import PRESENTER_PEER, PeerAudio
from tests.supervision.playlists import low_latency_problems

SR = 48000
# Segments of 94 AAC frames (2.005 s), not the default 47: the counts some tests check (segments,
# parts, the window) are written for them.
TWO_SECONDS = 94


def sine(line_id: str, frequency: int) -> LineSpec:
    return LineSpec(line_id, f"sine=frequency={frequency}:sample_rate={SR}", format="lavfi")


def playlist_uris(path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line and not line.startswith("#")]


def decode_segments(directory, uris) -> np.ndarray:
    data = b"".join((directory / uri).read_bytes() for uri in uris)
    with av.open(io.BytesIO(data), format="mpegts") as container:
        return np.concatenate([f.to_ndarray() for f in container.decode(audio=0)], axis=1)


def level_at(samples: np.ndarray, frequency: float) -> float:
    """Amplitude of one frequency (Hann window, exact bin: 0.5 s of audio has 2 Hz bins)."""
    windowed = samples * np.hanning(len(samples))
    spectrum = np.abs(np.fft.rfft(windowed)) / (np.hanning(len(samples)).sum() / 2)
    return float(spectrum[round(frequency * len(samples) / SR)])


def programme_seconds(reports: list[dict]) -> float:
    """How much programme a real-time engine has mixed: it reports meters every 0.1 s of it."""
    return 0.1 * sum(1 for report in reports if report["type"] == "meters")


@contextmanager
def running(engine: MixEngine):
    """The engine's real-time loop in a thread while the block runs; stopped at its end."""
    stop = threading.Event()
    thread = threading.Thread(target=engine.run, args=(stop,))
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()


def mixed(reports: list[dict], seconds: float) -> float:
    """Wait until the engine has mixed `seconds` of programme; returns how much it has."""
    return wait_for(lambda: (done := programme_seconds(reports)) >= seconds and done, seconds + 20, f"{seconds} s")


def test_gain_switch_is_heard_in_the_hls_segments_where_it_happened(tmp_path):
    reports = []
    engine = MixEngine(tmp_path, on_report=reports.append)
    engine.set_lines([sine("low", 440), sine("high", 1000)])
    engine.set_mix({"low": 0.0, "high": None})
    with running(engine):
        mixed(reports, 2.5)
        engine.set_mix({"low": None, "high": 0.0})
        # Applied at the next tick: no later than the next meter report, plus a tick.
        switched_by = programme_seconds(reports) + 0.12
        mixed(reports, switched_by + 2.0)
    engine.end_show()

    live = (tmp_path / "live.m3u8").read_text()
    assert live.endswith("#EXT-X-ENDLIST\n")
    uris = playlist_uris(tmp_path / "vod.m3u8")
    program = decode_segments(tmp_path, uris)[0]
    segment = engine.frames_per_segment * 1024  # whole segments, then the flushed rest
    assert len(uris) == -(-program.shape[0] // segment) and program.shape[0] >= (switched_by + 2.0) * SR
    # The switch came after 2.5 s and at least 2 s before the end.
    first, last = program[SR : SR + SR // 2], program[-SR : -SR // 2]
    # lavfi sine is 1/8 full scale, upmixed from mono at -3 dB: 0.0884 on each channel
    assert level_at(first, 440) > 0.085 and level_at(first, 1000) < 0.001
    assert level_at(last, 1000) > 0.085 and level_at(last, 440) < 0.001

    meters = [r for r in reports if r["type"] == "meters"]
    # Ten a second of programme: one per 4800 samples, give or take the last report and the
    # encoder's framing (priming, the final partial AAC frame).
    assert abs(program.shape[0] - 4800 * len(meters)) < 4800 + 2 * 1024
    assert set(meters[-1]["lines"]) == {"low", "high"}
    assert meters[-1]["lines"]["high"]["health"] == "ok"
    assert isinstance(meters[-1]["lines"]["high"]["gaps"], int)
    assert -21.2 < meters[-1]["program"]["peak_db"] < -20.9  # 20·log10(0.0884) = -21.07
    recording = (tmp_path / "program.aac").read_bytes()
    with av.open(io.BytesIO(recording), format="aac") as container:
        assert sum(f.samples for f in container.decode(audio=0)) == program.shape[0]


def test_restarted_engine_continues_the_playlist_after_a_discontinuity(tmp_path):
    for _ in range(2):
        engine = MixEngine(tmp_path, clock=FreeRunningClock(), window=3, frames_per_segment=TWO_SECONDS)
        engine.set_lines([sine("a", 440)])
        engine.set_mix({"a": -6.0})
        stop = threading.Event()
        clock = engine.clock
        _run_ticks(engine, stop, clock, ticks=250)  # 5 s of programme, faster than real time
    engine.end_show()
    live = (tmp_path / "live.m3u8").read_text()
    vod = (tmp_path / "vod.m3u8").read_text()
    assert playlist_uris(tmp_path / "vod.m3u8") == [f"segment_{i:06d}.ts" for i in range(6)]
    assert vod.count("#EXT-X-DISCONTINUITY\n") == 1
    assert vod.splitlines()[vod.splitlines().index("segment_000003.ts") - 3] == "#EXT-X-DISCONTINUITY"
    assert "#EXT-X-MEDIA-SEQUENCE:3" in live
    assert "#EXT-X-DISCONTINUITY-SEQUENCE:1" in live


def test_rehearsal_goes_to_the_private_directory_only(tmp_path):
    engine = MixEngine(tmp_path, clock=FreeRunningClock(), frames_per_segment=TWO_SECONDS, frames_per_part=14)
    engine.set_lines([sine("a", 440)])
    engine.set_mix({"a": 0.0}, public=False)
    _run_ticks(engine, threading.Event(), engine.clock, ticks=250)
    assert not (tmp_path / "live.m3u8").exists()
    assert len(playlist_uris(tmp_path / "private" / "live.m3u8")) == 3
    # Its players are a producer's preview and a presenter's return: plain HLS, no parts.
    assert "PART" not in (tmp_path / "private" / "live.m3u8").read_text()
    assert list(tmp_path.rglob("part_*")) == []


def test_low_latency_parts_are_published_as_encoded_and_play_as_their_segments(tmp_path):
    engine = MixEngine(tmp_path, clock=FreeRunningClock(), frames_per_segment=TWO_SECONDS, frames_per_part=14)
    engine.set_lines([sine("a", 440)])
    engine.set_mix({"a": 0.0})
    _run_ticks(engine, threading.Event(), engine.clock, ticks=260)  # 5.2 s: two segments and a cut one
    live = (tmp_path / "live.m3u8").read_text()
    assert low_latency_problems(live) == []
    parts = sorted(tmp_path.glob("part_*.ts"), key=lambda path: [int(n) for n in path.stem.split("_")[1:]])
    assert [path.name for path in parts[:8]] == [f"part_000000_{n}.ts" for n in range(7)] + ["part_000001_0.ts"]
    segments = playlist_uris(tmp_path / "live.m3u8")
    assert np.array_equal(decode_segments(tmp_path, [p.name for p in parts]), decode_segments(tmp_path, segments))


def test_fenced_engine_publishes_nothing(tmp_path):
    engine = MixEngine(tmp_path, clock=FreeRunningClock(), may_publish=lambda: False)
    engine.set_lines([sine("a", 440)])
    engine.set_mix({"a": 0.0})
    _run_ticks(engine, threading.Event(), engine.clock, ticks=250)
    engine.end_show()
    assert list(tmp_path.glob("*.m3u8")) == []
    assert list(tmp_path.glob("*.ts")) == []


def _run_ticks(engine: MixEngine, stop: threading.Event, clock: FreeRunningClock, ticks: int) -> None:
    """Run the engine on a free-running clock and stop it after `ticks` ticks."""
    sleep_until = clock.sleep_until
    count = [0]

    def counting_sleep(deadline: float) -> None:
        count[0] += 1
        if count[0] >= ticks:
            stop.set()
        sleep_until(deadline)

    clock.sleep_until = counting_sleep
    engine.run(stop)


def _run_ticks_with(engine: MixEngine, ticks: int, actions: dict) -> None:
    """Free-running run of `ticks` ticks, calling actions[n]() just before tick n."""
    clock = engine.clock
    stop = threading.Event()
    sleep_until = clock.sleep_until
    count = [0]

    def counting_sleep(deadline: float) -> None:
        count[0] += 1
        if count[0] in actions:
            actions[count[0]]()
        if count[0] >= ticks:
            stop.set()
        sleep_until(deadline)

    clock.sleep_until = counting_sleep
    engine.run(stop)


def test_fallback_plays_alone_after_a_second_of_dead_air_until_a_line_carries_again(tmp_path):
    reports = []
    engine = MixEngine(
        tmp_path,
        clock=FreeRunningClock(),
        frames_per_segment=TWO_SECONDS,  # six of them: the live playlist still holds the first
        on_report=reports.append,
        fallback=sine("fallback", 300),
    )
    engine.set_lines([LineSpec("a", "http://127.0.0.1:9/refused")])
    engine.set_mix({"a": 0.0})
    # At tick 150 the line is fixed: a new source for the same line id.
    _run_ticks_with(engine, 300, {150: lambda: engine.set_lines([sine("a", 1000)])})

    changes = [r for r in reports if r["type"] not in ("meters", "stats")]
    health = [r["health"] for r in changes if r["type"] == "line_health"]
    # A reader is "connecting" until its input answers or fails: a tick may look in time to see it
    # or not (the refusal, or the fixed line's first frame, can come first). Either way each
    # change is told once: faulted, then ok.
    assert [state for state in health if state != "connecting"] == ["faulted", "ok"]
    assert all(state != following for state, following in itertools.pairwise(health))
    fallback = [(reports.index(r), r["active"]) for r in reports if r["type"] == "fallback"]
    assert [active for _, active in fallback] == [True, False]
    # Dead from the first tick: on at tick 50 (after the tenth meter report), exactly one second.
    assert fallback[0][0] == 10 + len([r for r in reports[: fallback[0][0]] if r["type"] != "meters"])
    assert changes[-1] == {"type": "fallback", "active": False}
    assert changes[-2] == {"type": "line_health", "line": "a", "health": "ok"}
    meters = [r for r in reports if r["type"] == "meters"]
    assert "fallback" not in meters[-1]["lines"]  # the fallback is no line of the stage
    # Consoles get the reports as they are: each one is a console message of the stage contract.
    for_consoles = [report for report in reports if report["type"] != "stats"]  # stats: the metrics'
    assert [validate_server_message(report, CONSOLE) for report in for_consoles] == for_consoles
    assert [m["fallback"] for m in meters[9:11]] == [False, True]

    program = decode_segments(tmp_path, playlist_uris(tmp_path / "live.m3u8"))[0]
    second = SR // 2
    # 1024 priming samples lead the decoded program; silence, then the fallback, then the line.
    assert level_at(program[1024 + 1000 : 1024 + 1000 + second], 300) < 0.001
    assert level_at(program[1024 + 2 * SR : 1024 + 2 * SR + second], 300) > 0.085
    tail = program[-SR - second : -SR]
    assert level_at(tail, 1000) > 0.085 and level_at(tail, 300) < 0.001


def test_meters_carry_the_program_short_term_loudness_and_normalisation_reaches_minus_16(tmp_path):
    reports = []
    engine = MixEngine(tmp_path, clock=FreeRunningClock(), on_report=reports.append, loudness_target=-16.0)
    engine.set_lines([sine("a", 1000)])
    engine.set_mix({"a": 0.0})
    _run_ticks(engine, threading.Event(), engine.clock, ticks=500)  # 10 s
    meters = [r for r in reports if r["type"] == "meters"]
    assert len(meters) == 100
    # lavfi's sine is 1/8 full scale, -3 dB per channel: -21.07 LUFS, so +5.07 dB brings it to -16.
    assert meters[-1]["program"]["gain_db"] == pytest.approx(5.07, abs=0.05)
    assert meters[-1]["program"]["short_term_lufs"] == pytest.approx(-16.0, abs=0.1)
    # Nothing moves until the 3 s short-term window has filled, then 2 dB/s: 0.2 dB per report.
    gains = [m["program"]["gain_db"] for m in meters]
    assert gains[:29] == [0.0] * 29
    assert gains[31] - gains[30] == pytest.approx(0.2)


def test_silence_on_an_on_air_line_raises_an_alarm_after_three_seconds(tmp_path):
    reports = []
    engine = MixEngine(tmp_path, clock=FreeRunningClock(), on_report=reports.append)
    engine.set_lines([LineSpec("quiet", f"anullsrc=r={SR}:cl=stereo", format="lavfi")])
    engine.set_mix({"quiet": 0.0})
    _run_ticks(engine, threading.Event(), engine.clock, ticks=250)
    alarms = [(i, r) for i, r in enumerate(reports) if r["type"] == "alarm"]
    assert [r for _, r in alarms] == [{"type": "alarm", "alarm": "silence", "line": "quiet", "active": True}]
    for_consoles = [report for report in reports if report["type"] != "stats"]  # stats: the metrics'
    assert [validate_server_message(report, CONSOLE) for report in for_consoles] == for_consoles
    meters_before = sum(1 for r in reports[: alarms[0][0]] if r["type"] == "meters")
    # The reader decodes up to 10 frames ahead of the mix: 3 s = 150 ticks, 140 at the earliest.
    assert 28 <= meters_before <= 30


def test_broken_lines_do_not_delay_a_healthy_lines_frames_in_the_program(tmp_path):
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(np.random.default_rng(0).bytes(20000))
    ended = tmp_path / "ended.wav"
    with av.open(str(ended), "w") as container:  # 0.1 s of silence, then the file ends (and again)
        stream = container.add_stream("pcm_s16le", rate=SR, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.zeros((1, SR // 10), np.int16), format="s16", layout="mono")
        frame.sample_rate = SR
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    out = tmp_path / "out"
    reports = []
    engine = MixEngine(out, on_report=reports.append)
    engine.set_lines(
        [
            LineSpec("garbage", str(garbage)),
            LineSpec("refused", "http://127.0.0.1:9/x"),
            LineSpec("ended", str(ended)),
            sine("tone", 1000),
        ]
    )
    engine.set_mix({"garbage": 0.0, "refused": 0.0, "ended": 0.0, "tone": 0.0})
    with running(engine):
        mixed(reports, 4.5)
    program = decode_segments(out, playlist_uris(out / "live.m3u8"))[0]
    # After the 10 ms fade-in, every 20 ms of the program carries the tone at its level: not one
    # frame of it was lost or late (an underrun would be a 20 ms hole).
    steady = program[1024 + SR // 5 : 1024 + 4 * SR]
    peaks = np.abs(steady.reshape(-1, 960)).max(axis=1)
    assert len(peaks) == 190
    # 0.0884 (lavfi's 1/8 full scale, upmixed at -3 dB) give or take the AAC coding; a hole would be ~0.
    assert peaks.min() > 0.08 and peaks.max() < 0.1


def level(line_id: str, value: float) -> LineSpec:
    """A line of constant level on both channels: the program's samples can be checked exactly."""
    return LineSpec(line_id, f"aevalsrc={value}|{value}:s={SR}", format="lavfi")


class ProgramTape(Mixer):
    """The engine's mixer, keeping every tick's program frame."""

    def __init__(self) -> None:
        super().__init__()
        self.ticks: list[np.ndarray] = []

    def mix(self, frames: dict) -> np.ndarray:
        program = super().mix(frames)
        self.ticks.append(program.copy())
        return program


def test_a_stage_change_is_heard_at_the_next_tick_and_complete_within_two(tmp_path):
    engine = MixEngine(tmp_path, clock=FreeRunningClock())
    engine.mixer = tape = ProgramTape()
    engine.set_lines([level("a", 0.125), level("b", 0.25)])
    engine.set_mix({"a": 0.0, "b": None})
    # Received between tick 50 and tick 51, as the stage follower hands it over.
    _run_ticks_with(engine, 60, {50: lambda: engine.set_mix({"a": None, "b": 0.0})})
    before, next_tick, after = tape.ticks[49], tape.ticks[50], tape.ticks[51]
    np.testing.assert_array_equal(before, np.full((2, 960), 0.125, np.float32))
    assert 0.125 < next_tick[0, 0] < next_tick[0, 479]  # the 10 ms ramp starts with the next tick...
    np.testing.assert_allclose(next_tick[:, 480:], 0.25, atol=1e-7)  # ...and ends within it
    np.testing.assert_array_equal(after, np.full((2, 960), 0.25, np.float32))


def test_the_clock_never_drifts_a_late_tick_is_caught_up(tmp_path):
    """Ticks are scheduled on the monotonic clock: after one tick ran 100 ms late, the next five
    run at once, so every second of the clock still holds fifty ticks of programme."""
    engine = MixEngine(tmp_path, clock=FreeRunningClock())
    engine.mixer = tape = ProgramTape()
    engine.set_lines([level("a", 0.125)])
    engine.set_mix({"a": 0.0})
    clock, stop = engine.clock, threading.Event()
    sleep_until, woke = clock.sleep_until, []

    def late_once(deadline: float) -> None:
        if len(woke) == 100:
            clock._now = deadline + 0.1  # one sleep overruns by five ticks (a pause, a busy core)
        else:
            sleep_until(deadline)
        woke.append(clock.monotonic())
        if clock.monotonic() >= 3.0 - 1e-9:
            stop.set()

    clock.sleep_until = late_once
    engine.run(stop)
    assert len(tape.ticks) == 150  # 3 s of clock, 3 s of programme
    caught_up = [n for n in range(1, len(woke)) if woke[n] == woke[n - 1]]
    assert caught_up == [101, 102, 103, 104, 105]  # run at once, with no sleep, until on time again
    assert woke[106] == pytest.approx(woke[105] + 0.02)


def test_a_publish_that_waits_on_the_database_holds_up_no_tick(tmp_path):
    """The lease check before a segment is published asks the database; while it does not answer,
    the mix ticks on (every peer's return with it), and once it answers every segment is published
    in order."""
    answered = threading.Event()

    def may_publish() -> bool:
        answered.wait(30)
        return True

    engine = MixEngine(tmp_path, clock=FreeRunningClock(), may_publish=may_publish, frames_per_segment=10)
    engine.set_lines([sine("a", 440)])
    engine.set_mix({"a": 0.0})
    returns = []
    peer = PeerAudio("a", PRESENTER_PEER)
    peer.listener = returns.append
    engine.set_peer("a", peer)
    stop = threading.Event()
    mixing = threading.Thread(target=engine.run, args=(stop,))
    mixing.start()
    try:
        # Ten segments' worth of ticks while the first segment's publish still waits.
        wait_for(lambda: len(returns) > 10 * 10 * 1024 // 960, 30, "ticks while the publish waits")
        assert not (tmp_path / "live.m3u8").exists() or "segment_000000" not in (tmp_path / "live.m3u8").read_text()
    finally:
        answered.set()
        stop.set()
        mixing.join(30)
    engine.end_show()
    published = playlist_uris(tmp_path / "vod.m3u8")
    assert len(published) >= 10
    assert published == [f"segment_{index:06d}.ts" for index in range(len(published))]


def test_a_presenter_silent_over_webrtc_on_air_raises_the_silence_alarm_and_speaking_clears_it(tmp_path):
    """Their line's input is their peer's: its health is what the peer sends, not the idle uplink's."""
    reports = []
    engine = MixEngine(tmp_path, clock=FreeRunningClock(), on_report=reports.append)
    engine.set_lines([sine("p1", 440)])  # stands in for the presenter's uplink reader
    engine.set_mix({"p1": 0.0})
    peer = PeerAudio("p1", PRESENTER_PEER)
    engine.set_peer("p1", peer)
    t = np.arange(960) / SR
    voice = np.tile(0.2 * np.sin(2 * np.pi * 700 * t), (2, 1)).astype(np.float32)
    silence = np.zeros((2, 960), dtype=np.float32)
    # Four seconds of silence from the peer, then its voice: one frame pushed before each tick.
    sent = {tick: partial(peer.inbound.push, silence if tick <= 200 else voice) for tick in range(1, 260)}
    _run_ticks_with(engine, 260, sent)
    alarms = [r for r in reports if r["type"] == "alarm"]
    assert alarms == [
        {"type": "alarm", "alarm": "silence", "line": "p1", "active": True},
        {"type": "alarm", "alarm": "silence", "line": "p1", "active": False},
    ]
    for_consoles = [report for report in reports if report["type"] != "stats"]  # stats: the metrics'
    assert [validate_server_message(report, CONSOLE) for report in for_consoles] == for_consoles
