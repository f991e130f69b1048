"""bench_returns compares equal work (both sides' packets decode to the same voice), and its
command prints its figures (a few ticks: a smoke run, not a measurement)."""

import json

import av
import numpy as np
import pytest
from django.core.management import call_command

from streaming.bench.bench_returns import PyAvReturnEncoder, speech_like
from streaming.core import FRAME_SAMPLES, SAMPLE_RATE
from streaming.core.rtc import ReturnEncoder


def heard(packets: list[av.Packet]) -> np.ndarray:
    decoder = av.CodecContext.create("libopus", "r")
    decoder.format, decoder.layout, decoder.sample_rate = "s16", "stereo", SAMPLE_RATE
    frames = [frame.to_ndarray().reshape(-1, 2)[:, 0] for packet in packets for frame in decoder.decode(packet)]
    return np.concatenate(frames) / 32768


def test_both_sides_encode_the_same_return():
    signal = speech_like(50)
    sides = [ReturnEncoder("mono"), PyAvReturnEncoder()]
    voices = []
    for encoder in sides:
        packets = [
            packet
            for tick in range(50)
            for packet in encoder.encode(
                signal[:, tick * FRAME_SAMPLES : (tick + 1) * FRAME_SAMPLES], tick * FRAME_SAMPLES
            )
        ]
        voices.append(heard(packets)[10 * FRAME_SAMPLES : 45 * FRAME_SAMPLES])
    sent = signal[0, 10 * FRAME_SAMPLES : 45 * FRAME_SAMPLES]
    loudness = [np.sqrt(np.mean(voice**2)) for voice in voices]
    # The same voice at the same level from both (Opus is lossy and both are the same codec).
    assert loudness[0] == pytest.approx(np.sqrt(np.mean(sent**2)), rel=0.1)
    assert loudness[0] == pytest.approx(loudness[1], rel=0.05)


def test_the_command_prints_both_sides_and_their_ratio(capsys):
    call_command("bench_returns", "--json", "--ticks", "5", "--rounds", "2")
    out = capsys.readouterr().out
    assert "ours (libopus through ctypes)" in out and "PyAV's libopus encoder" in out
    figures = json.loads(out.strip().splitlines()[-1])
    assert figures["ours_us_per_tick"] > 0 and figures["pyav_us_per_tick"] > 0
    assert figures["ratio"] == pytest.approx(figures["ours_us_per_tick"] / figures["pyav_us_per_tick"], abs=0.01)


def test_a_run_of_nothing_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        call_command("bench_returns", "--ticks", "0")
