"""Every stage command a client may send: its fields, their types and bounds, and who may send it.

Validation is pure and strict: an unknown field is an error, not a silent ignore, and every error
names the field it is about.
"""

from dataclasses import dataclass
from typing import Any

PRODUCER = "producer"
PRESENTER = "presenter"

MAX_ID_LENGTH = 64
MAX_CLIENT_ID_LENGTH = 64
MIN_GAIN_DB = -60.0
MAX_GAIN_DB = 12.0


class ProtocolError(Exception):
    """A message that is not a valid command; `field` names the offending part."""

    def __init__(self, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.code = code
        self.field = field
        self.message = message

    def as_dict(self) -> dict:
        return {"code": self.code, "field": self.field, "message": self.message}


@dataclass(frozen=True)
class Field:
    kind: type
    required: bool = True
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    choices: tuple | None = None


@dataclass(frozen=True)
class CommandSpec:
    fields: dict[str, Field]
    roles: frozenset[str]


_LINE = Field(str, max_length=MAX_ID_LENGTH)

COMMANDS: dict[str, CommandSpec] = {
    "go_live": CommandSpec({}, frozenset({PRODUCER})),
    "end_show": CommandSpec({}, frozenset({PRODUCER})),
    "set_on_air": CommandSpec({"line": _LINE, "on_air": Field(bool)}, frozenset({PRODUCER})),
    "set_mute": CommandSpec({"line": _LINE, "muted": Field(bool)}, frozenset({PRODUCER})),
    "set_gain": CommandSpec(
        {"line": _LINE, "gain_db": Field(float, minimum=MIN_GAIN_DB, maximum=MAX_GAIN_DB)},
        frozenset({PRODUCER}),
    ),
}

ENVELOPE = {
    "type": Field(str, max_length=32),
    "version": Field(int, minimum=0),
    "client_id": Field(str, max_length=MAX_CLIENT_ID_LENGTH),
}


def validate_command(message: Any) -> dict:
    """Return the command if `message` is a well-formed command, else raise ProtocolError."""
    if not isinstance(message, dict):
        raise ProtocolError("malformed", "A command is a JSON object.")
    _check_field("type", ENVELOPE["type"], message.get("type"), "type" in message)
    spec = COMMANDS.get(message["type"])
    if spec is None:
        raise ProtocolError("unknown_command", f"Unknown command {message['type']!r}.", "type")
    allowed = ENVELOPE | spec.fields
    for name in message:
        if name not in allowed:
            raise ProtocolError("unknown_field", f"Unknown field {name!r}.", name)
    for name, field in allowed.items():
        _check_field(name, field, message.get(name), name in message)
    return message


def _check_field(name: str, field: Field, value: Any, present: bool) -> None:
    if not present:
        if field.required:
            raise ProtocolError("missing_field", f"{name} is required.", name)
        return
    # bool is an int in Python; a gain of `true` or a version of `false` is still wrong.
    if field.kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if isinstance(value, bool) is not (field.kind is bool) or not isinstance(value, field.kind):
        raise ProtocolError("wrong_type", f"{name} must be {field.kind.__name__}.", name)
    if field.minimum is not None and value < field.minimum:
        raise ProtocolError("out_of_range", f"{name} must be at least {field.minimum}.", name)
    if field.maximum is not None and value > field.maximum:
        raise ProtocolError("out_of_range", f"{name} must be at most {field.maximum}.", name)
    if field.max_length is not None and not 0 < len(value) <= field.max_length:
        raise ProtocolError("out_of_range", f"{name} must be 1 to {field.max_length} characters.", name)
    if field.choices is not None and value not in field.choices:
        raise ProtocolError("out_of_range", f"{name} must be one of {', '.join(field.choices)}.", name)


def may_send(role: str, command_type: str) -> bool:
    """Whether a sender of this role may send this command at all."""
    spec = COMMANDS.get(command_type)
    return spec is not None and role in spec.roles
