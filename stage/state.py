"""The shape of an event's stage state and the small rules every part of the machine shares.

A state is a plain JSON-able dict so it persists and broadcasts as it is. Collections of records
are dicts keyed by id (lines, presenters, segments, cues, messages, questions) so a change to one
record is a small delta; order, where it matters, is a list of ids (`rundown`).
"""

from dataclasses import dataclass
from typing import Any

from stage.contract.enums import MIXING_PHASES as MIXING_PHASES
from stage.contract.enums import PHASE, SEGMENT_STATUS
from stage.contract.errors import StageError as StageError
from stage.contract.limits import MAX_LINES_ON_AIR as MAX_LINES_ON_AIR

State = dict[str, Any]
# What a command made happen (a take, a cue, a phase change), for the pushes and the audit log.
# Not "event": that is the show itself (events.models.Event).
Happening = dict[str, Any]

PRESHOW, REHEARSAL, LIVE, ENDED = PHASE.values
QUEUED, STANDBY, ON_AIR, DONE, SKIPPED = SEGMENT_STATUS.values

# Bounds that keep the state (persisted and sent on every connect) small.
MAX_CUES = 50
MAX_MESSAGES = 200
MAX_QUESTIONS = 500
MAX_POLLS = 50
MAX_SEGMENTS = 200


# Keys the state gained after shows were persisted, with their value in a state that lacks them.
# A stored document is read through `with_defaults`, so an older one loads and applies as it is.
ADDED_KEYS: dict[str, Any] = {
    "talkback": {},
    "backstage_open": [],
    "polls": {},
    "decks": {},
    "slide": None,
    "presenter_slides": False,
    "off_air_alarms": {},
    "output": None,
}


def with_defaults(state: State) -> State:
    """`state` itself when it has every key, else a shallow copy with the missing ones at their defaults."""
    missing = {key: value for key, value in ADDED_KEYS.items() if key not in state}
    if not missing:
        return state
    return state | {key: type(value)() for key, value in missing.items()}


class CommandRefused(StageError):
    """A valid command that the current state does not allow."""


@dataclass(frozen=True)
class Context:
    """Who sent a command and when it is applied; kept in the audit log so replay sees the same."""

    now: float
    actor: str = ""
    role: str = "producer"


def new_line(label: str, presenter: str | None = None, source: str | None = None, format: str | None = None) -> dict:
    """A line of the bridge; `source` is an FFmpeg input URL, or None for the presenter's browser."""
    return {
        "label": label,
        "presenter": presenter,
        "source": source,
        "format": format,
        "on_air": False,
        "muted": False,
        "gain_db": 0.0,
        "health": "unknown",
        "fault": None,
    }


def new_presenter(name: str, line: str) -> dict:
    return {"name": name, "line": line, "connected": False, "checked_in": False, "ready": False, "status": "ok"}


def new_segment(title: str, presenters: list[str], planned_seconds: int) -> dict:
    return {
        "title": title,
        "presenters": list(presenters),
        "planned_seconds": planned_seconds,
        "status": QUEUED,
        "actual_start": None,
        "actual_end": None,
    }


def next_id(state: State, prefix: str) -> str:
    """A fresh id for a record the machine creates; deterministic, so replay makes the same ids."""
    state["serial"] += 1
    return f"{prefix}{state['serial']}"


def line_of(state: State, line_id: str, field: str = "line") -> dict:
    line = state["lines"].get(line_id)
    if line is None:
        raise CommandRefused("unknown_line", f"No line {line_id!r} on this stage.", field)
    return line


def presenter_of(state: State, presenter_id: str, field: str = "presenter") -> dict:
    presenter = state["presenters"].get(presenter_id)
    if presenter is None:
        raise CommandRefused("unknown_presenter", f"No presenter {presenter_id!r} on this stage.", field)
    return presenter


def segment_of(state: State, segment_id: str, field: str = "segment") -> dict:
    segment = state["segments"].get(segment_id)
    if segment is None:
        raise CommandRefused("unknown_segment", f"No segment {segment_id!r} in the run-of-show.", field)
    return segment


def require_phase(state: State, *phases: str) -> None:
    if state["phase"] not in phases:
        if state["phase"] == ENDED:
            raise CommandRefused("show_ended", "The show has ended.", "type")
        raise CommandRefused("wrong_phase", f"Not possible during {state['phase']}.", "type")


def require_not_ended(state: State) -> None:
    require_phase(state, PRESHOW, REHEARSAL, LIVE)


def lines_on_air(state: State) -> list[str]:
    return [line_id for line_id, line in state["lines"].items() if line["on_air"]]


def on_air_presenters(state: State) -> list[str]:
    """Presenters whose line is on air: who is speaking now."""
    return [pid for pid, p in state["presenters"].items() if state["lines"].get(p["line"], {}).get("on_air")]


def current_segment(state: State) -> str | None:
    return next((sid for sid in state["rundown"] if state["segments"][sid]["status"] == ON_AIR), None)


def standby_segment(state: State) -> str | None:
    return next((sid for sid in state["rundown"] if state["segments"][sid]["status"] == STANDBY), None)


def talked_to(state: State) -> list[str]:
    """The presenters a producer is talking back to now (whoever it is), in roster order."""
    talkback = state.get("talkback", {}).values()
    every = any(entry["all"] for entry in talkback)
    named = {presenter for entry in talkback for presenter in entry["presenters"]}
    return [pid for pid in state["presenters"] if every or pid in named]


def tally(state: State, presenter_id: str) -> str:
    """What a presenter's tally light shows: "program" only when their line is mixed into what
    people hear; on air but not heard says why (idle before the show, hold, muted); "preview"
    when they go on at the next take; else "off". The pages run the same rules (stage-views.js)."""
    presenter = state["presenters"].get(presenter_id)
    line = state["lines"].get(presenter["line"]) if presenter else None
    if line is not None and line["on_air"]:
        if state["phase"] not in MIXING_PHASES:
            return "idle"
        if state["hold"]:
            return "hold"
        return "muted" if line["muted"] else "program"
    if presenter_id in state["preview"]["presenters"]:
        return "preview"
    return "off"


def serial(record_id: str) -> int:
    """The creation number in a record id ("c12" is the twelfth record made): ids sort by it."""
    return int(record_id[1:])


def trim(records: dict, limit: int) -> None:
    """Drop the oldest records (lowest serial number) beyond `limit`."""
    while len(records) > limit:
        del records[min(records, key=serial)]
