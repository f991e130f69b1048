"""Every stage command a client may send: its fields, their types and bounds, and who may send it.

Validation is pure and strict: an unknown field is an error, not a silent ignore, and every error
names the field it is about. Commands are absolute ("set X to Y"), never toggles, so a client may
re-send one after a stale-version refusal and get what it meant.

Roles: producers may send every command a console needs; a presenter only commands about
themselves (`presenter` must be their own id); the mixer, the off-air monitor and the system report
facts (line health, alarms, presence), which apply at the head version without a staleness check;
viewers only ask questions; nobody (a socket not admitted) may send nothing. A viewer's question
is a fact too (someone asked): it applies at the head, and a flood of them never makes a
producer's command stale.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stage.contract.enums import (
    CUE_KIND,
    FALLBACK_SOURCE,
    OFF_AIR_ALARM,
    OUTPUT_HEALTH,
    POLL_STATUS,
    PRESENTER_STATUS,
    QUESTION_STATUS,
    REPORTED_HEALTH,
    ROLE,
)
from stage.contract.errors import ProtocolError
from stage.contract.fields import Field, check_field, named
from stage.contract.limits import (
    MAX_CLIENT_ID_LENGTH,
    MAX_CUE_SECONDS,
    MAX_DECK_PAGES,
    MAX_DETAIL_LENGTH,
    MAX_GAIN_DB,
    MAX_ID_LENGTH,
    MAX_NAME_LENGTH,
    MAX_OPTION_LENGTH,
    MAX_POLL_OPTIONS,
    MAX_SEGMENT_PRESENTERS,
    MAX_SEGMENT_SECONDS,
    MAX_TALKBACK_PRESENTERS,
    MAX_TEXT_LENGTH,
    MAX_TITLE_LENGTH,
    MIN_GAIN_DB,
    MIN_POLL_OPTIONS,
)
from stage.sources.checks import FORMATS, MAX_REASON_LENGTH, MAX_SOURCE_LENGTH, SourceError, check_source
from stage.sources.policy import SourcePolicy

PRODUCER, PRESENTER, MIXER, SYSTEM, VIEWER, MONITOR, NOBODY = ROLE.values
ROLES = ROLE.values
# Roles that report facts: applied at the head version, never refused as stale.
FACT_ROLES = frozenset({MIXER, SYSTEM, VIEWER, MONITOR})

# A cue to every presenter.
ALL = "all"


@dataclass(frozen=True)
class CommandSpec:
    fields: dict[str, Field]
    roles: frozenset[str]
    # Rules across fields (e.g. a wrap-up cue needs its seconds); raise ProtocolError.
    check: Callable[[dict], None] | None = None
    # Whether `presenter` must be the sender's own id when a presenter sends it.
    own_presenter: bool = False


def _id(**options) -> Field:
    return Field(str, max_length=MAX_ID_LENGTH, **options)


_PRESENTER_IDS = Field(list, max_length=MAX_SEGMENT_PRESENTERS, items=_id(), unique=True)
_PRODUCERS = frozenset({PRODUCER})


def _check_cue(command: dict) -> None:
    kind = command["kind"]
    if kind == "wrap_up" and "seconds" not in command:
        raise ProtocolError("missing_field", "A wrap-up cue says how many seconds are left.", "seconds")
    if kind != "wrap_up" and "seconds" in command:
        raise ProtocolError("unknown_field", "Only a wrap-up cue has seconds.", "seconds")
    if kind == "custom" and "text" not in command:
        raise ProtocolError("missing_field", "A custom cue has a text.", "text")


def _check_update(command: dict) -> None:
    if not {"title", "presenters", "planned_seconds"} & set(command):
        raise ProtocolError("missing_field", "Say what to change: title, presenters or planned_seconds.", "title")


def _check_browser_line(command: dict) -> None:
    if command["source"] is None and command.get("format") is not None:
        raise ProtocolError("unknown_field", "A browser line has no format.", "format")


def _check_poll(command: dict) -> None:
    if len(command["options"]) < MIN_POLL_OPTIONS:
        raise ProtocolError("out_of_range", f"A poll has at least {MIN_POLL_OPTIONS} options.", "options")


def check_line_source(command: dict, policy: SourcePolicy) -> None:
    """Refuse a set_line_source whose source the operator's policy does not allow."""
    if command["source"] is None:
        return
    try:
        check_source(command["source"], command.get("format"), policy)
    except SourceError as error:
        raise ProtocolError("invalid_source", str(error), "source") from None


COMMANDS: dict[str, CommandSpec] = {
    # Phases.
    "start_rehearsal": CommandSpec({}, _PRODUCERS),
    "stop_rehearsal": CommandSpec({}, _PRODUCERS),
    "go_live": CommandSpec({}, _PRODUCERS),
    "end_show": CommandSpec({}, _PRODUCERS),
    "set_hold": CommandSpec({"hold": Field(bool)}, _PRODUCERS),
    "set_fallback": CommandSpec({"source": Field(str, choices=FALLBACK_SOURCE.values)}, _PRODUCERS),
    # The bridge.
    "set_on_air": CommandSpec({"line": _id(), "on_air": Field(bool)}, _PRODUCERS),
    "set_mute": CommandSpec({"line": _id(), "muted": Field(bool)}, _PRODUCERS),
    "set_gain": CommandSpec(
        {"line": _id(), "gain_db": Field(float, minimum=MIN_GAIN_DB, maximum=MAX_GAIN_DB)}, _PRODUCERS
    ),
    "set_line_health": CommandSpec(
        {
            "line": _id(),
            "health": Field(str, choices=REPORTED_HEALTH),
            # Why the mixer refused to open the line's source (its source policy's reason).
            "fault": Field(str, required=False, nullable=True, max_length=MAX_REASON_LENGTH),
        },
        frozenset({MIXER}),
    ),
    # The mixer on its output: the disk under the webcast's files is full, or writable again, and
    # how many segments it could not publish so far.
    "set_output_health": CommandSpec(
        {"health": Field(str, choices=OUTPUT_HEALTH.values), "dropped": Field(int, minimum=0, maximum=10**9)},
        frozenset({MIXER}),
    ),
    "set_line_source": CommandSpec(
        {
            "line": _id(),
            "source": Field(str, nullable=True, max_length=MAX_SOURCE_LENGTH),
            "format": Field(str, required=False, nullable=True, choices=tuple(sorted(FORMATS))),
        },
        _PRODUCERS,
        check=_check_browser_line,
    ),
    # What the audience receives is wrong, or right again (the off-air monitor; the watchdog
    # when the monitor itself stops reporting).
    "set_off_air_alarm": CommandSpec(
        {
            "alarm": Field(str, choices=OFF_AIR_ALARM.values),
            "active": Field(bool),
            "detail": Field(str, required=False, blank=True, max_length=MAX_DETAIL_LENGTH),
        },
        frozenset({MONITOR, SYSTEM}),
    ),
    "set_preview": CommandSpec({"presenters": _PRESENTER_IDS}, _PRODUCERS),
    "take": CommandSpec({}, _PRODUCERS),
    "send_to_green_room": CommandSpec({"presenter": _id()}, _PRODUCERS),
    # What presenters hear besides the program. Talkback is the sender's own (empty and not all:
    # stop); the system sends the stop when a producer's last console closes.
    "set_talkback": CommandSpec(
        {"presenters": Field(list, max_length=MAX_TALKBACK_PRESENTERS, items=_id(), unique=True), "all": Field(bool)},
        frozenset({PRODUCER, SYSTEM}),
    ),
    "set_backstage": CommandSpec({"presenter": _id(), "open": Field(bool)}, _PRODUCERS),
    # Presenters.
    "set_check_in": CommandSpec(
        {"presenter": _id(), "checked_in": Field(bool)}, frozenset({PRODUCER, PRESENTER}), own_presenter=True
    ),
    "set_ready": CommandSpec(
        {"presenter": _id(), "ready": Field(bool)}, frozenset({PRODUCER, PRESENTER}), own_presenter=True
    ),
    "set_presence": CommandSpec(
        {"presenter": _id(), "connected": Field(bool)}, frozenset({PRESENTER, SYSTEM}), own_presenter=True
    ),
    "set_status": CommandSpec(
        {"presenter": _id(), "status": Field(str, choices=PRESENTER_STATUS.values)},
        frozenset({PRODUCER, PRESENTER}),
        own_presenter=True,
    ),
    # The run-of-show.
    "add_segment": CommandSpec(
        {
            "title": Field(str, max_length=MAX_TITLE_LENGTH),
            "presenters": _PRESENTER_IDS,
            "planned_seconds": Field(int, minimum=1, maximum=MAX_SEGMENT_SECONDS),
            "before": _id(required=False, nullable=True),
        },
        _PRODUCERS,
    ),
    "update_segment": CommandSpec(
        {
            "segment": _id(),
            "title": Field(str, required=False, max_length=MAX_TITLE_LENGTH),
            "presenters": Field(list, required=False, max_length=MAX_SEGMENT_PRESENTERS, items=_id(), unique=True),
            "planned_seconds": Field(int, required=False, minimum=1, maximum=MAX_SEGMENT_SECONDS),
        },
        _PRODUCERS,
        check=_check_update,
    ),
    "remove_segment": CommandSpec({"segment": _id()}, _PRODUCERS),
    "move_segment": CommandSpec({"segment": _id(), "before": _id(nullable=True)}, _PRODUCERS),
    "skip_segment": CommandSpec({"segment": _id(), "skipped": Field(bool)}, _PRODUCERS),
    "standby": CommandSpec({"segment": _id()}, _PRODUCERS),
    "next": CommandSpec({}, _PRODUCERS),
    # Cues and the private chat.
    "cue": CommandSpec(
        {
            "to": _id(),
            "kind": Field(str, choices=CUE_KIND.values),
            "seconds": Field(int, required=False, minimum=1, maximum=MAX_CUE_SECONDS),
            "text": Field(str, required=False, max_length=MAX_TEXT_LENGTH),
        },
        _PRODUCERS,
        check=_check_cue,
    ),
    "ack_cue": CommandSpec({"cue": _id(), "presenter": _id()}, frozenset({PRESENTER}), own_presenter=True),
    "clear_cue": CommandSpec({"cue": _id()}, _PRODUCERS),
    "message": CommandSpec(
        {"presenter": _id(), "text": Field(str, max_length=MAX_TEXT_LENGTH)},
        frozenset({PRODUCER, PRESENTER}),
        own_presenter=True,
    ),
    "send_question": CommandSpec({"question": _id(), "presenter": _id()}, _PRODUCERS),
    # Q&A.
    "ask_question": CommandSpec(
        {
            "text": Field(str, max_length=MAX_TEXT_LENGTH),
            "name": Field(str, required=False, max_length=MAX_NAME_LENGTH),
        },
        frozenset({VIEWER, PRODUCER}),
    ),
    "set_question_status": CommandSpec(
        {"question": _id(), "status": Field(str, choices=QUESTION_STATUS.values)}, _PRODUCERS
    ),
    # Slides. A presenter may turn the pages of the deck on screen while on air, when producers
    # allow it (stage/slides.py decides); a deck of None takes the slide off screen.
    "show_slide": CommandSpec(
        {"deck": _id(nullable=True), "page": Field(int, minimum=1, maximum=MAX_DECK_PAGES)},
        frozenset({PRODUCER, PRESENTER}),
    ),
    "set_presenter_slides": CommandSpec({"allowed": Field(bool)}, _PRODUCERS),
    # A deck finished rendering, or was deleted (stage/decks.py).
    "set_deck": CommandSpec(
        {
            "deck": _id(),
            "title": Field(str, max_length=MAX_TITLE_LENGTH),
            "pages": Field(int, minimum=1, maximum=MAX_DECK_PAGES),
            "files": _id(),
            "presenter": _id(nullable=True),
            "segment": _id(nullable=True),
        },
        frozenset({SYSTEM}),
    ),
    "remove_deck": CommandSpec({"deck": _id()}, frozenset({SYSTEM})),
    # Polls: prepared as drafts, opened (one at a time) and closed; results shown to viewers apart.
    "add_poll": CommandSpec(
        {
            "question": Field(str, max_length=MAX_TITLE_LENGTH),
            "options": Field(
                list, max_length=MAX_POLL_OPTIONS, items=Field(str, max_length=MAX_OPTION_LENGTH), unique=True
            ),
        },
        _PRODUCERS,
        check=_check_poll,
    ),
    "set_poll_status": CommandSpec(
        {"poll": _id(), "status": Field(str, choices=tuple(s for s in POLL_STATUS.values if s != "draft"))},
        _PRODUCERS,
    ),
    "show_poll_results": CommandSpec({"poll": _id(), "shown": Field(bool)}, _PRODUCERS),
    "remove_poll": CommandSpec({"poll": _id()}, _PRODUCERS),
    # The viewers' votes as counted in the database (stage/tally.py): absolute counts, so a
    # tally that comes late or twice is still right. Questions by id; polls by id, one count an option.
    "set_votes": CommandSpec(
        {
            "questions": Field(dict, values=Field(int, minimum=0)),
            "polls": Field(dict, values=Field(list, max_length=MAX_POLL_OPTIONS, items=Field(int, minimum=0))),
        },
        frozenset({SYSTEM}),
    ),
}

ENVELOPE = {
    "type": Field(str, max_length=32),
    "version": Field(int, minimum=0),
    "client_id": Field(str, max_length=MAX_CLIENT_ID_LENGTH),
}
# Facts carry no version (they apply at the head) and may carry no client id (one is made up).
FACT_ENVELOPE = {
    "type": ENVELOPE["type"],
    "version": Field(int, required=False, minimum=0),
    "client_id": Field(str, required=False, max_length=MAX_CLIENT_ID_LENGTH),
}


def validate_command(message: Any, role: str = PRODUCER, source_policy: SourcePolicy | None = None) -> dict:
    """Return the command if `message` is a well-formed command, else raise ProtocolError.
    A line source is checked against `source_policy` (the operator's; the strict default if None)."""
    if not isinstance(message, dict):
        raise ProtocolError("malformed", "A command is a JSON object.")
    envelope = FACT_ENVELOPE if role in FACT_ROLES else ENVELOPE
    check_field("type", envelope["type"], message.get("type"), "type" in message)
    spec = COMMANDS.get(message["type"])
    if spec is None:
        raise ProtocolError("unknown_command", f"Unknown command {message['type']!r}.", "type")
    allowed = envelope | spec.fields
    for name in message:
        if name not in allowed:
            raise ProtocolError("unknown_field", f"Unknown field {name!r}.", named(name))
    for name, spec_field in allowed.items():
        check_field(name, spec_field, message.get(name), name in message)
    if spec.check is not None:
        spec.check(message)
    if message["type"] == "set_line_source":
        check_line_source(message, source_policy or SourcePolicy())
    return message


def may_send(role: str, command_type: str) -> bool:
    """Whether a sender of this role may send this command at all."""
    spec = COMMANDS.get(command_type)
    return spec is not None and role in spec.roles


def authorise(role: str, actor: str, command: dict) -> ProtocolError | None:
    """Why this sender may not send this (validated) command, or None when it may."""
    if not may_send(role, command["type"]):
        return ProtocolError("forbidden", f"A {role} may not send {command['type']}.", "type")
    own = COMMANDS[command["type"]].own_presenter
    if role == PRESENTER and own and actor != presenter_actor(command["presenter"]):
        return ProtocolError("forbidden", "A presenter may only act for themselves.", "presenter")
    return None


def presenter_actor(presenter_id: str) -> str:
    """The actor name of a presenter in the audit log and in `authorise`."""
    return f"presenter:{presenter_id}"


def viewer_actor(registration_pk: int) -> str:
    """The actor name of a viewer (one registration) in the audit log."""
    return f"registration:{registration_pk}"


def registration_of(actor: str) -> int | None:
    """The registration's primary key in a viewer's actor name, else None."""
    prefix, _, pk = actor.partition(":")
    return int(pk) if prefix == "registration" and pk.isdigit() else None


__all__ = ["ALL", "COMMANDS", "Field", "ProtocolError", "authorise", "may_send", "validate_command"]
