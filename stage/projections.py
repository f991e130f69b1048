"""The stage state as each audience sees it. Pure.

Consoles see everything. Green rooms see the show but not the private chat (each presenter gets
their own conversation separately) nor the Q&A moderation queue nor which producer talks back
(only whom they talk to), and of each line only what the
green room shows: never its source, which may hold a stream key or a password, but the kind of
input it is. Snapshots and deltas both go through `greenroom_view`, so neither can leak what the
other hides. Viewers hold no socket: they see the public status (events/status.py) and, over
HTTP, the audience's view (`audience_view`: the questions the producers let through and the poll
in play) and their own questions (`asked_by`). Who asked a question is kept in the state for that
list alone: consoles do not get it either.
"""

from stage.contract.records import (
    CONSOLE,
    GREENROOM,
    GREENROOM_HIDDEN_LINE_FIELDS,
    GREENROOM_LINE,
    GREENROOM_PRIVATE,
    GREENROOM_PRIVATE_HAPPENINGS,
)
from stage.polls import in_play
from stage.sources.kinds import source_kind
from stage.state import Happening, State, serial, talked_to, with_defaults

AUDIENCES = (CONSOLE, GREENROOM)
_SHOWN_LINE_FIELDS = tuple(field for field in GREENROOM_LINE if field != "source_kind")
# The questions viewers see, and the fields of a question no audience gets.
PUBLIC_QUESTIONS = ("approved", "on_screen", "answered")
PRIVATE_QUESTION_FIELDS = ("asker",)


def console_view(state: State) -> State:
    """The whole state, but who asked each question."""
    state = with_defaults(state)
    questions = {
        qid: {key: value for key, value in question.items() if key not in PRIVATE_QUESTION_FIELDS}
        for qid, question in state["questions"].items()
    }
    return state | {"questions": questions}


def audience_view(state: State) -> dict:
    """What every viewer may see: the questions let through, most upvoted first (then oldest), and
    the poll in play, with its counts only once the producers show them."""
    state = with_defaults(state)
    public = [qid for qid, q in state["questions"].items() if q["status"] in PUBLIC_QUESTIONS]
    public.sort(key=lambda qid: (-state["questions"][qid].get("votes", 0), serial(qid)))
    questions = [_public_question(qid, state["questions"][qid]) | {"name": state["questions"][qid]["name"]}
                 for qid in public]
    poll_id = in_play(state)
    return {"version": state["version"], "questions": questions, "poll": _public_poll(state, poll_id)}


def asked_by(state: State, registration_pk: int) -> list[dict]:
    """One viewer's questions, oldest first, with their status and votes."""
    mine = [qid for qid, q in state["questions"].items() if q.get("asker") == registration_pk]
    return [_public_question(qid, state["questions"][qid]) for qid in sorted(mine, key=serial)]


def _public_question(qid: str, question: dict) -> dict:
    return {"id": qid, "text": question["text"], "status": question["status"], "votes": question.get("votes", 0)}


def _public_poll(state: State, poll_id: str | None) -> dict | None:
    if poll_id is None:
        return None
    poll = state["polls"][poll_id]
    shown = poll["results_shown"]
    return {
        "id": poll_id,
        "question": poll["question"],
        "options": poll["options"],
        "status": poll["status"],
        "results": list(poll["counts"]) if shown else None,
    }


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
