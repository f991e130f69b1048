"""Each line's audible envelope, recorded by the mixer for the off-air monitor. Pure but for files.

Every 100 ms block the mixer notes, per line, the mean square of its input and the mean gain it
mixed it at (ramps included): their product is what the line put into the program. The monitor
matches the envelope of the audio it decodes from the published stream against these to find
who is actually heard. Blocks are keyed by the program date-time of their first sample, the clock
of the segments' EXT-X-PROGRAM-DATE-TIME, so both sides line up whatever the latency.

The record is one JSON line a second, appended to `line_envelopes.jsonl` in the event's HLS
folder: neither the HLS view nor nginx serves that name (a viewer learns nothing of lines off air).
"""

from __future__ import annotations

import bisect
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import SAMPLE_RATE

ENVELOPE_FILE = "line_envelopes.jsonl"
BLOCK_TICKS = 5
BATCH_BLOCKS = 10  # one line of the file a second
LEVEL_FLOOR_DB = -100.0
# A monitor that starts late reads the newest stretch of the record, not the whole show.
TAIL_BYTES = 256 * 1024


@dataclass
class EnvelopeBatch:
    """Consecutive blocks from sample `position` of a run: per line, the mean square of its input
    and its mean gain in each block (None where the line was not mixed)."""

    position: int
    block_samples: int
    lines: dict[str, list[tuple[float, float] | None]] = field(default_factory=dict)
    blocks: int = 0

    def to_json(self, start: float) -> str:
        """One line of the record, the first block starting at `start` (Unix seconds)."""
        lines = {}
        for line_id, values in self.lines.items():
            levels = [None if value is None else _db(value[0]) for value in values]
            gains = [None if value is None else round(value[1], 4) for value in values]
            lines[line_id] = {"level_db": levels, "gain": gains}
        document = {"start": round(start, 6), "block": self.block_samples / SAMPLE_RATE, "lines": lines}
        return json.dumps(document, separators=(",", ":"))


class EnvelopeRecorder:
    """Gathers the mixer's per-tick line levels into blocks, and blocks into batches (one run).
    A tick adds two array sums while the set of lines stays the same (a few microseconds for
    dozens of lines); the per-line values are made once a block."""

    def __init__(self, frame_samples: int, block_ticks: int = BLOCK_TICKS, batch_blocks: int = BATCH_BLOCKS) -> None:
        self.block_ticks = block_ticks
        self.batch_blocks = batch_blocks
        self._block_samples = frame_samples * block_ticks
        self._ticks = 0
        self._ids: tuple[str, ...] = ()
        self._energy = self._gain = np.zeros(0)
        self._folded: dict[str, list[float]] = {}  # line: [energy, gain] summed under earlier line sets
        self._batch: EnvelopeBatch | None = None

    def add(self, position: int, levels: tuple[tuple[str, ...], np.ndarray, np.ndarray]) -> EnvelopeBatch | None:
        """One tick starting at sample `position`: the lines, each one's mean square and mean gain
        (`Mixer.line_levels`). Returns a batch when this tick completed one."""
        if self._batch is None:
            self._batch = EnvelopeBatch(position, self._block_samples)
        ids, energy, gain = levels
        if ids != self._ids:
            self._fold(ids)
        self._energy = self._energy + energy
        self._gain = self._gain + gain
        self._ticks += 1
        if self._ticks < self.block_ticks:
            return None
        self._close_block()
        if self._batch.blocks < self.batch_blocks:
            return None
        batch, self._batch = self._batch, None
        return batch

    def _fold(self, next_ids: tuple[str, ...]) -> None:
        for line_id, energy, gain in zip(self._ids, self._energy.tolist(), self._gain.tolist(), strict=True):
            summed = self._folded.setdefault(line_id, [0.0, 0.0])
            summed[0] += energy
            summed[1] += gain
        self._ids = next_ids
        self._energy = self._gain = np.zeros(len(next_ids))

    def _close_block(self) -> None:
        self._fold(self._ids)
        batch = self._batch
        for line_id in self._folded.keys() | batch.lines.keys():
            values = batch.lines.setdefault(line_id, [None] * batch.blocks)
            summed = self._folded.get(line_id)
            # A tick a line missed counts as silence at no gain.
            values.append(None if summed is None else (summed[0] / self._ticks, summed[1] / self._ticks))
        batch.blocks += 1
        self._ticks = 0
        self._folded = {}


def append_batch(path: Path, line: str) -> None:
    """Append one line to the record (a single write: a reader sees it whole or not yet)."""
    with path.open("ab") as file:
        file.write(line.encode() + b"\n")


def _db(mean_square: float) -> float:
    if mean_square <= 0:
        return LEVEL_FLOOR_DB
    return max(LEVEL_FLOOR_DB, round(10 * math.log10(mean_square), 1))


@dataclass(frozen=True)
class EnvelopeBlock:
    """One recorded block: when it starts, and per line (mean square of the input, mean gain)."""

    start: float
    lines: dict[str, tuple[float, float]]


class EnvelopeStore:
    """The recorded blocks of the last minutes, by start time, as the monitor reads them."""

    def __init__(self, keep_seconds: float = 120.0) -> None:
        self.keep_seconds = keep_seconds
        self.block_seconds: float | None = None
        self._starts: list[float] = []
        self._blocks: list[EnvelopeBlock] = []

    @property
    def start(self) -> float | None:
        """Where the record kept begins."""
        return self._starts[0] if self._starts else None

    @property
    def end(self) -> float | None:
        """Where the record ends: the end of its newest block."""
        if not self._blocks:
            return None
        return self._blocks[-1].start + self.block_seconds

    def add_line(self, text: str) -> None:
        """One line of the record; raises ValueError for one that is not a batch."""
        document = json.loads(text)
        if not isinstance(document, dict):
            raise ValueError("an envelope batch is a JSON object")
        start, step, lines = float(document["start"]), float(document["block"]), document["lines"]
        if not (math.isfinite(start) and 0 < step <= 1 and isinstance(lines, dict)):
            raise ValueError("not an envelope batch")
        self.block_seconds = step
        count = max((len(values["level_db"]) for values in lines.values()), default=0)
        for index in range(count):
            block = {}
            for line_id, values in lines.items():
                level, gain = values["level_db"][index], values["gain"][index]
                if level is not None and gain is not None:
                    block[str(line_id)] = (10 ** (float(level) / 10), float(gain))
            self._insert(EnvelopeBlock(start + index * step, block))
        self._forget()

    def blocks(self, start: float, end: float) -> list[EnvelopeBlock]:
        """The blocks that start in [start, end)."""
        return self._blocks[bisect.bisect_left(self._starts, start) : bisect.bisect_left(self._starts, end)]

    def _insert(self, block: EnvelopeBlock) -> None:
        position = bisect.bisect_left(self._starts, block.start)
        if position < len(self._starts) and abs(self._starts[position] - block.start) < 1e-4:
            self._blocks[position] = block  # the same block again (a record read twice)
            return
        self._starts.insert(position, block.start)
        self._blocks.insert(position, block)

    def _forget(self) -> None:
        if not self._starts:
            return
        horizon = self._starts[-1] - self.keep_seconds
        drop = bisect.bisect_left(self._starts, horizon)
        if drop:
            del self._starts[:drop], self._blocks[:drop]


class EnvelopeTail:
    """Reads the lines appended to the record since the last call (`tail -f`), starting near its
    end; a record that shrank (written anew) is read from its start again."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._offset: int | None = None
        self._partial = b""
        self._cut = False  # reading began mid-line: the first line is not whole

    def read(self) -> list[str]:
        try:
            with self.path.open("rb") as file:
                size = os.fstat(file.fileno()).st_size
                if self._offset is None or size < self._offset:
                    self._offset = max(0, size - TAIL_BYTES)
                    self._partial = b""
                    self._cut = self._offset > 0
                file.seek(self._offset)
                data = file.read(size - self._offset)
        except FileNotFoundError:
            return []
        self._offset += len(data)
        data = self._partial + data
        *complete, self._partial = data.split(b"\n")
        if self._cut and complete:
            complete, self._cut = complete[1:], False
        return [line.decode(errors="replace") for line in complete if line.strip()]
