"""The run-of-show: ordered segments, their status, and "next". Pure."""

from stage.contract.enums import NOT_STARTED
from stage.cues import send_cue
from stage.state import (
    MAX_LINES_ON_AIR,
    MAX_SEGMENTS,
    QUEUED,
    SKIPPED,
    STANDBY,
    CommandRefused,
    Context,
    Happening,
    State,
    current_segment,
    new_segment,
    next_id,
    presenter_of,
    require_not_ended,
    segment_of,
    standby_segment,
)


def _check_presenters(state: State, presenters: list[str]) -> None:
    for index, presenter_id in enumerate(presenters):
        presenter_of(state, presenter_id, f"presenters[{index}]")
    if len(presenters) > MAX_LINES_ON_AIR:
        raise CommandRefused("too_many_on_air", f"A segment has at most {MAX_LINES_ON_AIR} presenters.", "presenters")


def _place(state: State, segment_id: str, before: str | None) -> None:
    if before is not None:
        segment_of(state, before, "before")
        if before == segment_id:
            raise CommandRefused("invalid_move", "A segment cannot be placed before itself.", "before")
    if segment_id in state["rundown"]:
        state["rundown"].remove(segment_id)
    index = state["rundown"].index(before) if before is not None else len(state["rundown"])
    state["rundown"].insert(index, segment_id)


def add_segment(state: State, command: dict, ctx: Context) -> list[Happening]:
    require_not_ended(state)
    if len(state["segments"]) >= MAX_SEGMENTS:
        raise CommandRefused("too_many_segments", f"A run-of-show has at most {MAX_SEGMENTS} segments.", "type")
    _check_presenters(state, command["presenters"])
    before = command.get("before")
    if before is not None:
        segment_of(state, before, "before")
    segment_id = next_id(state, "n")
    state["segments"][segment_id] = new_segment(command["title"], command["presenters"], command["planned_seconds"])
    _place(state, segment_id, before)
    return [{"type": "segment", "segment": segment_id, "added": True}]


def update_segment(state: State, command: dict, ctx: Context) -> list[Happening]:
    require_not_ended(state)
    segment = segment_of(state, command["segment"])
    if "presenters" in command:
        _check_presenters(state, command["presenters"])
        segment["presenters"] = list(command["presenters"])
        if state["preview"]["segment"] == command["segment"]:
            state["preview"]["presenters"] = list(command["presenters"])
    for name in ("title", "planned_seconds"):
        if name in command:
            segment[name] = command[name]
    return [{"type": "segment", "segment": command["segment"]}]


def remove_segment(state: State, command: dict, ctx: Context) -> list[Happening]:
    require_not_ended(state)
    segment = segment_of(state, command["segment"])
    if segment["status"] not in NOT_STARTED:
        raise CommandRefused(
            "segment_started", f"A segment that is {segment['status']} stays in the run-of-show.", "segment"
        )
    if state["preview"]["segment"] == command["segment"]:
        state["preview"] = {"segment": None, "presenters": []}
    del state["segments"][command["segment"]]
    state["rundown"].remove(command["segment"])
    return [{"type": "segment", "segment": command["segment"], "removed": True}]


def move_segment(state: State, command: dict, ctx: Context) -> list[Happening]:
    """Place a segment before another one (or last): absolute, so a re-sent move is harmless."""
    require_not_ended(state)
    segment_of(state, command["segment"])
    _place(state, command["segment"], command["before"])
    return [{"type": "rundown", "rundown": list(state["rundown"])}]


def skip_segment(state: State, command: dict, ctx: Context) -> list[Happening]:
    require_not_ended(state)
    segment = segment_of(state, command["segment"])
    if command["skipped"]:
        if segment["status"] not in NOT_STARTED:
            raise CommandRefused(
                "segment_started", f"A segment that is {segment['status']} cannot be skipped.", "segment"
            )
        if state["preview"]["segment"] == command["segment"]:
            state["preview"] = {"segment": None, "presenters": []}
        segment["status"] = SKIPPED
    elif segment["status"] == SKIPPED:
        segment["status"] = QUEUED
    return [{"type": "segment", "segment": command["segment"], "status": segment["status"]}]


def put_on_standby(state: State, segment_id: str, ctx: Context, field: str = "segment") -> list[Happening]:
    """The segment's presenters to preview and a standby cue to each; any other standby back to queued."""
    segment = segment_of(state, segment_id, field)
    if segment["status"] not in (QUEUED, STANDBY):
        raise CommandRefused("not_queued", f"A segment that is {segment['status']} cannot go on standby.", field)
    previous = standby_segment(state)
    if previous is not None:
        state["segments"][previous]["status"] = QUEUED
    segment["status"] = STANDBY
    state["preview"] = {"segment": segment_id, "presenters": list(segment["presenters"])}
    happenings = [{"type": "standby", "segment": segment_id, "presenters": list(segment["presenters"])}]
    for presenter_id in segment["presenters"]:
        happenings += send_cue(state, presenter_id, "standby", ctx, text=segment["title"])
    return happenings


def standby(state: State, command: dict, ctx: Context) -> list[Happening]:
    require_not_ended(state)
    return put_on_standby(state, command["segment"], ctx)


def following_segment(state: State) -> str | None:
    """What "next" puts on standby: the first queued segment after the one on standby (or on
    air), then from the top, so a segment moved back up is not lost."""
    rundown = state["rundown"]
    anchor = standby_segment(state) or current_segment(state)
    start = rundown.index(anchor) + 1 if anchor is not None else 0
    return next((sid for sid in rundown[start:] + rundown[:start] if state["segments"][sid]["status"] == QUEUED), None)


def next_segment(state: State) -> str | None:
    """The segment that is next: the one on standby, else the one "next" would put there."""
    return standby_segment(state) or following_segment(state)


def advance(state: State, command: dict, ctx: Context) -> list[Happening]:
    """'Next': the first queued segment after the one on standby (or on air) goes on standby."""
    require_not_ended(state)
    following = following_segment(state)
    if following is None:
        raise CommandRefused("end_of_rundown", "No queued segment follows.", "type")
    return put_on_standby(state, following, ctx)


HANDLERS = {
    "add_segment": add_segment,
    "update_segment": update_segment,
    "remove_segment": remove_segment,
    "move_segment": move_segment,
    "skip_segment": skip_segment,
    "standby": standby,
    "next": advance,
}
