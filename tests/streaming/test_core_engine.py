"""The mix engine end to end: lavfi tones in, HLS segments out, gains heard where they were set."""

import io
import threading
import time

import av
import numpy as np

from streaming.core.clock import FreeRunningClock
from streaming.core.engine import MixEngine
from streaming.core.lines import LineSpec

SR = 48000


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


def run_for(engine: MixEngine, seconds: float, switch: tuple[float, dict] | None = None) -> None:
    stop = threading.Event()
    thread = threading.Thread(target=engine.run, args=(stop,))
    thread.start()
    if switch is not None:
        time.sleep(switch[0])
        engine.set_mix(switch[1])
        time.sleep(seconds - switch[0])
    else:
        time.sleep(seconds)
    stop.set()
    thread.join(5)
    assert not thread.is_alive()


def test_gain_switch_is_heard_in_the_hls_segments_where_it_happened(tmp_path):
    reports = []
    engine = MixEngine(tmp_path, on_report=reports.append)
    engine.set_lines([sine("low", 440), sine("high", 1000)])
    engine.set_mix({"low": 0.0, "high": None})
    run_for(engine, 5.0, switch=(2.5, {"low": None, "high": 0.0}))
    engine.end_show()

    live = (tmp_path / "live.m3u8").read_text()
    assert live.endswith("#EXT-X-ENDLIST\n")
    uris = playlist_uris(tmp_path / "vod.m3u8")
    assert len(uris) == 3  # 2.005 s, 2.005 s and the flushed rest
    program = decode_segments(tmp_path, uris)[0]
    assert 4.9 * SR <= program.shape[0] <= 5.3 * SR
    first, last = program[SR : SR + SR // 2], program[-SR : -SR // 2]
    # lavfi sine is 1/8 full scale, upmixed from mono at -3 dB: 0.0884 on each channel
    assert level_at(first, 440) > 0.085 and level_at(first, 1000) < 0.001
    assert level_at(last, 1000) > 0.085 and level_at(last, 440) < 0.001

    meters = [r for r in reports if r["type"] == "meters"]
    assert 40 <= len(meters) <= 55  # ten a second
    assert set(meters[-1]["lines"]) == {"low", "high"}
    assert meters[-1]["lines"]["high"]["health"] == "ok"
    assert -21.2 < meters[-1]["program"]["peak_db"] < -20.9  # 20·log10(0.0884) = -21.07
    recording = (tmp_path / "program.aac").read_bytes()
    with av.open(io.BytesIO(recording), format="aac") as container:
        assert sum(f.samples for f in container.decode(audio=0)) == program.shape[0]


def test_restarted_engine_continues_the_playlist_after_a_discontinuity(tmp_path):
    for _ in range(2):
        engine = MixEngine(tmp_path, clock=FreeRunningClock(), window=3)
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
    engine = MixEngine(tmp_path, clock=FreeRunningClock())
    engine.set_lines([sine("a", 440)])
    engine.set_mix({"a": 0.0}, public=False)
    _run_ticks(engine, threading.Event(), engine.clock, ticks=250)
    assert not (tmp_path / "live.m3u8").exists()
    assert len(playlist_uris(tmp_path / "private" / "live.m3u8")) == 3


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
