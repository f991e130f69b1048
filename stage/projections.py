"""The stage state as each audience sees it. Pure.

Consoles see everything. Green rooms see the show but not the private chat (each presenter gets
their own conversation separately) nor the Q&A moderation queue nor which producer talks back
(only whom they talk to), and of each line only what the
green room shows: never its source, which may hold a stream key or a password, but the kind of
input it is. Snapshots and deltas both go through `greenroom_view`, so neither can leak what the
other hides. Viewers hold no socket: they see the public status (events/status.py).
"""

from stage.contract.records import (
    CONSOLE,
    GREENROOM,
    GREENROOM_HIDDEN_LINE_FIELDS,
    GREENROOM_LINE,
    GREENROOM_PRIVATE,
    GREENROOM_PRIVATE_HAPPENINGS,
)
from stage.sources.kinds import source_kind
from stage.state import Happening, State, serial, talked_to, with_defaults

AUDIENCES = (CONSOLE, GREENROOM)
_SHOWN_LINE_FIELDS = tuple(field for field in GREENROOM_LINE if field != "source_kind")


def greenroom_line(line: dict) -> dict:
    """A line as presenters see it: on air, muted, healthy, and what kind of input it is."""
    shown = {field: line[field] for field in _SHOWN_LINE_FIELDS}
    return shown | {"source_kind": source_kind(line["source"], line["format"])}


def greenroom_view(state: State) -> State:
    state = with_defaults(state)
    view = {key: value for key, value in state.items() if key not in GREENROOM_PRIVATE}
    view["lines"] = {line_id: greenroom_line(line) for line_id, line in state["lines"].items()}
    # "Producer talking" on a presenter's page, without saying which producer.
    view["talkback_to"] = talked_to(state)
    return view


def greenroom_happenings(happenings: list[Happening]) -> list[Happening]:
    """The happenings of a change as green rooms get them: no chat or Q&A, nothing hidden of a line."""
    hidden = {"line": GREENROOM_HIDDEN_LINE_FIELDS}
    return [
        {key: value for key, value in happening.items() if key not in hidden.get(happening["type"], ())}
        for happening in happenings
        if happening["type"] not in GREENROOM_PRIVATE_HAPPENINGS
    ]


def conversation(state: State, presenter_id: str) -> list[dict]:
    """A presenter's chat with the producers, oldest first."""
    mine = sorted((mid for mid, m in state["messages"].items() if m["presenter"] == presenter_id), key=serial)
    return [{"id": mid} | state["messages"][mid] for mid in mine]
