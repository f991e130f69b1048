"""Signals: what the pages send the mixer through their stage socket to set up WebRTC. Pure.

Not stage commands: they change no state, carry no version, are not audited; the stage socket
validates them here and hands them to the event's mixer (stage/mixer_mail.py), which answers the
socket alone (`rtc_answer`, `rtc_refused` in messages.py). The browser sends its offer once ICE
gathering is complete, so there is no trickle. Strict like commands: an unknown field is an
error, and every error names its field.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stage.contract.commands import PRESENTER, PRODUCER
from stage.contract.errors import ProtocolError
from stage.contract.fields import Field, check_field, named
from stage.contract.limits import MAX_ID_LENGTH

MAX_SESSION_LENGTH = 64
MAX_SDP_LENGTH = 12000
# What a producer's monitor may carry; "line" (pre-fader listen) names the line.
MONITOR_CHOICES = ("program", "preview", "backstage", "line")


@dataclass(frozen=True)
class SignalSpec:
    fields: dict[str, Field]
    roles: frozenset[str]
    check: Callable[[dict], None] | None = None


def _check_monitor(signal: dict) -> None:
    if signal["listen"] == "line" and "line" not in signal:
        raise ProtocolError("missing_field", "Listening to a line says which line.", "line")
    if signal["listen"] != "line" and "line" in signal:
        raise ProtocolError("unknown_field", "Only listening to a line names a line.", "line")


SIGNALS: dict[str, SignalSpec] = {
    # A WebRTC offer (ICE gathering complete); `session` tells the page's answers apart.
    "rtc_offer": SignalSpec(
        {"session": Field(str, max_length=MAX_SESSION_LENGTH), "sdp": Field(str, max_length=MAX_SDP_LENGTH)},
        frozenset({PRESENTER, PRODUCER}),
    ),
    # What a producer's WebRTC connection plays: the program, the preview or backstage bus, a line.
    "monitor": SignalSpec(
        {
            "listen": Field(str, choices=MONITOR_CHOICES),
            "line": Field(str, required=False, max_length=MAX_ID_LENGTH),
        },
        frozenset({PRODUCER}),
        check=_check_monitor,
    ),
    # The producer's voice on the backstage bus (TALK BACKSTAGE held), or off it.
    "talk_backstage": SignalSpec({"on": Field(bool)}, frozenset({PRODUCER})),
}


def is_signal(message: dict) -> bool:
    """Whether a parsed socket message is meant as a signal (then `validate_signal` decides)."""
    return isinstance(message.get("type"), str) and message["type"] in SIGNALS


def validate_signal(message: Any, role: str) -> dict:
    """Return `message` if it is a well-formed signal this role may send, else raise ProtocolError."""
    if not isinstance(message, dict):
        raise ProtocolError("malformed", "A signal is a JSON object.")
    check_field("type", Field(str, max_length=32), message.get("type"), "type" in message)
    spec = SIGNALS.get(message["type"])
    if spec is None:
        raise ProtocolError("unknown_signal", f"Unknown signal {message['type']!r}.", "type")
    if role not in spec.roles:
        raise ProtocolError("forbidden", f"A {role} may not send {message['type']}.", "type")
    allowed = {"type": Field(str)} | spec.fields
    for name in message:
        if name not in allowed:
            raise ProtocolError("unknown_field", f"Unknown field {name!r}.", named(name))
    for name, field in spec.fields.items():
        check_field(name, field, message.get(name), name in message)
    if spec.check is not None:
        spec.check(message)
    return message


def is_session(value: Any) -> bool:
    """Whether `value` is a session an answer may name (what `rtc_offer` accepts)."""
    try:
        check_field("session", SIGNALS["rtc_offer"].fields["session"], value, True)
    except ProtocolError:
        return False
    return True


def monitor_choice(signal: dict) -> str:
    """A validated monitor signal as the mixer names the choice: "program", …, or "line:<id>"."""
    return f"line:{signal['line']}" if signal["listen"] == "line" else signal["listen"]
