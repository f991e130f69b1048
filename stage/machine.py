"""The stage state machine: `apply(state, command, now=...) -> (state, happenings)`.

Pure: no Django, no I/O, no clock read inside (`now` is passed in), and `apply` never mutates its
input. Commands arrive validated (stage/contract/commands.py). The phases live here; the run-of-show, the
bridge, cues and Q&A each have a module of their own, and this one puts them together.
"""

from collections.abc import Callable

from stage import bridge, cues, off_air, polls, qna, rundown, slides, votes
from stage.state import (
    DONE,
    ENDED,
    LIVE,
    MIXING_PHASES,
    PRESHOW,
    QUEUED,
    REHEARSAL,
    SKIPPED,
    CommandRefused,
    Context,
    Happening,
    State,
    current_segment,
    new_line,
    new_presenter,
    new_segment,
    require_not_ended,
    require_phase,
    with_defaults,
)

__all__ = [
    "CommandRefused",
    "apply",
    "audible_gains",
    "initial_state",
    "mix_plan",
    "new_line",
    "new_presenter",
    "new_segment",
]


def initial_state(
    lines: dict[str, dict],
    presenters: dict[str, dict] | None = None,
    segments: list[tuple[str, dict]] | None = None,
) -> State:
    """The state of an event before the show: every line off air, the run-of-show queued."""
    segments = segments or []
    return {
        "version": 0,
        "phase": PRESHOW,
        "hold": False,
        "fallback": "hold_music",
        "rehearsal_since": None,
        "live_since": None,
        "ended_at": None,
        "lines": _copy(lines),
        "presenters": _copy(presenters or {}),
        "rundown": [segment_id for segment_id, _ in segments],
        "segments": {segment_id: _copy(segment) for segment_id, segment in segments},
        "preview": {"segment": None, "presenters": []},
        "cues": {},
        "messages": {},
        "questions": {},
        "polls": {},
        "serial": 0,
        "talkback": {},
        "backstage_open": [],
        "decks": {},
        "slide": None,
        "presenter_slides": False,
        "off_air_alarms": {},
        "output": None,
    }


def apply(
    state: State, command: dict, *, now: float, actor: str = "", role: str = "producer"
) -> tuple[State, list[Happening]]:
    """Apply a validated command. A change returns the new state at version + 1 and its happenings;
    a command that changes nothing returns the very same state and no happenings. A state
    persisted before keys were added to it (`ADDED_KEYS`) gets them here, with the first change."""
    handler = HANDLERS[command["type"]]
    current = with_defaults(state)
    new_state = _copy(current)
    happenings = handler(new_state, command, Context(now=now, actor=actor, role=role))
    if new_state == current:
        return state, []
    new_state["version"] = state["version"] + 1
    return new_state, happenings


def _copy(value):
    """A deep copy of JSON-shaped data, several times faster than copy.deepcopy."""
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def _reset_run(state: State) -> None:
    """Back to the top of the run-of-show: after a rehearsal, nothing of it counts."""
    for segment in state["segments"].values():
        if segment["status"] != SKIPPED:
            segment["status"] = QUEUED
        segment["actual_start"] = segment["actual_end"] = None
    for line in state["lines"].values():
        line["on_air"] = False
    state["preview"] = {"segment": None, "presenters": []}
    state["cues"] = {}
    state["hold"] = False
    state["backstage_open"] = []


def start_rehearsal(state: State, command: dict, ctx: Context) -> list[Happening]:
    require_phase(state, PRESHOW)
    state["phase"] = REHEARSAL
    state["rehearsal_since"] = ctx.now
    return [{"type": "phase", "phase": REHEARSAL}]


def stop_rehearsal(state: State, command: dict, ctx: Context) -> list[Happening]:
    require_phase(state, REHEARSAL)
    _reset_run(state)
    state["phase"] = PRESHOW
    state["rehearsal_since"] = None
    return [{"type": "phase", "phase": PRESHOW}]


def go_live(state: State, command: dict, ctx: Context) -> list[Happening]:
    require_phase(state, PRESHOW, REHEARSAL)
    if state["phase"] == REHEARSAL:
        _reset_run(state)
        state["rehearsal_since"] = None
    state["phase"] = LIVE
    state["live_since"] = ctx.now
    return [{"type": "phase", "phase": LIVE}]


def end_show(state: State, command: dict, ctx: Context) -> list[Happening]:
    require_phase(state, LIVE)
    segment_id = current_segment(state)
    if segment_id is not None:
        state["segments"][segment_id]["status"] = DONE
        state["segments"][segment_id]["actual_end"] = ctx.now
    for line in state["lines"].values():
        line["on_air"] = False
    state["preview"] = {"segment": None, "presenters": []}
    state["hold"] = False
    state["backstage_open"] = []
    state["talkback"] = {}
    state["phase"] = ENDED
    state["ended_at"] = ctx.now
    return [{"type": "phase", "phase": ENDED}, *off_air.clear_all(state)]


def set_hold(state: State, command: dict, ctx: Context) -> list[Happening]:
    """ "We'll be right back": the lines fall silent and the fallback source plays."""
    require_phase(state, *MIXING_PHASES)
    state["hold"] = command["hold"]
    return [{"type": "hold", "hold": state["hold"]}]


def set_fallback(state: State, command: dict, ctx: Context) -> list[Happening]:
    require_not_ended(state)
    state["fallback"] = command["source"]
    return [{"type": "fallback", "source": state["fallback"]}]


HANDLERS: dict[str, Callable[[State, dict, Context], list[Happening]]] = {
    "start_rehearsal": start_rehearsal,
    "stop_rehearsal": stop_rehearsal,
    "go_live": go_live,
    "end_show": end_show,
    "set_hold": set_hold,
    "set_fallback": set_fallback,
    **bridge.HANDLERS,
    **rundown.HANDLERS,
    **cues.HANDLERS,
    **qna.HANDLERS,
    **polls.HANDLERS,
    **votes.HANDLERS,
    **slides.HANDLERS,
    **off_air.HANDLERS,
}


def audible_gains(state: State) -> dict[str, float | None]:
    """What the mix does with each line: its gain in dB, or None when it must be silent.
    Lines are audible in rehearsal too (the mixer writes that to a private output)."""
    audible = state["phase"] in MIXING_PHASES and not state.get("hold", False)
    return {
        line_id: line["gain_db"] if audible and line["on_air"] and not line["muted"] else None
        for line_id, line in state["lines"].items()
    }


def mix_plan(state: State) -> dict:
    """Everything the mixer takes from the stage: gains per line, whether the program is public
    (live) or private (rehearsal), whether the show is on hold, and which fallback source plays
    alone on hold or while no on-air line carries audio (the mixer sees that, tick by tick); and
    for the returns: the presenters' lines in preview, the lines of on-air presenters who also
    hear backstage, and each talking producer's target lines (all: every presenter's)."""
    presenters = state["presenters"]
    talkback = state.get("talkback", {})
    return {
        "gains": audible_gains(state),
        "public": state["phase"] == LIVE,
        "hold": state.get("hold", False),
        "fallback": state["fallback"],
        "preview": [presenters[pid]["line"] for pid in state["preview"]["presenters"] if pid in presenters],
        "backstage_open": [presenters[pid]["line"] for pid in state.get("backstage_open", []) if pid in presenters],
        "talkback": {
            actor: sorted(p["line"] for pid, p in presenters.items() if entry["all"] or pid in entry["presenters"])
            for actor, entry in talkback.items()
        },
    }
