"""What the pages need of the contract as one JSON document, and as the ES module they import. Pure.

The pages get the contract as a generated module (operator/static/operator/contract.js) rather
than a json_script block per page: the shared views of the state (stage-views.js) import it the
same way in the browser and under node's test runner, and it is cached with the other modules.
`manage.py stage_contract` writes it; a test fails while it differs from these declarations.
"""

import json

from stage.contract.commands import ALL, COMMANDS
from stage.contract.enums import CLOSE_CODES, ENUMERATIONS, GROUPS
from stage.contract.limits import (
    MAX_GAIN_DB,
    MAX_ID_LENGTH,
    MAX_LINES_ON_AIR,
    MAX_NAME_LENGTH,
    MAX_OPTION_LENGTH,
    MAX_POLL_OPTIONS,
    MAX_SEGMENT_SECONDS,
    MAX_TALKBACK_PRESENTERS,
    MAX_TEXT_LENGTH,
    MAX_TITLE_LENGTH,
    MIN_GAIN_DB,
    MIN_POLL_OPTIONS,
    WARN_FRACTION,
    WARN_SECONDS,
)
from stage.contract.messages import MESSAGES
from stage.contract.reconnect import FIRST_SECONDS, MOST_SECONDS
from stage.contract.signals import MAX_SDP_LENGTH, MAX_SESSION_LENGTH, MONITOR_CHOICES, SIGNALS
from stage.sources.checks import FORMATS, MAX_SOURCE_LENGTH

MODULE_HEADER = """\
// The stage contract, generated from stage/contract/ by `manage.py stage_contract`: do not edit.
// Every enumeration with its labels, the close codes, limits and thresholds, each audience's
// messages and who may send each command. A test fails whenever this file and the Python
// declarations differ.
"""


def contract_document() -> dict:
    """Everything the pages may know of the contract, as JSON-able data."""
    return {
        "enums": {name: {"values": list(enum.values), "labels": enum.labels} for name, enum in ENUMERATIONS.items()},
        "groups": {name: list(values) for name, values in GROUPS.items()},
        "close_codes": CLOSE_CODES,
        "cue_to_all": ALL,
        "source_formats": sorted(FORMATS),
        "limits": {
            "id": MAX_ID_LENGTH,
            "title": MAX_TITLE_LENGTH,
            "text": MAX_TEXT_LENGTH,
            "name": MAX_NAME_LENGTH,
            "source": MAX_SOURCE_LENGTH,
            "segment_seconds": MAX_SEGMENT_SECONDS,
            "lines_on_air": MAX_LINES_ON_AIR,
            "talkback_presenters": MAX_TALKBACK_PRESENTERS,
            "gain_db": {"min": MIN_GAIN_DB, "max": MAX_GAIN_DB},
            "rtc_session": MAX_SESSION_LENGTH,
            "sdp": MAX_SDP_LENGTH,
            "poll_options": {"min": MIN_POLL_OPTIONS, "max": MAX_POLL_OPTIONS},
            "option": MAX_OPTION_LENGTH,
        },
        "clock": {"warn_seconds": WARN_SECONDS, "warn_fraction": WARN_FRACTION},
        # A stage socket's wait before connecting again (stage/contract/reconnect.py).
        "reconnect": {"first_ms": round(FIRST_SECONDS * 1000), "most_ms": round(MOST_SECONDS * 1000)},
        # Each audience's messages and who makes them (the server, or the mixer's reports).
        "messages": {
            audience: {kind: spec.origin for kind, spec in specs.items()} for audience, specs in MESSAGES.items()
        },
        # Each command and the roles that may send it (the fields: stage/contract/commands.py).
        "commands": {kind: sorted(spec.roles) for kind, spec in COMMANDS.items()},
        # The WebRTC signals (stage/contract/signals.py), who may send them, and what a monitor plays.
        "signals": {kind: sorted(spec.roles) for kind, spec in SIGNALS.items()},
        "monitor_choices": list(MONITOR_CHOICES),
    }


def contract_module() -> str:
    """The document as an ES module whose default export is the frozen document, one entry a
    line so a change to the contract reads as a small diff."""
    lines = []
    for key, value in contract_document().items():
        if isinstance(value, dict) and all(isinstance(item, dict) for item in value.values()):
            entries = ",\n".join(f"    {_compact(name)}: {_compact(item)}" for name, item in value.items())
            lines.append(f"  {_compact(key)}: {{\n{entries},\n  }}")
        else:
            lines.append(f"  {_compact(key)}: {_compact(value)}")
    body = ",\n".join(lines)
    return f"{MODULE_HEADER}\n{FREEZE}\nexport default freeze({{\n{body},\n}});\n"


FREEZE = """\
const freeze = (value) => {
  if (value && typeof value === "object") Object.values(value).forEach(freeze);
  return Object.freeze(value);
};
"""


def _compact(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
