"""The stage state machine: `apply(state, command) -> (state, events)`.

Pure: no Django, no I/O, no clock read inside (`now` is passed in). A state is a JSON-able dict
so it persists and broadcasts as it is; `apply` never mutates its input.
"""

import copy
from collections.abc import Callable
from typing import Any

PHASES = ("preshow", "live", "ended")
MAX_LINES_ON_AIR = 4

State = dict[str, Any]
Event = dict[str, Any]


class CommandRefused(Exception):
    """A valid command that the current state does not allow."""

    def __init__(self, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.code = code
        self.field = field
        self.message = message

    def as_dict(self) -> dict:
        return {"code": self.code, "field": self.field, "message": self.message}


def new_line(label: str, presenter: int | None = None) -> dict:
    return {"label": label, "presenter": presenter, "on_air": False, "muted": False, "gain_db": 0.0}


def initial_state(lines: dict[str, dict]) -> State:
    """The state of an event before the show: every line off air."""
    return {"version": 0, "phase": "preshow", "lines": copy.deepcopy(lines), "live_since": None, "ended_at": None}


def apply(state: State, command: dict, *, now: float) -> tuple[State, list[Event]]:
    """Apply a validated command; return the new state (version + 1) and the events it caused."""
    handler = _HANDLERS[command["type"]]
    new_state = copy.deepcopy(state)
    events = handler(new_state, command, now)
    new_state["version"] = state["version"] + 1
    return new_state, events


def _line(state: State, command: dict) -> dict:
    line = state["lines"].get(command["line"])
    if line is None:
        raise CommandRefused("unknown_line", f"No line {command['line']!r} on this stage.", "line")
    return line


def _require_not_ended(state: State) -> None:
    if state["phase"] == "ended":
        raise CommandRefused("show_ended", "The show has ended.", "type")


def _go_live(state: State, command: dict, now: float) -> list[Event]:
    if state["phase"] != "preshow":
        raise CommandRefused("wrong_phase", f"Cannot go live from {state['phase']}.", "type")
    state["phase"] = "live"
    state["live_since"] = now
    return [{"type": "phase", "phase": "live"}]


def _end_show(state: State, command: dict, now: float) -> list[Event]:
    if state["phase"] != "live":
        raise CommandRefused("wrong_phase", f"Cannot end the show from {state['phase']}.", "type")
    state["phase"] = "ended"
    state["ended_at"] = now
    for line in state["lines"].values():
        line["on_air"] = False
    return [{"type": "phase", "phase": "ended"}]


def _set_on_air(state: State, command: dict, now: float) -> list[Event]:
    _require_not_ended(state)
    line = _line(state, command)
    if command["on_air"] and not line["on_air"]:
        on_air = sum(1 for other in state["lines"].values() if other["on_air"])
        if on_air >= MAX_LINES_ON_AIR:
            raise CommandRefused("too_many_on_air", f"At most {MAX_LINES_ON_AIR} lines can be on air.", "line")
    line["on_air"] = command["on_air"]
    return [{"type": "line", "line": command["line"], "on_air": line["on_air"]}]


def _set_mute(state: State, command: dict, now: float) -> list[Event]:
    line = _line(state, command)
    line["muted"] = command["muted"]
    return [{"type": "line", "line": command["line"], "muted": line["muted"]}]


def _set_gain(state: State, command: dict, now: float) -> list[Event]:
    line = _line(state, command)
    line["gain_db"] = float(command["gain_db"])
    return [{"type": "line", "line": command["line"], "gain_db": line["gain_db"]}]


_HANDLERS: dict[str, Callable[[State, dict, float], list[Event]]] = {
    "go_live": _go_live,
    "end_show": _end_show,
    "set_on_air": _set_on_air,
    "set_mute": _set_mute,
    "set_gain": _set_gain,
}


def audible_gains(state: State) -> dict[str, float | None]:
    """What the mix should do with each line: its gain in dB, or None when it must be silent."""
    return {
        line_id: line["gain_db"] if line["on_air"] and not line["muted"] and state["phase"] == "live" else None
        for line_id, line in state["lines"].items()
    }
