"""Line readers: lavfi tones, files, broken inputs, health, and no line stalling another."""

import time

import av
import numpy as np
import pytest

from streaming.core.lines import LineReader, LineSpec

SR = 48000


def sine(line_id: str, frequency: int) -> LineSpec:
    return LineSpec(line_id, f"sine=frequency={frequency}:sample_rate={SR}", format="lavfi")


def write_wav(path, seconds: float, frequency: float = 500.0) -> None:
    t = np.arange(round(seconds * SR)) / SR
    samples = (0.5 * 32767 * np.sin(2 * np.pi * frequency * t)).astype(np.int16)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=SR, layout="mono")
        frame = av.AudioFrame.from_ndarray(samples[None, :], format="s16", layout="mono")
        frame.sample_rate = SR
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def wait_for(predicate, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


@pytest.fixture
def readers():
    started = []

    def start(spec: LineSpec, **kwargs) -> LineReader:
        reader = LineReader(spec, **kwargs)
        reader.start()
        started.append(reader)
        return reader

    yield start
    for reader in started:
        reader.stop()


def test_lavfi_sine_line_delivers_stereo_frames_at_its_frequency(readers):
    reader = readers(sine("a", 440), realtime=False)
    frames = [reader.read_frame(wait=2.0) for _ in range(50)]
    assert all(frame.shape == (2, 960) and frame.dtype == np.float32 for frame in frames)
    signal = np.concatenate(frames, axis=1)
    spectrum = np.abs(np.fft.rfft(signal[0]))
    assert np.fft.rfftfreq(signal.shape[1], 1 / SR)[np.argmax(spectrum)] == 440.0
    np.testing.assert_array_equal(signal[0], signal[1])  # mono source on both channels
    assert reader.health == "ok"
    assert reader.underruns == 0


def test_realtime_line_is_paced_and_read_frame_never_blocks(readers):
    reader = readers(sine("a", 440))
    assert reader.health == "connecting"
    began = time.monotonic()
    silent = reader.read_frame()  # nothing decoded yet: silence, at once
    assert time.monotonic() - began < 0.01
    np.testing.assert_array_equal(silent, np.zeros((2, 960), np.float32))
    time.sleep(0.5)
    # Paced to real time plus a prefill of 3 frames: ≈ 28 frames in 0.5 s, not thousands.
    buffered = 0
    while np.any(reader.read_frame()):
        buffered += 1
    # The jitter buffer holds 10 and drops the oldest; one or two more may arrive while draining.
    assert 5 <= buffered <= 12
    assert reader.dropped >= 15


def test_broken_lines_fault_without_delaying_a_healthy_line(readers, tmp_path):
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(np.random.default_rng(0).bytes(20000))
    ended = tmp_path / "short.wav"
    write_wav(ended, 0.2)
    broken = [
        readers(LineSpec("garbage", str(garbage))),
        readers(LineSpec("refused", "http://127.0.0.1:9/x")),
        readers(LineSpec("ended", str(ended))),
    ]
    healthy = readers(sine("tone", 1000))
    assert wait_for(lambda: healthy.health == "ok")
    healthy.read_frame()  # drain the prefill so underruns below are real
    while np.any(healthy.read_frame()):
        pass
    underruns_before = healthy.underruns
    for _ in range(50):  # one second of mixer ticks
        time.sleep(0.02)
        healthy.read_frame()
    assert healthy.underruns - underruns_before <= 2
    assert wait_for(lambda: all(reader.health == "faulted" for reader in broken))
    assert healthy.health == "ok"


def test_faulted_line_retries_with_back_off(readers):
    reader = readers(LineSpec("refused", "http://127.0.0.1:9/x"))
    time.sleep(1.7)  # attempts at 0, 0.5, 1.5 s; the next would be at 3.5 s
    assert reader.opens == 3
    assert reader.health == "faulted"


def test_looping_file_starts_again_and_stays_healthy(readers, tmp_path):
    path = tmp_path / "loop.wav"
    write_wav(path, 0.2)  # 10 frames
    reader = readers(LineSpec("loop", str(path), loop=True), realtime=False)
    frames = [reader.read_frame(wait=2.0) for _ in range(35)]
    assert reader.underruns == 0
    # 0.5 mono is upmixed at -3 dB: 0.354 on each channel, with no gap at the loop point
    assert all(np.abs(frame).max() > 0.35 for frame in frames)
    assert reader.opens >= 4
    assert reader.health == "ok"


def test_line_without_signal_turns_silent_after_three_seconds(readers):
    reader = readers(LineSpec("mute", f"anullsrc=r={SR}:cl=stereo", format="lavfi"), realtime=False)
    for _ in range(100):  # 2 s read, at most 2.2 s decoded (the buffer holds 10 frames)
        reader.read_frame(wait=2.0)
    assert reader.health == "ok"
    for _ in range(60):
        reader.read_frame(wait=2.0)
    assert wait_for(lambda: reader.health == "silent")


def test_stop_joins_quickly(readers):
    reader = readers(sine("a", 440))
    assert wait_for(lambda: reader.health == "ok")
    began = time.monotonic()
    reader.stop()
    assert time.monotonic() - began < 0.5
    assert not reader._thread.is_alive()
