"""Who is heard: which lines the published program carries, from envelopes alone. Pure.

Over a window of blocks, the program's power is fitted as a non-negative sum of the lines' input
powers (sources that do not correlate add in power; the fit's weights take in each line's gain,
the program gain, the limiter and the codec). A line is heard when its share of the program's
energy is large enough, and the program holds that much of it whenever it sounds: powers add, so
a line that is in the program never finds it quieter than itself. (A fit alone would credit a
line that merely sounds at the same moments as the source actually heard, an unrecorded one
say.) Lines whose envelopes move alike over the window (two steady tones, the same feed twice)
cannot be told apart: they are judged as a group, and a group that is heard leaves each of its
lines undecided.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# A line carries the program when it accounts for this share of its energy or more.
HEARD_SHARE = 0.12
# Envelopes this alike (cosine of the power series) are one group.
ALIKE = 0.97
# A line whose input stays below this mean square over the window cannot be heard (-60 dBFS).
SOUNDING = 1e-6
# What the codec and the limiter may take from a line that is heard, before it counts as absent.
FLOOR_SLACK = 0.5


@dataclass(frozen=True)
class Hearing:
    """The verdict over one window: lines heard, lines that cannot be told apart from a heard
    line, lines with sound in their input, and the share of the program's energy that no line
    heard (or undecided) accounts for."""

    heard: frozenset[str]
    undecided: frozenset[str]
    sounding: frozenset[str]
    unexplained: float


def who_is_heard(program: np.ndarray, inputs: dict[str, np.ndarray]) -> Hearing:
    """`program`: the program's power per block; `inputs`: each line's input power per block."""
    program = np.asarray(program, dtype=np.float64)
    sounding = [line for line, power in inputs.items() if float(np.mean(power)) >= SOUNDING]
    total = float(program.sum())
    if not sounding or total <= 0:
        return Hearing(frozenset(), frozenset(), frozenset(sounding), 1.0 if total > 0 else 0.0)
    columns = np.stack([np.asarray(inputs[line], dtype=np.float64) for line in sounding], axis=1)
    weights = nonnegative_least_squares(columns, program)
    # The most of each line the program holds at every moment the line sounds (a low percentile:
    # the codec and the limiter take a little now and then).
    floors = np.array([_floor(program, columns[:, index]) for index in range(len(sounding))])
    shares = np.minimum(weights, floors / FLOOR_SLACK) * columns.sum(axis=0) / total
    heard, undecided, explained = set(), set(), 0.0
    for group in _alike_groups(columns):
        members = {sounding[index] for index in group}
        share = float(shares[group].sum())
        if share < HEARD_SHARE:
            continue
        explained += share
        if len(group) == 1:
            heard |= members
        else:
            undecided |= members
    return Hearing(frozenset(heard), frozenset(undecided), frozenset(sounding), max(0.0, 1.0 - explained))


def _floor(program: np.ndarray, line: np.ndarray) -> float:
    """The weight of `line` the program holds wherever it sounds (within half of its loudest)."""
    loud = line >= 0.5 * float(line.max())
    return float(np.percentile(program[loud] / line[loud], 10))


def _alike_groups(columns: np.ndarray) -> list[list[int]]:
    """Indices of columns grouped by likeness (transitively)."""
    norms = np.linalg.norm(columns, axis=0)
    unit = columns / np.where(norms > 0, norms, 1.0)
    alike = unit.T @ unit >= ALIKE
    groups: list[list[int]] = []
    seen: set[int] = set()
    for start in range(columns.shape[1]):
        if start in seen:
            continue
        group, stack = [], [start]
        while stack:
            index = stack.pop()
            if index in seen:
                continue
            seen.add(index)
            group.append(index)
            stack += [other for other in np.flatnonzero(alike[index]) if other not in seen]
        groups.append(sorted(group))
    return groups


def nonnegative_least_squares(a: np.ndarray, b: np.ndarray, max_iterations: int = 100) -> np.ndarray:
    """x >= 0 minimising |a x - b| (Lawson and Hanson's active set method)."""
    count = a.shape[1]
    x = np.zeros(count)
    passive = np.zeros(count, dtype=bool)
    tolerance = 1e-12 * max(1.0, float(np.abs(a).max()) * float(np.abs(b).max()))
    for _ in range(max_iterations):
        gradient = a.T @ (b - a @ x)
        candidates = ~passive & (gradient > tolerance)
        if not candidates.any():
            break
        passive[np.argmax(np.where(candidates, gradient, -np.inf))] = True
        while True:
            trial = np.zeros(count)
            trial[passive] = np.linalg.lstsq(a[:, passive], b, rcond=None)[0]
            if (trial[passive] > 0).all():
                x = trial
                break
            # Step back toward the last feasible point until a weight reaches zero; drop it.
            falling = passive & (trial <= 0)
            drop = x[falling] - trial[falling]
            step = float(np.min(np.where(drop > 0, x[falling] / np.where(drop > 0, drop, 1.0), 0.0)))
            x = x + step * (trial - x)
            passive &= x > tolerance
            x[~passive] = 0.0
    return x
