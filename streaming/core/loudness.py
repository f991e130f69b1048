"""Program loudness: FFmpeg's ebur128 filter (through PyAV) for the meters, and a slow normaliser."""

from __future__ import annotations

import math
from fractions import Fraction

import av
import av.filter
import numpy as np

from . import SAMPLE_RATE

# ebur128 reports -70 LUFS (its absolute gate) and below for silence; below this nothing adapts.
GATE_LUFS = -50.0


class LoudnessMeter:
    """Momentary (400 ms) and short-term (3 s) loudness in LUFS of everything pushed (BS.1770),
    its integrated loudness, and with `true_peak` the highest true peak in dBTP (4x oversampled:
    it costs, so the mixer's meters leave it off)."""

    def __init__(self, sample_rate: int = SAMPLE_RATE, *, true_peak: bool = False) -> None:
        self.sample_rate = sample_rate
        self._time_base = Fraction(1, sample_rate)
        self._graph = av.filter.Graph()
        self._source = self._graph.add_abuffer(
            sample_rate=sample_rate, format="fltp", layout="stereo", time_base=self._time_base
        )
        ebur128 = self._graph.add("ebur128", "metadata=1:peak=true" if true_peak else "metadata=1")
        self._sink = self._graph.add("abuffersink")
        self._source.link_to(ebur128)
        ebur128.link_to(self._sink)
        self._graph.configure()
        self._pts = 0
        self.momentary: float | None = None
        self.short_term: float | None = None
        self.integrated: float | None = None
        self.true_peak: float | None = None

    def push(self, program: np.ndarray) -> None:
        """Measure one (2, N) float32 block of the program."""
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(program), format="fltp", layout="stereo")
        frame.sample_rate = self.sample_rate
        frame.time_base = self._time_base
        frame.pts = self._pts
        self._pts += program.shape[1]
        self._source.push(frame)
        while True:
            try:
                measured = self._sink.pull()
            except (av.error.BlockingIOError, av.error.EOFError):
                return
            metadata = measured.metadata
            if "lavfi.r128.S" in metadata:
                self.momentary = _finite(metadata["lavfi.r128.M"])
                self.short_term = _finite(metadata["lavfi.r128.S"])
                integrated = _finite(metadata["lavfi.r128.I"])
                # -70 LUFS is the absolute gate: nothing loud enough to integrate yet.
                self.integrated = integrated if integrated is not None and integrated > -70 else None
            if "lavfi.r128.true_peak" in metadata:
                peak = float(metadata["lavfi.r128.true_peak"])  # linear, the highest so far
                self.true_peak = round(20 * math.log10(peak), 2) if peak > 0 else None


def _finite(value: str) -> float | None:
    """A measurement, or None where ebur128 has none to give (it can print -inf or nan)."""
    number = float(value)
    return number if math.isfinite(number) else None


class LoudnessNormaliser:
    """Moves a program gain slowly toward `target - short-term loudness`, within bounds.

    Feed-forward: it is given the loudness of the sum before its gain, so it cannot hunt.
    Slow on purpose (dB per second): it evens out speakers and sources, the limiter catches peaks.
    Silence (below the gate) holds the gain, so a pause is not pumped up.
    """

    def __init__(
        self,
        target_lufs: float = -16.0,
        max_boost_db: float = 12.0,
        max_cut_db: float = 12.0,
        rate_db_per_second: float = 2.0,
    ) -> None:
        self.target_lufs = target_lufs
        self.max_boost_db = max_boost_db
        self.max_cut_db = max_cut_db
        self.rate_db_per_second = rate_db_per_second
        self.gain_db = 0.0

    def update(self, short_term_lufs: float | None, seconds: float) -> float:
        """Advance by `seconds` at this short-term loudness of the sum before the gain; returns dB."""
        if short_term_lufs is None or short_term_lufs < GATE_LUFS:
            return self.gain_db
        wanted = self.target_lufs - short_term_lufs
        wanted = min(self.max_boost_db, max(-self.max_cut_db, wanted))
        step = self.rate_db_per_second * seconds
        self.gain_db += min(step, max(-step, wanted - self.gain_db))
        return self.gain_db
