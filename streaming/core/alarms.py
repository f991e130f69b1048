"""Alarms that raise and clear with hysteresis: a condition must hold for a while to raise its
alarm, and be gone for a while to clear it, so a moment's glitch neither raises nor clears. Pure.

Time is whatever the caller counts in (the program's date-time for what is heard, the wall clock
for the playlist), passed in with each observation.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AlarmChange:
    """An alarm was raised (`active`) or cleared at `at`; `detail` says what was found."""

    alarm: str
    active: bool
    detail: str
    at: float


class Hysteresis:
    """One alarm: raised once its condition held `raise_after` seconds, cleared once it was gone
    `clear_after` seconds. An unknown observation (None) neither starts nor breaks a streak."""

    def __init__(self, name: str, raise_after: float, clear_after: float) -> None:
        self.name = name
        self.raise_after = raise_after
        self.clear_after = clear_after
        self.active = False
        self.detail = ""
        self.since: float | None = None  # when the alarm was raised
        self._streak: float | None = None  # when the observations began to contradict `active`

    def observe(
        self, condition: bool | None, start: float, end: float | None = None, detail: str = ""
    ) -> AlarmChange | None:
        """The condition held (or not) from `start` to `end` (a moment when `end` is None); the
        change this makes, if any. A raised alarm's detail follows the newest observation that held."""
        end = start if end is None else end
        if condition is None:
            return None
        if condition and detail:
            self.detail = detail
        if condition == self.active:
            self._streak = None
            return None
        if self._streak is None:
            self._streak = start
        if end - self._streak < (self.clear_after if self.active else self.raise_after):
            return None
        self.active, self._streak = condition, None
        self.since = end if condition else None
        return AlarmChange(self.name, condition, self.detail if condition else "", end)

    def force(self, active: bool, at: float, detail: str = "") -> AlarmChange | None:
        """Set the alarm at once (what another monitor raised before this one took over, or the
        end of the show clearing everything)."""
        self._streak = None
        if active == self.active:
            return None
        self.active, self.detail = active, detail if active else ""
        self.since = at if active else None
        return AlarmChange(self.name, active, self.detail, at)
