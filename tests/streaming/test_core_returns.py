"""The return bus: what each WebRTC peer hears, tone by tone, and that the program never hears it."""

import timeit

import av
import numpy as np
import pytest

from stage.contract.messages import validate_server_message
from stage.contract.records import CONSOLE
from streaming.core.clock import FreeRunningClock
from streaming.core.engine import MixEngine
from streaming.core.lines import LineSpec
from streaming.core.mixer import Mixer
from streaming.core.peers import PRESENTER_PEER, PRODUCER_PEER, PeerAudio
from streaming.core.returns import ProducerIn, ReturnPlan, Returns
from tests.streaming.test_core_engine import _run_ticks_with, decode_segments, level_at, playlist_uris

SR = 48000
N = 960
TICKS = 51  # the first, with its fade-in, then one second measured: 1 Hz bins, every tone on one
TONES = {"p1": 440, "p2": 660, "p3": 1000, "p4": 1320, "user:pat": 2500, "user:kim": 3100}
AMPLITUDE = 0.1


def tone(frequency: float, tick: int, amplitude: float = AMPLITUDE) -> np.ndarray:
    t = (tick * N + np.arange(N)) / SR
    mono = (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.float32)
    return np.stack([mono, mono])


def level_db(samples: np.ndarray, frequency: float) -> float:
    """dBFS of one frequency in a (channels, samples) signal (left channel, Hann window, on its bin)."""
    left = samples[0]
    window = np.hanning(len(left))
    amplitude = np.abs(np.fft.rfft(left * window))[round(frequency * len(left) / SR)] / (window.sum() / 2)
    return 20 * np.log10(max(float(amplitude), 1e-12))


TONE_DB = 20 * np.log10(AMPLITUDE)


class Desk:
    """A mixer and its return bus, driven tick by tick with a tone per line and per producer."""

    def __init__(self, gains: dict, plan: ReturnPlan, *, presenters=(), speaking=(), producers=None):
        self.mixer = Mixer()
        self.mixer.set_gains(gains)
        self.returns = Returns(self.mixer)
        self.lines = list(gains)
        self.plan = plan
        self.presenters = list(presenters)
        self.speaking = set(speaking)
        self.producers = producers or {}  # actor: (monitor, speaking?[, holding TALK BACKSTAGE?])
        self.heard: dict[str, list[np.ndarray]] = {}
        self.program: list[np.ndarray] = []

    def run(self, ticks: int = TICKS, start: int = 0) -> "Desk":
        for tick in range(start, start + ticks):
            frames = {line: tone(TONES[line], tick) for line in self.lines}
            program = self.mixer.mix(frames)
            producers = {
                actor: ProducerIn(tone(TONES[actor], tick) if spec[1] else None, spec[0], *spec[2:])
                for actor, spec in self.producers.items()
            }
            returns = self.returns.compute(self.plan, frames, program, self.presenters, self.speaking, producers)
            self.program.append(program.copy())
            for peer, frame in returns.items():
                self.heard.setdefault(peer, []).append(np.array(frame))
        return self

    def of(self, peer: str) -> np.ndarray:
        return np.concatenate(self.heard[peer], axis=1)

    def levels(self, peer: str) -> dict[str, float]:
        """The level of every tone in the last second this peer heard."""
        heard = self.of(peer)[:, -SR:]
        return {name: level_db(heard, frequency) for name, frequency in TONES.items()}


def test_each_presenter_hears_the_others_at_their_program_level_and_not_themselves():
    gains = {"p1": 0.0, "p2": -6.0, "p3": -3.0}
    plan = ReturnPlan(on_air=frozenset(gains))
    desk = Desk(gains, plan, presenters=["p1", "p2", "p3"]).run()
    program = np.concatenate(desk.program, axis=1)
    for me in ("p1", "p2", "p3"):
        heard = desk.levels(me)
        for other in set(gains) - {me}:
            assert heard[other] == pytest.approx(level_db(program[:, -SR:], TONES[other]), abs=0.01)
        assert heard[me] < TONE_DB - 60
        assert heard["p4"] < TONE_DB - 100 and heard["user:pat"] < TONE_DB - 100


def test_mix_minus_takes_out_exactly_what_was_mixed_ramps_included():
    """While the lines fade in (the first tick) and a gain moves, a presenter's return is the
    program of the others, sample for sample: the mix as it would be without them."""
    gains = {"p1": 0.0, "p2": -6.0, "p3": -3.0}
    desk = Desk(gains, ReturnPlan(on_air=frozenset(gains)), presenters=["p2"])
    others = Mixer()
    others.set_gains({"p1": 0.0, "p3": -3.0})
    for tick in range(4):
        if tick == 2:
            desk.mixer.set_gains(gains | {"p2": -20.0, "p1": -10.0})
            others.set_gains({"p1": -10.0, "p3": -3.0})
        desk.run(1, start=tick)
        expected = others.mix({line: tone(TONES[line], tick) for line in ("p1", "p3")})
        np.testing.assert_allclose(desk.heard["p2"][-1], expected, rtol=0, atol=2e-7)


def test_returns_never_exceed_the_ceiling_when_the_limiter_works():
    loud = 0.8
    mixer = Mixer()
    mixer.set_gains({"p1": 0.0, "p2": 0.0, "p3": 0.0})
    returns = Returns(mixer)
    plan = ReturnPlan(on_air=frozenset({"p1", "p2", "p3"}), talkback={"user:pat": frozenset({"p1"})})
    for tick in range(10):
        frames = {line: tone(TONES[line], tick, loud) for line in ("p1", "p2", "p3")}
        program = mixer.mix(frames)
        producers = {"user:pat": ProducerIn(tone(2500, tick, loud), "line:p1")}
        out = returns.compute(plan, frames, program, ["p1", "p2", "p3"], set(), producers)
        for frame in out.values():
            assert np.abs(frame).max() <= mixer.ceiling


def test_talkback_reaches_only_its_targets_and_ducks_their_program():
    gains = {"p1": 0.0, "p2": 0.0, "p3": 0.0}
    plan = ReturnPlan(on_air=frozenset(gains), talkback={"user:pat": frozenset({"p1"})})
    desk = Desk(gains, plan, presenters=["p1", "p2", "p3"], producers={"user:pat": ("program", True)}).run()
    talked_to, others = desk.levels("p1"), desk.levels("p2")
    assert talked_to["user:pat"] == pytest.approx(TONE_DB, abs=0.01)
    assert others["user:pat"] < TONE_DB - 100 and desk.levels("p3")["user:pat"] < TONE_DB - 100
    # The program part of the talked-to presenter's return, 15 dB down; the others' is not.
    assert talked_to["p2"] - others["p3"] == pytest.approx(-15.0, abs=0.05)
    assert others["p3"] == pytest.approx(TONE_DB, abs=0.01)
    program = np.concatenate(desk.program, axis=1)
    assert level_db(program, 2500) < TONE_DB - 100
    # Talkback stops: the duck ramps back up across one tick, then the program is whole again.
    desk.plan = ReturnPlan(on_air=frozenset(gains))
    desk.producers = {"user:pat": ("program", False)}
    desk.run(TICKS, start=TICKS)
    ramp = np.linspace(10 ** (-15 / 20), 1.0, N + 1)[1:]
    others_of_p1 = tone(TONES["p2"], TICKS) + tone(TONES["p3"], TICKS)
    np.testing.assert_allclose(desk.heard["p1"][TICKS], others_of_p1 * ramp, rtol=0, atol=1e-6)
    assert desk.levels("p1")["p2"] == pytest.approx(TONE_DB, abs=0.01)


def test_backstage_is_heard_off_air_and_on_air_only_when_opened():
    gains = {"p1": 0.0, "p2": None, "p3": None}
    plan = ReturnPlan(on_air=frozenset({"p1"}))
    speakers = dict(presenters=["p1", "p2", "p3"], speaking={"p1", "p2", "p3"})
    producers = {"user:pat": ("backstage", True, True), "user:kim": ("program", False)}
    desk = Desk(gains, plan, **speakers, producers=producers).run()
    p1, p2, p3, pat = (desk.levels(peer) for peer in ("p1", "p2", "p3", "user:pat"))
    floor = TONE_DB - 60
    # Off air: the program, the other backstage voices (presenters and a producer), never their own.
    assert p2["p1"] > floor and p2["p3"] > floor and p2["user:pat"] > floor and p2["p2"] < floor
    assert p3["p1"] > floor and p3["p2"] > floor and p3["user:pat"] > floor and p3["p3"] < floor
    # On air, backstage closed: only the program without themselves.
    assert all(p1[name] < floor for name in ("p1", "p2", "p3", "user:pat"))
    # A producer on backstage hears it less their own voice, and no program.
    assert pat["p2"] > floor and pat["p3"] > floor and pat["user:pat"] < floor and pat["p1"] < floor
    program = np.concatenate(desk.program, axis=1)
    assert all(level_db(program, TONES[name]) < TONE_DB - 100 for name in ("p2", "p3", "user:pat"))

    opened = Desk(gains, ReturnPlan(on_air=frozenset({"p1"}), backstage_open=frozenset({"p1"})), **speakers).run()
    p1 = opened.levels("p1")
    assert p1["p2"] == pytest.approx(TONE_DB, abs=0.01) and p1["p3"] == pytest.approx(TONE_DB, abs=0.01)
    assert p1["p1"] < floor


def test_a_producer_is_on_the_backstage_bus_only_while_holding_talk_backstage():
    gains = {"p1": None, "p2": None}
    speaking = {"user:pat": ("program", True)}  # their voice arrives, but no TALK BACKSTAGE held
    desk = Desk(gains, ReturnPlan(), presenters=["p1", "p2"], speaking={"p1", "p2"}, producers=speaking)
    desk.run()
    assert desk.levels("p1")["user:pat"] < TONE_DB - 100 and desk.levels("p2")["user:pat"] < TONE_DB - 100


def test_a_producer_talking_back_is_not_on_the_backstage_bus():
    gains = {"p1": None, "p2": None}
    plan = ReturnPlan(talkback={"user:pat": frozenset({"p1"})})
    producers = {"user:pat": ("program", True, True)}
    desk = Desk(gains, plan, presenters=["p1", "p2"], speaking={"p1", "p2"}, producers=producers)
    desk.run()
    assert desk.levels("p1")["user:pat"] == pytest.approx(TONE_DB, abs=0.01)
    assert desk.levels("p2")["user:pat"] < TONE_DB - 100


def test_producer_monitors_program_preview_and_pre_fader_line():
    gains = {"p1": 0.0, "p2": None, "p3": -20.0}
    plan = ReturnPlan(on_air=frozenset({"p1", "p3"}), preview=frozenset({"p2"}))
    producers = {
        "user:pat": ("preview", False),
        "user:kim": ("line:p3", False),
        "user:ann": ("program", False),
        "user:bob": ("line:nope", False),
    }
    desk = Desk(gains, plan, producers=producers).run()
    preview, pfl = desk.levels("user:pat"), desk.levels("user:kim")
    assert preview["p2"] == pytest.approx(TONE_DB, abs=0.01) and preview["p1"] < TONE_DB - 100
    # Pre-fader: the line's input at its own level, not 20 dB down as in the program.
    assert pfl["p3"] == pytest.approx(TONE_DB, abs=0.01) and pfl["p1"] < TONE_DB - 100
    np.testing.assert_array_equal(desk.of("user:ann"), np.concatenate(desk.program, axis=1))
    assert not desk.of("user:bob").any()


def test_ten_peers_cost_well_under_a_millisecond_a_tick():
    lines = [f"p{i}" for i in range(1, 7)]
    mixer = Mixer()
    mixer.set_gains({line: 0.0 if i < 3 else None for i, line in enumerate(lines)})
    returns = Returns(mixer)
    plan = ReturnPlan(
        on_air=frozenset(lines[:3]), preview=frozenset(lines[3:4]), talkback={"user:a": frozenset(lines[:2])}
    )
    frames = {line: tone(440 + 100 * i, 0) for i, line in enumerate(lines)}
    producers = {
        f"user:{name}": ProducerIn(tone(2500, 0), monitor)
        for name, monitor in zip("abcd", ("program", "preview", "backstage", "line:p2"), strict=True)
    }
    mixer.mix(frames)
    program = mixer.mix(frames)
    runs = 200
    seconds = timeit.timeit(lambda: returns.compute(plan, frames, program, lines, set(lines), producers), number=runs)
    print(f"returns for 10 peers: {seconds / runs * 1e6:.0f} µs a tick")
    assert seconds / runs < 0.002


def test_the_engine_sends_returns_and_nothing_of_them_reaches_the_segments_or_the_recording(tmp_path):
    """p1 on air from a file-like line, p2 on air over WebRTC, p3 off air over WebRTC (backstage);
    a producer talks back to p2, another listens to p3 before the fader and speaks on backstage."""
    reports = []
    engine = MixEngine(tmp_path, clock=FreeRunningClock(), on_report=reports.append)
    engine.set_lines(
        [
            LineSpec("p1", f"sine=frequency=1000:sample_rate={SR}", format="lavfi"),
            # The uplink fallbacks of the WebRTC presenters: silent, and not read while the peer speaks.
            LineSpec("p2", f"anullsrc=r={SR}:cl=stereo", format="lavfi"),
            LineSpec("p3", f"anullsrc=r={SR}:cl=stereo", format="lavfi"),
        ]
    )
    engine.set_mix({"p1": 0.0, "p2": 0.0, "p3": None})
    engine.set_returns(ReturnPlan(on_air=frozenset({"p1", "p2"}), talkback={"user:pat": frozenset({"p2"})}))
    voices = {"p2": 700, "p3": 1500, "user:pat": 2500, "user:kim": 3100}
    peers = {
        peer_id: PeerAudio(peer_id, PRESENTER_PEER if peer_id.startswith("p") else PRODUCER_PEER) for peer_id in voices
    }
    peers["user:kim"].monitor = "line:p3"
    peers["user:kim"].backstage_talk = True
    heard = {peer_id: [] for peer_id in peers}
    for peer_id, peer in peers.items():
        peer.listener = heard[peer_id].append
        peer.stats = {"rtt_ms": 12, "jitter_ms": 3.5}
        engine.set_peer(peer_id, peer)
    spoken = [0]

    def speak() -> None:
        for peer_id, peer in peers.items():
            peer.inbound.push(tone(voices[peer_id], spoken[0]))
        spoken[0] += 1

    speak()
    speak()  # the jitter buffers' prefill
    _run_ticks_with(engine, 250, dict.fromkeys(range(1, 251), speak))
    engine.end_show()

    last = slice(-SR, None)
    program = decode_segments(tmp_path, playlist_uris(tmp_path / "live.m3u8"))[0][1024:]
    with av.open(str(tmp_path / "program.aac")) as container:
        recording = np.concatenate([f.to_ndarray() for f in container.decode(audio=0)], axis=1)[0][1024:]
    for published in (program, recording):
        assert level_at(published[-2 * SR : -SR], 1000) > 0.08  # lavfi's sine: 1/8 full scale, -3 dB
        assert level_at(published[-2 * SR : -SR], 700) > 0.09  # the WebRTC voice on air
        for private in (1500, 2500, 3100):  # backstage, talkback, the PFL'd line and backstage talk
            assert level_at(published[-2 * SR : -SR], private) < 1e-4

    def tones(peer_id: str) -> dict[int, float]:
        signal = np.concatenate(heard[peer_id], axis=1)[:, last]
        return {frequency: level_db(signal, frequency) for frequency in (1000, *voices.values())}

    assert len(heard["p2"]) == 250 and len(heard["user:kim"]) == 250
    p2, p3, kim = tones("p2"), tones("p3"), tones("user:kim")
    assert p2[2500] == pytest.approx(TONE_DB, abs=0.1) and p2[700] < TONE_DB - 60  # talkback, not themselves
    assert p2[1000] == pytest.approx(-18.06 - 3.01 - 15, abs=0.1)  # the program, ducked
    assert p3[1000] > -25 and p3[700] > TONE_DB - 1 and p3[3100] == pytest.approx(TONE_DB, abs=0.1)
    assert p3[1500] < TONE_DB - 60 and p3[2500] < TONE_DB - 100
    assert kim[1500] == pytest.approx(TONE_DB, abs=0.1) and kim[1000] < TONE_DB - 100  # pre-fader p3
    meters = [report for report in reports if report["type"] == "meters"]
    assert meters[-1]["lines"]["p2"]["link"] == {
        "path": "webrtc",
        "rtt_ms": 12.0,
        "jitter_ms": 3.5,
        "loss_pct": None,
        "buffer_ms": meters[-1]["lines"]["p2"]["link"]["buffer_ms"],
        "cut_frames": 0,  # every frame came on time and was mixed
    }
    assert 0.0 <= meters[-1]["lines"]["p2"]["link"]["buffer_ms"] < 20.0  # on time: one frame at most waits
    assert "link" not in meters[-1]["lines"]["p1"]
    assert meters[-1]["lines"]["p3"]["health"] == "ok"
    for_consoles = [report for report in reports if report["type"] != "stats"]  # stats: the metrics'
    assert [validate_server_message(report, CONSOLE) for report in for_consoles] == for_consoles


def test_a_lines_gaps_never_shrink_when_its_connection_is_replaced_or_lost(tmp_path):
    reports = []
    engine = MixEngine(tmp_path, clock=FreeRunningClock(), on_report=reports.append)
    engine.set_lines([LineSpec("p1", f"anullsrc=r={SR}:cl=stereo", format="lavfi")])
    try:
        peer = PeerAudio("p1", PRESENTER_PEER)
        peer.inbound.underruns = 5  # five ticks its jitter buffer ran dry
        engine.set_peer("p1", peer)
        counted = []
        for change in (peer, PeerAudio("p1", PRESENTER_PEER), None):  # kept, replaced, lost
            engine.set_peer("p1", change)
            engine._report()
            counted.append(reports[-1]["lines"]["p1"]["gaps"])
        assert counted[0] >= 5 and counted == sorted(counted)
    finally:
        engine.set_lines([])


def test_the_returns_of_a_tick_leave_together_after_the_last_is_given(tmp_path):
    """Peers that share a way out (the adapter's one loop) have it called once a tick, after every
    return of that tick: one wake-up of the loop, not one a peer."""
    engine = MixEngine(tmp_path, clock=FreeRunningClock())
    engine.set_lines([LineSpec("p1", f"anullsrc=r={SR}:cl=stereo", format="lavfi")])
    engine.set_mix({"p1": 0.0})
    events: list[str] = []

    def shared_way_out() -> None:
        events.append("flush")

    for peer_id in ("p1", "p2", "user:ann"):
        peer = PeerAudio(peer_id, PRODUCER_PEER if peer_id.startswith("user:") else PRESENTER_PEER)
        peer.listener = lambda frame, peer_id=peer_id: events.append(peer_id)
        peer.after_returns = shared_way_out
        engine.set_peer(peer_id, peer)
    _run_ticks_with(engine, 5, {})
    engine.end_show()

    ticks = [events[at : at + 4] for at in range(0, len(events), 4)]
    assert len(ticks) >= 5
    assert all(sorted(tick[:3]) == ["p1", "p2", "user:ann"] and tick[3] == "flush" for tick in ticks)
