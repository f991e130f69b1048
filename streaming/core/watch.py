"""Watching the on-air lines: health changes, silence alarms and when the fallback plays. Pure.

Time is counted in mixer ticks, so this is tested without a clock.
"""

from __future__ import annotations

from .lines import HEALTH_FAULTED, HEALTH_OK, HEALTH_SILENT

# A line that delivers audio, even quiet audio, carries the program; connecting or faulted does not.
CARRYING = (HEALTH_OK, HEALTH_SILENT)


class LineWatch:
    """Turns each tick's line health and on-air set into reports of what changed."""

    def __init__(self, fallback_after_ticks: int) -> None:
        self.fallback_after_ticks = fallback_after_ticks
        self.health: dict[str, str] = {}
        self.faults: dict[str, str | None] = {}
        self.silent_alarms: set[str] = set()
        self.fallback_active = False
        self._dead_ticks = 0

    def update(
        self, health: dict[str, str], on_air: set[str], faults: dict[str, str | None] | None = None
    ) -> list[dict]:
        """One tick: `health` of every line, the lines on air, and why a faulted line was refused
        (`faults`, the source policy's reason). Returns the reports to send."""
        reports = []
        # A reason goes with "faulted" only: a reader sets it a moment before its health turns.
        faults = {line: (faults or {}).get(line) if state == HEALTH_FAULTED else None for line, state in health.items()}
        for line, state in health.items():
            if self.health.get(line) != state or self.faults.get(line) != faults[line]:
                report = {"type": "line_health", "line": line, "health": state}
                if faults[line] is not None:
                    report["fault"] = faults[line]
                reports.append(report)
        self.health = dict(health)
        self.faults = faults

        silent = {line for line in on_air if health.get(line) == HEALTH_SILENT}
        for line in sorted(silent - self.silent_alarms):
            reports.append({"type": "alarm", "alarm": "silence", "line": line, "active": True})
        for line in sorted(self.silent_alarms - silent):
            reports.append({"type": "alarm", "alarm": "silence", "line": line, "active": False})
        self.silent_alarms = silent

        # Dead air: lines are on air but none of them carries audio.
        dead = bool(on_air) and not any(health.get(line) in CARRYING for line in on_air)
        self._dead_ticks = self._dead_ticks + 1 if dead else 0
        active = self._dead_ticks > self.fallback_after_ticks
        if active != self.fallback_active:
            self.fallback_active = active
            reports.append({"type": "fallback", "active": active})
        return reports
