"""bench_mixer compares equal work, and its command prints its figures (short files: a smoke run,
not a measurement)."""

import json

import numpy as np
import pytest
from django.core.management import call_command

from streaming.bench.bench_mixer import BLOCK, GAIN_DB, generate_material, mix_amix, mix_ours
from tests.audio import SAMPLE_RATE, decode, read_segments, tone_level


def program(directory) -> np.ndarray:
    return decode(b"".join(read_segments(directory, (directory / "vod.m3u8").read_text())))


def db(value: float) -> float:
    return 20 * np.log10(value)


def test_ours_and_amix_mix_the_same_lines_to_the_same_program(tmp_path):
    files = generate_material(tmp_path, seconds=4)
    paths = [files[0], files[2], files[0]]  # base tones: 220 Hz twice, 440 Hz once
    assert mix_ours(paths, tmp_path / "ours") > 0 and mix_amix(paths, tmp_path / "amix") > 0
    ours, amix = program(tmp_path / "ours"), program(tmp_path / "amix")
    # Ours stops at its last whole 400 ms block, amix at the shortest input: within one block.
    assert 3.5 * SAMPLE_RATE < len(ours) <= len(amix) < len(ours) + BLOCK
    ours, amix = ours[4800 : len(ours) - 4800], amix[4800 : len(ours) - 4800]
    assert abs(db(np.sqrt(np.mean(ours**2))) - db(np.sqrt(np.mean(amix**2)))) < 0.1
    for frequency, lines in ((220, 2), (440, 1)):
        level = tone_level(ours, frequency)
        assert abs(db(level) - db(tone_level(amix, frequency))) < 0.2
        # The base tone is 0.3 on the left only; the mono downmix takes each channel at -3 dB.
        assert abs(db(level) - db(lines * 0.3 * np.sqrt(0.5) * 10 ** (GAIN_DB / 20))) < 0.5


@pytest.mark.django_db
def test_the_command_prints_every_line_count_as_json(capsys):
    call_command("bench_mixer", "--json", "--runs", "2", "--lines", "1", "3", "--seconds", "2", "--live-seconds", "1")
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"lines", "live_cpu_share_8_lines"} and set(result["lines"]) == {"1", "3"}
    for figures in result["lines"].values():
        assert figures["ours_rtf"] > 0 and figures["amix_rtf"] > 0
        assert figures["ratio"] == pytest.approx(figures["ours_rtf"] / figures["amix_rtf"], abs=0.02)
        # The spread of the two runs' ratios; the best-of ratio pairs two runs' bests, so it may lie outside.
        assert 0 < figures["ratio_min"] <= figures["ratio_p50"] <= figures["ratio_max"]
    assert 0 < result["live_cpu_share_8_lines"] < 2  # CPU seconds per wall second, two cores at most
