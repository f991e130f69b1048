"""The audio bridge as the stage sees it: lines, presenters, preview and take, and what the
presenters hear besides the program (talkback, backstage). Pure."""

from stage import slides
from stage.contract.commands import SYSTEM
from stage.state import (
    DONE,
    MAX_LINES_ON_AIR,
    ON_AIR,
    QUEUED,
    CommandRefused,
    Context,
    Happening,
    State,
    current_segment,
    line_of,
    lines_on_air,
    on_air_presenters,
    presenter_of,
    require_not_ended,
    standby_segment,
    talked_to,
)


def _put_on_air(state: State, line_ids: list[str]) -> None:
    """Exactly these lines on air; refused if that is more than the mix allows."""
    if len(line_ids) > MAX_LINES_ON_AIR:
        raise CommandRefused("too_many_on_air", f"At most {MAX_LINES_ON_AIR} lines can be on air.", "line")
    for line_id, line in state["lines"].items():
        line["on_air"] = line_id in line_ids
    _close_backstage_off_air(state)


def _close_backstage_off_air(state: State) -> None:
    """Backstage opened to an on-air presenter closes when they leave the air (off air, they
    hear backstage anyway), so coming back on air never reopens it by surprise."""
    state["backstage_open"] = [
        pid for pid in state["backstage_open"] if state["lines"].get(state["presenters"][pid]["line"], {}).get("on_air")
    ]


def set_on_air(state: State, command: dict, ctx: Context) -> list[Happening]:
    require_not_ended(state)
    line = line_of(state, command["line"])
    if command["on_air"] and not line["on_air"] and len(lines_on_air(state)) >= MAX_LINES_ON_AIR:
        raise CommandRefused("too_many_on_air", f"At most {MAX_LINES_ON_AIR} lines can be on air.", "line")
    line["on_air"] = command["on_air"]
    _close_backstage_off_air(state)
    return [{"type": "line", "line": command["line"], "on_air": line["on_air"]}]


def set_mute(state: State, command: dict, ctx: Context) -> list[Happening]:
    require_not_ended(state)
    line = line_of(state, command["line"])
    line["muted"] = command["muted"]
    return [{"type": "line", "line": command["line"], "muted": line["muted"]}]


def set_gain(state: State, command: dict, ctx: Context) -> list[Happening]:
    require_not_ended(state)
    line = line_of(state, command["line"])
    line["gain_db"] = float(command["gain_db"])
    return [{"type": "line", "line": command["line"], "gain_db": line["gain_db"]}]


def set_line_health(state: State, command: dict, ctx: Context) -> list[Happening]:
    """The mixer reports a fact about a line; it applies in every phase. A faulted line may say
    why (its source was refused), which the console shows on the line's card."""
    line = line_of(state, command["line"])
    line["health"] = command["health"]
    line["fault"] = command.get("fault") if command["health"] == "faulted" else None
    return [{"type": "line", "line": command["line"], "health": line["health"], "fault": line["fault"]}]


def set_output_health(state: State, command: dict, ctx: Context) -> list[Happening]:
    """The mixer reports on what it publishes: the disk under the webcast's files is full (the
    console's alarm, with since when) or writable again, and the segments it dropped so far. A fact:
    it applies in every phase."""
    previous = state.get("output") or {}
    health = command["health"]
    since = None if health == "ok" else previous.get("since") if previous.get("health") == health else ctx.now
    state["output"] = {"health": health, "dropped": command["dropped"], "since": since}
    return [{"type": "output", "health": health, "dropped": command["dropped"]}]


def set_line_source(state: State, command: dict, ctx: Context) -> list[Happening]:
    """Where a line's audio comes from: an encoder or dial-in URL, or (None) the presenter's browser.
    The URL was checked by the protocol; the mixer reopens the line when it changes."""
    require_not_ended(state)
    line = line_of(state, command["line"])
    line["source"] = command["source"]
    line["format"] = command.get("format") if command["source"] is not None else None
    return [{"type": "line", "line": command["line"], "source": line["source"]}]


def set_preview(state: State, command: dict, ctx: Context) -> list[Happening]:
    """Queue presenters for the next take, outside the run-of-show."""
    require_not_ended(state)
    for index, presenter_id in enumerate(command["presenters"]):
        presenter_of(state, presenter_id, f"presenters[{index}]")
    standby = standby_segment(state)
    if standby is not None:
        state["segments"][standby]["status"] = QUEUED
    state["preview"] = {"segment": None, "presenters": list(command["presenters"])}
    return [{"type": "preview", "segment": None, "presenters": state["preview"]["presenters"]}]


def take(state: State, command: dict, ctx: Context) -> list[Happening]:
    """One move: the previewed presenters to air, the previous ones back to the green room,
    the previewed segment's countdown started; the event names the replay chapter."""
    require_not_ended(state)
    preview = state["preview"]
    if preview["segment"] is None and not preview["presenters"]:
        raise CommandRefused("empty_preview", "Nothing is in preview to take.", "type")
    presenters = preview["presenters"]
    _put_on_air(state, [state["presenters"][pid]["line"] for pid in presenters])
    segment_id = preview["segment"]
    if segment_id is not None:
        previous = current_segment(state)
        if previous is not None:
            state["segments"][previous]["status"] = DONE
            state["segments"][previous]["actual_end"] = ctx.now
        segment = state["segments"][segment_id]
        segment["status"] = ON_AIR
        segment["actual_start"] = ctx.now
        segment["actual_end"] = None
        chapter = segment["title"]
    else:
        chapter = ", ".join(state["presenters"][pid]["name"] for pid in presenters)
    state["preview"] = {"segment": None, "presenters": []}
    shown = slides.follow_take(state, list(presenters), segment_id)
    return [
        {
            "type": "take",
            "segment": segment_id,
            "presenters": list(presenters),
            "chapter": chapter,
            "now_speaking": [state["presenters"][pid]["name"] for pid in on_air_presenters(state)],
        },
        *shown,
    ]


def send_to_green_room(state: State, command: dict, ctx: Context) -> list[Happening]:
    require_not_ended(state)
    presenter = presenter_of(state, command["presenter"])
    _leave_air(state, command["presenter"], presenter)
    return [{"type": "green_room", "presenter": command["presenter"]}]


def _leave_air(state: State, presenter_id: str, presenter: dict) -> None:
    if presenter["line"] in state["lines"]:
        state["lines"][presenter["line"]]["on_air"] = False
    if presenter_id in state["preview"]["presenters"]:
        state["preview"]["presenters"].remove(presenter_id)
    _close_backstage_off_air(state)


def set_check_in(state: State, command: dict, ctx: Context) -> list[Happening]:
    require_not_ended(state)
    presenter = presenter_of(state, command["presenter"])
    presenter["checked_in"] = command["checked_in"]
    return [{"type": "presenter", "presenter": command["presenter"], "checked_in": presenter["checked_in"]}]


def set_ready(state: State, command: dict, ctx: Context) -> list[Happening]:
    require_not_ended(state)
    presenter = presenter_of(state, command["presenter"])
    presenter["ready"] = command["ready"]
    return [{"type": "presenter", "presenter": command["presenter"], "ready": presenter["ready"]}]


def set_presence(state: State, command: dict, ctx: Context) -> list[Happening]:
    """A presenter's green-room connection came or went. A dropped presenter leaves the air and
    the preview, so coming back lands in the green room, never straight on air."""
    presenter = presenter_of(state, command["presenter"])
    dropped = presenter["connected"] and not command["connected"]
    presenter["connected"] = command["connected"]
    if dropped:
        presenter["ready"] = False
        _leave_air(state, command["presenter"], presenter)
    return [{"type": "presenter", "presenter": command["presenter"], "connected": presenter["connected"]}]


def set_status(state: State, command: dict, ctx: Context) -> list[Happening]:
    """The presenter's back-channel: how they are (ready, audio problem, need a moment, dropping off)."""
    presenter = presenter_of(state, command["presenter"])
    presenter["status"] = command["status"]
    return [{"type": "presenter", "presenter": command["presenter"], "status": presenter["status"]}]


def set_talkback(state: State, command: dict, ctx: Context) -> list[Happening]:
    """The sending producer (`ctx.actor`) talks to these presenters, or all of them; nobody and
    not all stops them. The system stops a producer whose last console closed."""
    talking = bool(command["presenters"]) or command["all"]
    if talking:
        if ctx.role == SYSTEM:
            raise CommandRefused("forbidden", "The system only stops a producer's talkback.", "presenters")
        require_not_ended(state)
        for index, presenter_id in enumerate(command["presenters"]):
            presenter_of(state, presenter_id, f"presenters[{index}]")
        presenters = [] if command["all"] else list(command["presenters"])
        state["talkback"][ctx.actor] = {"presenters": presenters, "all": command["all"]}
    else:
        state["talkback"].pop(ctx.actor, None)
    return [{"type": "talkback", "presenters": talked_to(state)}]


def set_backstage(state: State, command: dict, ctx: Context) -> list[Happening]:
    """An on-air presenter also hears backstage (the presenters off air), or stops hearing it."""
    require_not_ended(state)
    presenter = presenter_of(state, command["presenter"])
    opened = state["backstage_open"]
    if command["open"]:
        if not state["lines"].get(presenter["line"], {}).get("on_air"):
            raise CommandRefused("not_on_air", "Off air, a presenter hears backstage already.", "presenter")
        if command["presenter"] not in opened:
            opened.append(command["presenter"])
    elif command["presenter"] in opened:
        opened.remove(command["presenter"])
    return [{"type": "backstage", "presenter": command["presenter"], "open": command["open"]}]


HANDLERS = {
    "set_on_air": set_on_air,
    "set_mute": set_mute,
    "set_gain": set_gain,
    "set_line_health": set_line_health,
    "set_output_health": set_output_health,
    "set_preview": set_preview,
    "take": take,
    "send_to_green_room": send_to_green_room,
    "set_check_in": set_check_in,
    "set_ready": set_ready,
    "set_presence": set_presence,
    "set_status": set_status,
    "set_line_source": set_line_source,
    "set_talkback": set_talkback,
    "set_backstage": set_backstage,
}
