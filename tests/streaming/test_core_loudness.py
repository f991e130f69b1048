"""Program loudness from FFmpeg's ebur128, and the slow normaliser toward -16 LUFS."""

import numpy as np
import pytest

from streaming.core.loudness import LoudnessMeter, LoudnessNormaliser
from streaming.core.mixer import Mixer

SR = 48000


def sine_blocks(amplitude: float, seconds: float, frequency: float = 1000.0):
    t = np.arange(960) / SR
    for block in range(round(seconds * SR / 960)):
        x = (amplitude * np.sin(2 * np.pi * frequency * (t + block * 960 / SR))).astype(np.float32)
        yield np.stack([x, x])


def test_short_term_loudness_of_a_1_khz_sine_at_minus_20_dbfs_is_minus_20_lufs():
    meter = LoudnessMeter()
    assert meter.short_term is None
    for block in sine_blocks(0.1, 4.0):  # full scale 1 kHz in both channels reads -0 LUFS (BS.1770)
        meter.push(block)
    assert meter.short_term == pytest.approx(-20.0, abs=0.05)
    assert meter.momentary == pytest.approx(-20.0, abs=0.05)


def test_silence_reads_below_the_gate():
    meter = LoudnessMeter()
    for _ in range(200):
        meter.push(np.zeros((2, 960), np.float32))
    assert meter.short_term < -69


def test_normaliser_moves_two_db_a_second_toward_the_target_and_stops_there():
    normaliser = LoudnessNormaliser(target_lufs=-16.0)
    source = -26.0
    gains = []
    for _ in range(100):  # 10 s in 100 ms steps
        gains.append(normaliser.update(source, 0.1))
    assert gains[0] == pytest.approx(0.2)
    assert gains[24] == pytest.approx(5.0)
    assert gains[49] == pytest.approx(10.0)
    assert gains[-1] == pytest.approx(10.0)


def test_normaliser_holds_in_silence_and_stays_within_its_bounds():
    normaliser = LoudnessNormaliser(target_lufs=-16.0, max_boost_db=12.0, max_cut_db=12.0)
    assert normaliser.update(None, 1.0) == 0.0
    assert normaliser.update(-70.0, 1.0) == 0.0
    for _ in range(100):
        normaliser.update(-45.0, 1.0)
    assert normaliser.gain_db == 12.0
    for _ in range(100):
        normaliser.update(0.0, 1.0)
    assert normaliser.gain_db == -12.0


def test_program_gain_is_ramped_and_applied_before_the_limiter():
    mixer = Mixer()
    mixer.set_gains({"a": 0.0})
    dc = np.full((2, 960), 0.5, np.float32)
    mixer.mix({"a": dc})
    mixer.set_program_gain(-6.0)
    ramped = mixer.mix({"a": dc})
    half = np.float32(10 ** (-6 / 20))
    steps = np.abs(np.diff(ramped[0]))
    assert steps.max() <= 0.5 * (1 - half) / 480 + 1e-7
    np.testing.assert_allclose(mixer.mix({"a": dc}), dc * half, atol=1e-7)
    mixer.set_program_gain(+12.0)
    mixer.mix({"a": dc})
    assert np.abs(mixer.mix({"a": dc})).max() <= np.float32(10 ** (-1 / 20))
