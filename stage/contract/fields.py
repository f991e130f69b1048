"""How a field of a message is declared, and the one check every message goes through.

Strict in both directions: a missing field, an unknown one, a wrong type or a value out of range
is a ProtocolError naming the field (nested fields by path: `state.lines.p1.health`).
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stage.contract.errors import ProtocolError


@dataclass(frozen=True)
class Field:
    kind: type
    required: bool = True
    nullable: bool = False
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    # Strings the server writes may be empty (a cue without text); what clients send may not.
    blank: bool = False
    choices: tuple | None = None
    # Lists: the kind of each item (a Field) and whether items must differ.
    items: "Field | None" = None
    unique: bool = False
    # Objects: their named fields (a record), or the kind of every value (a map keyed by id), or
    # records told apart by `tag` (happenings). An object with none of these may hold anything.
    record: "Mapping[str, Field] | None" = None
    values: "Field | None" = None
    variants: "Mapping[str, Mapping[str, Field]] | None" = None
    tag: str = "type"


def check_record(name: str, record: Mapping[str, "Field"], value: dict) -> None:
    """Check an object against its named fields: every required one there, nothing unknown."""
    prefix = f"{name}." if name else ""
    for key in value:
        if key not in record:
            raise ProtocolError("unknown_field", f"Unknown field {prefix}{key!r}.", f"{prefix}{named(key)}")
    for key, spec in record.items():
        check_field(f"{prefix}{key}", spec, value.get(key), key in value)


def check_field(name: str, spec: Field, value: Any, present: bool) -> None:
    if not present:
        if spec.required:
            raise ProtocolError("missing_field", f"{name} is required.", name)
        return
    if value is None and spec.nullable:
        return
    # bool is an int in Python; a gain of `true` or a version of `false` is still wrong.
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if spec.kind is float and is_number:
        value = float(value)
    if isinstance(value, bool) is not (spec.kind is bool) or not isinstance(value, spec.kind):
        raise ProtocolError("wrong_type", f"{name} must be {_kind_name(spec)}.", name)
    if spec.kind is float and not math.isfinite(value):  # NaN passes every bound
        raise ProtocolError("out_of_range", f"{name} must be a finite number.", name)
    if spec.minimum is not None and value < spec.minimum:
        raise ProtocolError("out_of_range", f"{name} must be at least {spec.minimum}.", name)
    if spec.maximum is not None and value > spec.maximum:
        raise ProtocolError("out_of_range", f"{name} must be at most {spec.maximum}.", name)
    if spec.kind is str:
        _check_text(name, spec, value)
    if spec.kind is list:
        _check_list(name, spec, value)
    if spec.kind is dict:
        _check_object(name, spec, value)
    if spec.choices is not None and value not in spec.choices:
        raise ProtocolError("out_of_range", f"{name} must be one of {', '.join(map(str, spec.choices))}.", name)


def _check_text(name: str, spec: Field, value: str) -> None:
    # Text is stored in the state document, which PostgreSQL keeps as JSONB: a NUL character or a
    # lone surrogate (JSON's "\ud800") is refused there, after the command was accepted.
    if not is_clean_text(value):
        raise ProtocolError("bad_text", f"{name} must be text without NUL characters or lone surrogates.", name)
    length = len(value) if spec.blank else len(value.strip())
    low = 0 if spec.blank else 1
    if spec.max_length is not None and not low <= length <= spec.max_length:
        raise ProtocolError("out_of_range", f"{name} must be {low} to {spec.max_length} characters.", name)
    if spec.max_length is None and length < low:
        raise ProtocolError("out_of_range", f"{name} must not be empty.", name)


def named(key: Any) -> str:
    """How a refusal names an unknown field back to its sender. The refusal is a message of the
    contract too, so a name with a NUL or a lone surrogate goes back escaped."""
    text = str(key)
    return text if is_clean_text(text) else ascii(text)[1:-1]


def is_clean_text(value: str) -> bool:
    """Text without a NUL character or a lone surrogate (what JSONB and the wire accept)."""
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return "\x00" not in value


def _check_list(name: str, spec: Field, value: list) -> None:
    if spec.max_length is not None and len(value) > spec.max_length:
        raise ProtocolError("out_of_range", f"{name} may hold at most {spec.max_length} items.", name)
    if spec.items is not None:
        for index, item in enumerate(value):
            check_field(f"{name}[{index}]", spec.items, item, True)
    if spec.unique and len(set(value)) != len(value):
        raise ProtocolError("out_of_range", f"{name} must not repeat an item.", name)


def _check_object(name: str, spec: Field, value: dict) -> None:
    if spec.record is not None:
        check_record(name, spec.record, value)
    elif spec.values is not None:
        for key, item in value.items():
            check_field(f"{name}.{key}", spec.values, item, True)
    elif spec.variants is not None:
        variant = spec.variants.get(value.get(spec.tag))
        if variant is None:
            raise ProtocolError("out_of_range", f"{name}.{spec.tag} must be one of {', '.join(spec.variants)}.", name)
        check_record(name, {spec.tag: Field(str)} | dict(variant), value)


_KIND_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false", list: "a list"}


def _kind_name(spec: Field) -> str:
    return _KIND_NAMES.get(spec.kind, "an object") + (" or null" if spec.nullable else "")

