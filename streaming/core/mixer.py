"""The mixer: gains with click-free ramps, sum, peak limiter and meters. Pure: no I/O, no clock."""

from __future__ import annotations

import numpy as np

from . import CHANNELS, FRAME_SAMPLES, SAMPLE_RATE

METER_FLOOR_DB = -120.0


def db_to_gain(gain_db: float | None) -> float:
    """Linear amplitude of a gain in dB; None (off-air or muted) is 0."""
    return 0.0 if gain_db is None else float(10 ** (gain_db / 20))


def level_db(value: float) -> float:
    """dBFS of a linear level, floored at METER_FLOOR_DB so meters stay finite (JSON-safe)."""
    if value <= 0:
        return METER_FLOOR_DB
    return max(METER_FLOOR_DB, 20 * float(np.log10(value)))


def _float32_at_most(value: float) -> np.float32:
    """The largest float32 that is not above `value` (so a clamp never exceeds the ceiling)."""
    as32 = np.float32(value)
    return as32 if float(as32) <= value else np.nextafter(as32, np.float32(0))


class _Ramp:
    """A line's gain, moving linearly to its target at a fixed rate per sample."""

    __slots__ = ("current", "step", "target")

    def __init__(self) -> None:
        self.current = 0.0  # a new line fades in from silence
        self.target = 0.0
        self.step = 0.0

    def retarget(self, target: float, ramp_samples: int) -> None:
        if target != self.target:
            self.target = target
            self.step = abs(target - self.current) / ramp_samples

    def advance(self, samples: int) -> float | np.ndarray:
        """Gain for the next `samples` samples: a scalar when steady, else a ramp ending at target."""
        if self.current == self.target:
            return self.current
        direction = 1.0 if self.target > self.current else -1.0
        ramp = self.current + direction * self.step * np.arange(1, samples + 1)
        ramp = np.minimum(ramp, self.target) if direction > 0 else np.maximum(ramp, self.target)
        self.current = float(ramp[-1])
        return ramp


class Mixer:
    """Mixes line frames into the program: gain x frame, summed, then limited below a ceiling."""

    def __init__(
        self,
        channels: int = CHANNELS,
        frame_samples: int = FRAME_SAMPLES,
        ramp_ms: float = 10,
        ceiling_dbfs: float = -1.0,
        release_ms: float = 100,
    ) -> None:
        self.channels = channels
        self.frame_samples = frame_samples
        self.ramp_samples = max(1, round(ramp_ms * SAMPLE_RATE / 1000))
        self.ceiling = _float32_at_most(10 ** (ceiling_dbfs / 20))
        # Linear release: the limiter's gain may rise by at most this much per sample.
        self.release_step = 1.0 / max(1.0, release_ms * SAMPLE_RATE / 1000)
        self._ramps: dict[str, _Ramp] = {}
        self._targets: dict[str, float] = {}
        self._limiter_gain = 1.0
        # Program gain before the limiter (loudness normalisation), ramped like a line's.
        self._program_ramp = _Ramp()
        self._program_ramp.current = self._program_ramp.target = 1.0
        self.last_sum = np.zeros((channels, frame_samples), dtype=np.float32)
        # The last tick as it was mixed, so the returns (streaming/core/returns.py) can take a
        # line's own contribution out of the sum without mixing again: its lines, their inputs,
        # the steady gain vector (0 for a ramping line), each ramping line's per-sample gain, and
        # what turned the sum into the program (program gain, limiter envelope; None when unity).
        self._last_index: dict[str, int] = {}
        self._last_stack = np.zeros((0, channels, frame_samples), dtype=np.float32)
        self._last_steady = np.zeros(0, dtype=np.float32)
        self._last_ramping: dict[int, np.ndarray] = {}
        self._last_program_gain: np.ndarray | None = None
        self._last_envelope: np.ndarray | None = None
        self._last_energy = np.zeros(0)
        self._window = MeterWindow()

    def set_gains(self, gains_db: dict[str, float | None]) -> None:
        """Target gain per line in dB; None or a missing line means silent."""
        self._targets = {line: db_to_gain(db) for line, db in gains_db.items()}
        for line, ramp in self._ramps.items():
            ramp.retarget(self._targets.get(line, 0.0), self.ramp_samples)

    def set_program_gain(self, gain_db: float) -> None:
        """Gain in dB applied to the sum before the limiter, ramped."""
        self._program_ramp.retarget(db_to_gain(gain_db), self.ramp_samples)

    def mix(self, frames: dict[str, np.ndarray]) -> np.ndarray:
        """One tick: the limited program frame (channels, frame_samples) float32."""
        line_ids = list(frames)
        shape = (len(line_ids), self.channels, self.frame_samples)
        stack = np.stack([frames[line] for line in line_ids]) if line_ids else np.empty(shape, np.float32)
        return self.mix_stack(line_ids, stack)

    def mix_stack(self, line_ids: list[str], stack: np.ndarray) -> np.ndarray:
        """Like `mix`, for frames already side by side: stack[i] (channels, frame_samples) is line i.

        Lines at a steady gain are summed in one product with the gain vector; only ramping lines
        take a per-sample pass of their own.
        """
        count = len(line_ids)
        flat = stack.reshape(count, -1)
        steady = []
        ramping = []
        for index, line in enumerate(line_ids):
            ramp = self._ramps.get(line) or self._ramp_of(line)
            if ramp.current == ramp.target:
                steady.append(ramp.current)
            else:
                steady.append(0.0)
                ramping.append((index, ramp.advance(self.frame_samples)))
        gains = np.array(steady, dtype=np.float32)
        self._last_index = {line: index for index, line in enumerate(line_ids)}
        self._last_stack, self._last_steady = stack, gains
        self._last_ramping = {index: gain.astype(np.float32) for index, gain in ramping}
        for line in self._targets.keys() - set(line_ids):
            self._ramp_of(line).advance(self.frame_samples)  # no frame: its ramp still moves on
        # einsum, not matmul: OpenBLAS would start a thread per core that spins on the CPU the
        # other lines and the encoder need (one mixer per process is the design).
        program = np.einsum("i,ij->j", gains, flat).reshape(self.channels, self.frame_samples)
        for index, gain in self._last_ramping.items():
            program += stack[index] * gain
        self._forget_silent_lines(line_ids)
        # Each input's energy: for the meters and for the line's envelope (`line_levels`).
        # vecdot, one dot per row, reads the inputs without a copy (twice as fast as einsum).
        self._last_energy = np.vecdot(flat, flat)
        # The sum before the program gain: what loudness normalisation measures (feed-forward).
        self.last_sum = program
        program_gain = self._program_ramp.advance(self.frame_samples)
        self._last_program_gain = None
        if not (np.isscalar(program_gain) and program_gain == 1.0):
            self._last_program_gain = np.asarray(program_gain, dtype=np.float32)
            program = program * self._last_program_gain
        program = self._limit(program)
        self._window.add(line_ids, flat, program, self._last_energy)
        return program

    def _ramp_of(self, line: str) -> _Ramp:
        ramp = self._ramps.get(line)
        if ramp is None:
            ramp = self._ramps[line] = _Ramp()
            ramp.retarget(self._targets.get(line, 0.0), self.ramp_samples)
        return ramp

    def line_levels(self) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
        """The lines of the last tick, the mean square of each one's input and the mean gain it was
        mixed at (ramps included), both linear: their product is what the line put into the sum."""
        gains = self._last_steady.astype(np.float64)
        for index, ramp in self._last_ramping.items():
            gains[index] = ramp.mean()
        return tuple(self._last_index), self._last_energy / (self.channels * self.frame_samples), gains

    def meters(self) -> dict:
        """Peak and RMS (dBFS) of every line's input and of the program since the last call (a
        meter read every fifth tick still shows a click in the four ticks between reads)."""
        meters = self._window.read()
        for line in self._targets.keys() - meters["lines"].keys():
            meters["lines"][line] = _levels(0.0, 0.0, 0)  # no input since the last read
        return meters

    def _forget_silent_lines(self, present: list[str]) -> None:
        if len(self._ramps) <= len(present):
            return
        present_set = set(present)
        gone = [
            line
            for line, ramp in self._ramps.items()
            if line not in present_set and line not in self._targets and ramp.current == 0.0
        ]
        for line in gone:
            del self._ramps[line]

    def _limit(self, program: np.ndarray) -> np.ndarray:
        """Instant attack, linear release, then a hard clamp so the ceiling holds exactly."""
        peak = np.abs(program).max(axis=0)
        self._last_envelope = None
        if self._limiter_gain >= 1.0 and float(peak.max()) <= self.ceiling:
            return program
        with np.errstate(divide="ignore"):
            needed = np.minimum(1.0, self.ceiling / peak)
        # gain[k] = min(previous + (k+1)·r, min over j≤k of needed[j] + (k-j)·r), vectorised
        # as a running minimum of needed[j] - j·r.
        ramp = np.arange(self.frame_samples) * self.release_step
        envelope = np.minimum.accumulate(needed - ramp) + ramp
        envelope = np.minimum(envelope, self._limiter_gain + ramp + self.release_step)
        envelope = np.minimum(envelope, 1.0)
        self._limiter_gain = float(envelope[-1])
        self._last_envelope = envelope.astype(np.float32)
        limited = program * self._last_envelope
        return np.clip(limited, -self.ceiling, self.ceiling, out=limited)

    def contributions(self, line_ids: list[str]) -> np.ndarray:
        """What each of these lines added to the last tick's sum, gain x input as it was mixed
        (ramps included): (len(line_ids), channels, frame_samples); zeros for a line not mixed."""
        out = np.zeros((len(line_ids), self.channels, self.frame_samples), dtype=np.float32)
        for row, line in enumerate(line_ids):
            index = self._last_index.get(line)
            if index is None:
                continue
            gain = self._last_ramping.get(index)
            if gain is None:
                gain = self._last_steady[index]
                if gain == 0.0:
                    continue
            np.multiply(self._last_stack[index], gain, out=out[row])
        return out

    def like_program(self, sums: np.ndarray) -> np.ndarray:
        """Sums shaped like the last tick's (…, channels, frame_samples) taken to the program
        the way its sum was: the same program gain, the same limiter envelope, the same ceiling.
        A sum equal to the last one comes out equal to the program, sample for sample."""
        out = sums.copy() if self._last_program_gain is None else sums * self._last_program_gain
        if self._last_envelope is not None:
            out *= self._last_envelope  # `out` is ours by now: no second new array
        return np.clip(out, -self.ceiling, self.ceiling, out=out)


class MeterWindow:
    """Peak and energy per line and of the program, gathered tick by tick until read.

    A tick adds two array operations per line set; the dB conversion happens once per read.
    """

    def __init__(self) -> None:
        self._ids: tuple[str, ...] = ()
        self._peaks = self._energy = np.zeros(0)
        self._samples = 0  # per line of the current set
        self._folded: dict[str, list[float]] = {}  # line: [peak, energy, samples] of earlier sets
        self._program = [0.0, 0.0, 0]

    def add(self, line_ids: list[str], flat: np.ndarray, program: np.ndarray, energy: np.ndarray) -> None:
        """One tick: `flat` is (lines, samples) of the inputs, `energy` each input's sum of squares,
        `program` the limited output."""
        ids = tuple(line_ids)
        if ids != self._ids:
            self._fold(ids)
        if ids:
            # max/min read the inputs without allocating a copy.
            np.maximum(self._peaks, np.maximum(flat.max(axis=1), -flat.min(axis=1)), out=self._peaks)
            self._energy += energy
            self._samples += flat.shape[1]
        out = program.reshape(-1)
        self._program[0] = max(self._program[0], float(out.max()), -float(out.min()))
        self._program[1] += float(np.dot(out, out))
        self._program[2] += out.size

    def read(self) -> dict:
        """Levels since the last read, in dBFS; starts a new window."""
        self._fold(self._ids)
        lines = {line: _levels(*gathered) for line, gathered in self._folded.items()}
        program = _levels(*self._program)
        self._folded, self._program = {}, [0.0, 0.0, 0]
        return {"lines": lines, "program": program}

    def _fold(self, next_ids: tuple[str, ...]) -> None:
        """Move the current line set's sums into `_folded` and start gathering for `next_ids`."""
        for line, peak, energy in zip(self._ids, self._peaks.tolist(), self._energy.tolist(), strict=True):
            gathered = self._folded.setdefault(line, [0.0, 0.0, 0])
            gathered[0] = max(gathered[0], peak)
            gathered[1] += energy
            gathered[2] += self._samples
        self._ids = next_ids
        self._peaks, self._energy = np.zeros(len(next_ids)), np.zeros(len(next_ids))
        self._samples = 0


def _levels(peak: float, energy: float, samples: int) -> dict[str, float]:
    return {"peak_db": level_db(peak), "rms_db": level_db(float(np.sqrt(energy / samples)) if samples else 0.0)}
