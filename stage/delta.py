"""Deltas between two stage states: what changed, one record deep. Pure; clients apply the same.

A delta is `{"set": {path: value}, "unset": [path]}` where a path is a top-level key ("phase")
or a key and a record id ("lines.p3"). Ids never contain a dot.
"""

from typing import Any


def diff(old: dict, new: dict) -> dict:
    """The delta that turns `old` into `new` (the version is carried beside it, not in it)."""
    changed: dict[str, Any] = {}
    removed: list[str] = []
    for key, value in new.items():
        if key == "version" or (key in old and old[key] == value):
            continue
        before = old.get(key)
        if isinstance(value, dict) and isinstance(before, dict):
            for record_id, record in value.items():
                if record_id not in before or before[record_id] != record:
                    changed[f"{key}.{record_id}"] = record
            removed += [f"{key}.{record_id}" for record_id in before if record_id not in value]
        else:
            changed[key] = value
    removed += [key for key in old if key not in new]
    return {"set": changed, "unset": removed}


def apply_delta(state: dict, delta: dict, version: int) -> dict:
    """`state` with `delta` applied, at `version`; the input is left alone."""
    result = dict(state)
    copied: set[str] = set()
    for path, value in delta["set"].items():
        key, _, record_id = path.partition(".")
        if record_id:
            if key not in copied:
                result[key] = dict(result.get(key) or {})
                copied.add(key)
            result[key][record_id] = value
        else:
            result[key] = value
    for path in delta["unset"]:
        key, _, record_id = path.partition(".")
        if record_id:
            if key not in copied:
                result[key] = dict(result[key])
                copied.add(key)
            result[key].pop(record_id, None)
        else:
            result.pop(key, None)
    result["version"] = version
    return result

