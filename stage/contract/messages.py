"""Every message the server sends, to each audience: the producers' consoles, the presenters'
green rooms and a presenter's microphone uplink. Pure.

The stage sends snapshots, deltas and the answers to commands (stage/consumers.py,
stage/broadcast.py, stage/admission.py); the mixer's reports reach consoles as the mixer made
them (streaming/core/engine.py and watch.py, forwarded by stage/fanout.py); the uplink socket
tells the browser what arrived (streaming/consumers.py). `validate_server_message` holds each
of them to its declaration: the tests' socket clients run it on everything they receive.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stage.contract.enums import ALARM, OUTPUT_HEALTH, REPORTED_HEALTH
from stage.contract.errors import ProtocolError
from stage.contract.fields import Field, check_field, check_record
from stage.contract.records import (
    AUDIT_ENTRY,
    CHAT_LINE,
    CONSOLE,
    GREENROOM,
    HAPPENING_LISTS,
    ID,
    STATES,
    TEXT,
    TIME,
)
from stage.contract.signals import MAX_SDP_LENGTH, MAX_SESSION_LENGTH

UPLINK = "uplink"
# Who makes a message: the server's socket itself, or the event's mixer or off-air monitor
# (reports forwarded as they are).
SERVER, MIXER, MONITOR = "server", "mixer", "monitor"


@dataclass(frozen=True)
class MessageSpec:
    fields: dict[str, Field]
    origin: str = SERVER
    # Rules across fields, for the audience the message went to; raise ProtocolError.
    check: Callable[[dict, str], None] | None = None


# `field` names the part of a command at fault, as the sender named it (an unknown field may be "").
ERROR = Field(
    dict, record={"code": Field(str, max_length=64), "field": Field(str, nullable=True, blank=True), "message": TEXT}
)
VERSION = Field(int, minimum=0)
# A refusal echoes the sender's client id, whatever string it was.
CLIENT_ID = Field(str, nullable=True, blank=True)
LEVEL_DB = Field(float)
LINE_METER = {
    "peak_db": LEVEL_DB,
    "rms_db": LEVEL_DB,
    "health": Field(str, choices=REPORTED_HEALTH),
    "gaps": Field(int, minimum=0),  # 20 ms frames the line had nothing for since it opened
    # A presenter's line while they have a WebRTC connection to the mixer: whether their voice
    # comes over it or over the WebSocket uplink, and the connection's figures (null until known).
    "link": Field(
        dict,
        required=False,
        record={
            "path": Field(str, choices=("webrtc", "websocket")),
            "rtt_ms": Field(float, nullable=True, minimum=0),
            "jitter_ms": Field(float, nullable=True, minimum=0),
            "loss_pct": Field(float, nullable=True, minimum=0, maximum=100),
            # What the mixer's jitter buffer holds of this voice now: the cushion it has grown to.
            "buffer_ms": Field(float, minimum=0),
            # This connection's 20 ms frames never mixed: too late, or too many at once.
            "cut_frames": Field(int, required=False, minimum=0),
        },
    ),
}
PROGRAM_METER = {
    "peak_db": LEVEL_DB,
    "rms_db": LEVEL_DB,
    "momentary_lufs": Field(float, nullable=True),
    "short_term_lufs": Field(float, nullable=True),
    "gain_db": LEVEL_DB,
}


def _path_field(audience: str, path: str) -> Field:
    """The declaration a delta path sets: a key of the state ("phase"), one record of a collection
    ("lines.p3") or one field of an object ("preview.segment"): deltas go one level deep."""
    key, _, name = path.partition(".")
    field = STATES[audience].get(key)
    if field is not None and not name:
        return field
    if field is not None and field.values is not None:
        return field.values
    if field is not None and field.record is not None and name in field.record:
        return field.record[name]
    raise ProtocolError("unknown_field", f"The {audience}'s state has no {path!r}.", f"set.{path}")


def _check_delta(message: dict, audience: str) -> None:
    if message["version"] != message["base"] + 1:
        raise ProtocolError("out_of_range", "A delta moves the state one version on from its base.", "version")
    for path, value in message["set"].items():
        check_field(f"set.{path}", _path_field(audience, path), value, True)
    for path in message["unset"]:
        _path_field(audience, path)


def _check_refusal(message: dict, audience: str) -> None:
    # A stale command's refusal carries the state the sender should have seen, and its version.
    if ("state" in message) != ("version" in message):
        raise ProtocolError("missing_field", "A refusal carries the state and its version, or neither.", "state")
    if "state" in message and message["state"]["version"] != message["version"]:
        raise ProtocolError("out_of_range", "The refusal's version is its state's.", "version")


# The mixer's answers to one socket's WebRTC offer (stage/contract/signals.py), sent to it alone.
SESSION = Field(str, max_length=MAX_SESSION_LENGTH)
RTC_MESSAGES = {
    "rtc_answer": MessageSpec({"session": SESSION, "sdp": Field(str, max_length=MAX_SDP_LENGTH)}, MIXER),
    # No mixer runs (before the show or after it), or the offer could not be answered.
    "rtc_refused": MessageSpec({"session": SESSION, "error": ERROR}),
}


def _stage_messages(audience: str) -> dict[str, MessageSpec]:
    """What every stage socket gets, in this audience's view of the state."""
    state = Field(dict, record=STATES[audience])
    # `heartbeat`: the seconds between the heartbeats this socket will hear (below); the server
    # always says, and a page told nothing does not watch for them.
    snapshot = {
        "version": VERSION, "state": state, "server_time": TIME, "heartbeat": Field(float, required=False, minimum=0.1)
    }
    delta = {
        "version": Field(int, minimum=1),
        "base": VERSION,
        "set": Field(dict),
        "unset": Field(list, items=Field(str)),
        "happenings": HAPPENING_LISTS[audience],
        "server_time": TIME,
    }
    if audience == CONSOLE:
        snapshot["audit"] = Field(list, items=AUDIT_ENTRY)
        delta["audit"] = AUDIT_ENTRY
    else:
        snapshot["conversation"] = Field(list, items=CHAT_LINE)
    return {
        # On connect, and when asked with {"type": "snapshot"}.
        "snapshot": MessageSpec(snapshot),
        # After every applied command; a client applies it only at version `base`.
        "delta": MessageSpec(delta, check=_check_delta),
        # The sender's command was applied, changed nothing, or was a retry.
        "ack": MessageSpec(
            {"client_id": CLIENT_ID, "version": VERSION, "applied": Field(bool), "duplicate": Field(bool)}
        ),
        # The sender's command was invalid, forbidden or not possible now; a stale one gets the state.
        "refused": MessageSpec(
            {
                "client_id": CLIENT_ID,
                "error": ERROR,
                "version": Field(int, required=False, minimum=0),
                "state": Field(dict, required=False, record=STATES[audience]),
            },
            check=_check_refusal,
        ),
        # Not JSON, not an object, too long; or why the socket is about to be closed.
        "error": MessageSpec({"error": ERROR}),
        # Every `every` seconds while the server's way to this socket works (it went through the
        # channel layer): a page that hears nothing for a few of them reconnects. `version` is
        # the stage's version now (null when the database did not answer): a page behind it
        # missed a push and asks for a snapshot.
        "heartbeat": MessageSpec(
            {"version": Field(int, nullable=True, minimum=0), "every": Field(float, minimum=0.1), "server_time": TIME}
        ),
    } | RTC_MESSAGES


MESSAGES: dict[str, dict[str, MessageSpec]] = {
    CONSOLE: _stage_messages(CONSOLE)
    | {
        # Ten times a second while the mixer runs: each line's and the program's levels.
        "meters": MessageSpec(
            {
                "lines": Field(dict, values=Field(dict, record=LINE_METER)),
                "program": Field(dict, record=PROGRAM_METER),
                "fallback": Field(bool),
                "public": Field(bool),
            },
            MIXER,
        ),
        # A line's health changed (a refused source says why).
        "line_health": MessageSpec(
            {"line": ID, "health": Field(str, choices=REPORTED_HEALTH), "fault": Field(str, required=False)}, MIXER
        ),
        # A line on air fell silent, or speaks again.
        "alarm": MessageSpec({"alarm": Field(str, choices=ALARM.values), "line": ID, "active": Field(bool)}, MIXER),
        # The fallback source started or stopped playing.
        "fallback": MessageSpec({"active": Field(bool)}, MIXER),
        # What the audience received, one report a published segment (streaming/off_air.py):
        # when its first sample was mixed, how late it arrived, the program's loudness then
        # (EBU R128; integrated and true peak since the monitor began), who was heard, and the
        # thresholds the console draws beside them.
        "off_air": MessageSpec(
            {
                "at": TIME,
                "latency_s": Field(float, nullable=True),
                "momentary_lufs": Field(float, nullable=True),
                "short_term_lufs": Field(float, nullable=True),
                "integrated_lufs": Field(float, nullable=True),
                "true_peak_dbtp": Field(float, nullable=True),
                "heard": Field(list, items=TEXT),
                "target_lufs": Field(float),
                "latency_max_s": Field(float),
            },
            MONITOR,
        ),
        # The disk under the webcast's files filled (what would not fit is dropped), or has room again.
        "output": MessageSpec(
            {"health": Field(str, choices=OUTPUT_HEALTH.values), "dropped": Field(int, minimum=0)}, MIXER
        ),
    },
    # A new line of this presenter's chat with the producers.
    GREENROOM: _stage_messages(GREENROOM) | {"message": MessageSpec({"message": CHAT_LINE})},
    UPLINK: {
        # About once a second while audio arrives.
        "uplink": MessageSpec(
            {"receiving": Field(bool), "bytes": Field(int, minimum=0), "chunks": Field(int, minimum=0)}
        ),
        # Why the socket is about to be closed.
        "error": MessageSpec({"error": ERROR}),
    },
}


def validate_server_message(message: Any, audience: str) -> dict:
    """Return `message` if the server may send it to `audience`, else raise ProtocolError."""
    if not isinstance(message, dict):
        raise ProtocolError("malformed", "A message is a JSON object.")
    check_field("type", Field(str), message.get("type"), "type" in message)
    spec = MESSAGES[audience].get(message["type"])
    if spec is None:
        raise ProtocolError("unknown_message", f"A {audience} gets no {message['type']!r} message.", "type")
    check_record("", {"type": Field(str)} | spec.fields, message)
    if spec.check is not None:
        spec.check(message, audience)
    return message
