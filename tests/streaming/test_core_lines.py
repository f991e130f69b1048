"""Line readers: lavfi tones, files, broken inputs, health, and no line stalling another."""

import time

import numpy as np

from events.harness import wait_for
from streaming.bench.signals import write_wav
from streaming.core import TICK_SECONDS
from streaming.core.lines import BACKOFF_FIRST, PACE_SLACK_FRAMES, LineSpec
from streaming.core.uplink import UplinkBuffer

SR = 48000


def sine(line_id: str, frequency: int) -> LineSpec:
    return LineSpec(line_id, f"sine=frequency={frequency}:sample_rate={SR}", format="lavfi")


def write_tone(path, seconds: float, frequency: float = 500.0) -> None:
    write_wav(path, 0.5 * np.sin(2 * np.pi * frequency * np.arange(round(seconds * SR)) / SR))




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


def test_read_frame_never_blocks_on_a_line_with_nothing_decoded(readers):
    # A browser line nobody sends on yet: its input never answers, so nothing is ever decoded.
    waiting = UplinkBuffer()
    reader = readers(LineSpec("p1", "uplink:p1", format="matroska", opener=waiting.open, live=True))
    began = time.monotonic()
    frames = [reader.read_frame() for _ in range(50)]  # a second of mixer ticks
    elapsed = time.monotonic() - began
    assert all(frame.shape == (2, 960) and not np.any(frame) for frame in frames)  # silence, at once
    assert reader.underruns == 50 and reader.health == "connecting"
    # A read that waited for a frame even one tick would make these fifty take a second or more.
    assert elapsed < 50 * TICK_SECONDS


def test_realtime_line_is_paced_to_the_clock_and_its_buffer_drops_the_oldest(readers):
    began = time.monotonic()
    reader = readers(sine("a", 440))
    # Nobody reads: the 10-frame jitter buffer fills, then drops the oldest frame for each new one.
    wait_for(lambda: reader.dropped >= 15, 5, "the jitter buffer to overflow")
    buffered = 0
    while np.any(reader.read_frame()):
        buffered += 1
    delivered, elapsed = reader.dropped + buffered, time.monotonic() - began
    assert buffered >= 10  # it was full when we began to read
    # Paced, not racing ahead (a lavfi tone decodes thousands of frames a second): at most one
    # frame per tick since it started, plus its prefill of 3 and the frames it may run ahead.
    assert delivered <= elapsed / TICK_SECONDS + 3 + PACE_SLACK_FRAMES + 1


def test_broken_lines_fault_without_delaying_a_healthy_line(readers, tmp_path):
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(np.random.default_rng(0).bytes(20000))
    ended = tmp_path / "short.wav"
    write_tone(ended, 0.2)
    broken = [
        readers(LineSpec("garbage", str(garbage))),
        readers(LineSpec("refused", "http://127.0.0.1:9/x")),
        readers(LineSpec("ended", str(ended))),
    ]
    healthy = readers(sine("tone", 1000))
    wait_for(lambda: healthy.health == "ok", 5, "the healthy line")
    healthy.read_frame()  # drain the prefill so underruns below are real
    while np.any(healthy.read_frame()):
        pass
    underruns_before = healthy.underruns
    for _ in range(50):  # one second of mixer ticks
        time.sleep(0.02)
        healthy.read_frame()
    assert healthy.underruns - underruns_before <= 2
    wait_for(lambda: all(reader.health == "faulted" for reader in broken), 5, "every broken line to fault")
    assert healthy.health == "ok"


def test_faulted_line_retries_with_back_off(readers):
    began = time.monotonic()
    reader = readers(LineSpec("refused", "http://127.0.0.1:9/x"))
    reached = {}
    for attempt in (2, 3, 4):
        wait_for(lambda attempt=attempt: reader.opens >= attempt, 10, f"attempt {attempt}")
        reached[attempt] = time.monotonic() - began
    assert reader.health == "faulted"
    # Waits of 0.5, 1 and 2 s before attempts 2, 3 and 4: each comes no sooner than their sum
    # (a slow machine only makes them later).
    assert reached[2] >= BACKOFF_FIRST
    assert reached[3] >= 3 * BACKOFF_FIRST
    assert reached[4] >= 7 * BACKOFF_FIRST


def test_looping_file_starts_again_and_stays_healthy(readers, tmp_path):
    path = tmp_path / "loop.wav"
    write_tone(path, 0.2)  # 10 frames
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
    wait_for(lambda: reader.health == "silent", 3, "the line to turn silent")


def test_stop_joins_quickly(readers):
    reader = readers(sine("a", 440))
    wait_for(lambda: reader.health == "ok", 5, "the line")
    began = time.monotonic()
    reader.stop()
    assert time.monotonic() - began < 0.5
    assert not reader._thread.is_alive()
