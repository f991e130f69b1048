"""The mixer: gains, ramps, sum, limiter, meters: sample by sample."""

import numpy as np
import pytest

from streaming.core.mixer import METER_FLOOR_DB, Mixer, db_to_gain

CEILING = 10 ** (-1 / 20)


def dc(value: float) -> np.ndarray:
    return np.full((2, 960), value, dtype=np.float32)


def settled(mixer: Mixer, frames: dict) -> np.ndarray:
    """Mix until every ramp has finished (10 ms < one 20 ms tick) and return the next tick."""
    mixer.mix(frames)
    return mixer.mix(frames)


def test_steady_gains_sum_lines_sample_by_sample():
    mixer = Mixer()
    mixer.set_gains({"a": 0.0, "b": -6.0})
    rng = np.random.default_rng(1)
    a = rng.uniform(-0.3, 0.3, (2, 960)).astype(np.float32)
    b = rng.uniform(-0.3, 0.3, (2, 960)).astype(np.float32)
    out = settled(mixer, {"a": a, "b": b})
    expected = a + b * np.float32(10 ** (-6 / 20))
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-7)
    assert out.dtype == np.float32
    assert out.shape == (2, 960)


def test_first_tick_ramps_in_linearly_over_10_ms():
    mixer = Mixer()
    mixer.set_gains({"a": 0.0})
    out = mixer.mix({"a": dc(0.5)})
    expected = 0.5 * np.minimum(np.arange(1, 961) / 480, 1.0)
    np.testing.assert_allclose(out[0], expected, atol=1e-7)
    np.testing.assert_allclose(out[1], expected, atol=1e-7)
    assert out[0, 479] == pytest.approx(0.5)
    assert out[0, 478] == pytest.approx(0.5 * 479 / 480)


def test_none_and_missing_lines_are_silent_after_the_ramp():
    mixer = Mixer()
    mixer.set_gains({"a": 0.0, "b": None})
    out = settled(mixer, {"a": dc(0.25), "b": dc(0.25), "c": dc(0.25)})
    np.testing.assert_array_equal(out, dc(0.25))
    mixer.set_gains({"b": 0.0})  # a is now missing: off-air
    out = mixer.mix({"a": dc(0.25), "b": dc(0.125)})
    # a ramps 0.25 → 0 while b ramps 0 → 0.125 over the same 480 samples
    k = np.arange(1, 961)
    expected = 0.25 * np.maximum(1 - k / 480, 0) + 0.125 * np.minimum(k / 480, 1)
    np.testing.assert_allclose(out[0], expected, atol=1e-7)
    np.testing.assert_array_equal(mixer.mix({"a": dc(0.25), "b": dc(0.125)}), dc(0.125))


def test_ramp_never_steps_more_than_a_full_ramp_allows():
    mixer = Mixer()
    rng = np.random.default_rng(7)
    outputs = []
    for _ in range(200):
        if rng.random() < 0.5:
            choice = rng.choice([None, -40.0, -12.0, -6.0, 0.0])
            mixer.set_gains({"a": None if choice is None else float(choice)})
        outputs.append(mixer.mix({"a": dc(0.5)})[0])
    signal = np.concatenate(outputs)
    steps = np.abs(np.diff(signal))
    # The largest change (0 → unity) on a 0.5 DC input may move 0.5/480 per sample.
    assert steps.max() <= 0.5 / 480 + 1e-7


def test_limiter_holds_ceiling_on_full_scale_noise_from_32_lines():
    mixer = Mixer()
    lines = [f"line{i}" for i in range(32)]
    mixer.set_gains({line: 0.0 for line in lines})
    rng = np.random.default_rng(3)
    peaks = []
    for _ in range(100):
        frames = {line: rng.uniform(-1, 1, (2, 960)).astype(np.float32) for line in lines}
        out = mixer.mix(frames)
        peaks.append(float(np.abs(out).max()))
    assert max(peaks) <= CEILING
    assert min(peaks[5:]) > 0.5 * CEILING  # limited, not muted


def test_limiter_is_transparent_below_the_ceiling_and_recovers_after_a_peak():
    mixer = Mixer()
    mixer.set_gains({"a": 0.0})
    np.testing.assert_array_equal(settled(mixer, {"a": dc(0.5)}), dc(0.5))
    loud = mixer.mix({"a": dc(1.0)})
    assert np.abs(loud).max() <= CEILING
    for _ in range(10):  # release: 100 ms to recover fully
        out = mixer.mix({"a": dc(0.5)})
    np.testing.assert_array_equal(out, dc(0.5))


def test_meters_report_peak_and_rms_in_dbfs_per_line_and_program():
    mixer = Mixer()
    mixer.set_gains({"tone": -6.0, "quiet": None})
    t = np.arange(960) / 48000
    tone = np.tile(0.5 * np.sin(2 * np.pi * 1000 * t), (2, 1)).astype(np.float32)
    settled(mixer, {"tone": tone, "quiet": np.zeros((2, 960), np.float32)})
    mixer.meters()  # a read starts a new window: the next one holds only the steady tick below
    mixer.mix({"tone": tone, "quiet": np.zeros((2, 960), np.float32)})
    meters = mixer.meters()
    assert meters["lines"]["tone"]["peak_db"] == pytest.approx(-6.0206, abs=1e-3)
    assert meters["lines"]["tone"]["rms_db"] == pytest.approx(-9.0309, abs=1e-3)
    assert meters["lines"]["quiet"] == {"peak_db": METER_FLOOR_DB, "rms_db": METER_FLOOR_DB}
    assert meters["program"]["peak_db"] == pytest.approx(-12.0206, abs=1e-3)
    assert meters["program"]["rms_db"] == pytest.approx(-15.0309, abs=1e-3)


def test_meters_hold_the_peak_and_energy_of_every_tick_since_they_were_last_read():
    mixer = Mixer()
    mixer.set_gains({"a": 0.0, "b": None})  # b is not on air: its input is metered all the same
    quiet = dc(0.01)
    settled(mixer, {"a": quiet})
    mixer.meters()
    click = quiet.copy()
    click[:, 100] = 0.5
    for frame in (quiet, click, quiet, quiet, quiet):  # five ticks between two reads, as the engine reads
        mixer.mix({"a": frame, "b": quiet} if frame is click else {"a": frame})
    meters = mixer.meters()
    assert meters["lines"]["a"]["peak_db"] == pytest.approx(20 * np.log10(0.5), abs=1e-4)
    energy = 5 * 2 * 960 * 0.01**2 + 2 * (0.5**2 - 0.01**2)  # both channels of the click sample
    assert meters["lines"]["a"]["rms_db"] == pytest.approx(10 * np.log10(energy / (5 * 2 * 960)), abs=1e-3)
    assert meters["lines"]["b"]["peak_db"] == pytest.approx(-40.0, abs=1e-4)  # present for one tick
    assert meters["program"]["peak_db"] == pytest.approx(20 * np.log10(0.5), abs=1e-4)
    after = mixer.meters()  # nothing mixed since: a new, empty window
    assert after["program"]["peak_db"] == METER_FLOOR_DB and after["lines"]["b"]["peak_db"] == METER_FLOOR_DB


def test_db_to_gain():
    assert db_to_gain(None) == 0.0
    assert db_to_gain(0.0) == 1.0
    assert db_to_gain(-20.0) == pytest.approx(0.1)
