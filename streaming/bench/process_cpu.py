"""CPU per named process, from /proc, over a window: `Sampler` reads every process of each named
group (a supervised process and its children: a worker's pool, a mixer's encoder) every second.
A process that started during the window counts from zero; one that ended counts up to its last
sample (at most a second of it is missed); a name whose process was killed and started again
sums both.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def cpu_of(pid: int) -> float | None:
    """Seconds of CPU (user and system) process `pid` has used; None if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / TICK


def process_groups() -> dict[int, list[int]]:
    """Every live process by its process group."""
    groups: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z":
            groups.setdefault(int(fields[2]), []).append(int(stat.parent.name))
    return groups


class Sampler:
    """`members()` names what to measure: {name: (process groups, single pids)}, asked again at
    every sample (pids change as processes restart). `start` begins the window, `stop` ends it."""

    def __init__(self, members: Callable[[], dict[str, tuple[set[int], set[int]]]], every: float = 1.0) -> None:
        self.members = members
        self.every = every
        self.first: dict[tuple[str, int], float] = {}
        self.last: dict[tuple[str, int], float] = {}
        self.window: tuple[float, float] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> None:
        self.began = time.monotonic()
        self._sample(opening=True)
        self._thread.start()

    def stop(self) -> dict[str, float]:
        """The window's CPU per name, in cores (1.0: one core busy all the time)."""
        self._stop.set()
        self._thread.join()
        self._sample(opening=False)
        seconds = time.monotonic() - self.began
        used: dict[str, float] = {}
        for (name, pid), last in self.last.items():
            used[name] = used.get(name, 0.0) + last - self.first.get((name, pid), 0.0)
        return {name: round(total / seconds, 3) for name, total in sorted(used.items())}

    def sample_now(self) -> None:
        """Read every process now (before one is killed, so that its last second counts)."""
        self._sample(opening=False)

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            self._sample(opening=False)

    def _sample(self, opening: bool) -> None:
        groups = process_groups()
        for name, (leaders, pids) in self.members().items():
            everyone = set(pids)
            for leader in leaders:
                everyone.update(groups.get(leader, ()))
            for pid in everyone:
                seconds = cpu_of(pid)
                if seconds is None:
                    continue
                if opening:
                    self.first[(name, pid)] = seconds
                self.last[(name, pid)] = seconds
