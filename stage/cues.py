"""Cues to presenters and their acknowledgements, and the private producer-presenter chat. Pure.

A cue goes to one presenter or to all of them. A presenter's newest cue is the one that counts:
the console shows who has not acknowledged theirs (`unacknowledged`).
"""

from stage.contract.commands import ALL
from stage.state import (
    MAX_CUES,
    MAX_MESSAGES,
    CommandRefused,
    Context,
    Happening,
    State,
    next_id,
    presenter_of,
    require_not_ended,
    serial,
    trim,
)


def recipients(state: State, cue: dict) -> list[str]:
    return list(state["presenters"]) if cue["to"] == ALL else [cue["to"]]


def send_cue(
    state: State, to: str, kind: str, ctx: Context, *, text: str = "", seconds: int | None = None
) -> list[Happening]:
    cue_id = next_id(state, "c")
    state["cues"][cue_id] = {
        "kind": kind,
        "to": to,
        "text": text,
        "seconds": seconds,
        "sent_at": ctx.now,
        "by": ctx.actor,
        "acks": {},
    }
    trim(state["cues"], MAX_CUES)
    return [{"type": "cue", "cue": cue_id, "to": to, "kind": kind}]


def cue(state: State, command: dict, ctx: Context) -> list[Happening]:
    require_not_ended(state)
    if command["to"] == ALL:
        if not state["presenters"]:
            raise CommandRefused("no_recipients", "This stage has no presenters to cue.", "to")
    else:
        presenter_of(state, command["to"], "to")
    return send_cue(
        state, command["to"], command["kind"], ctx, text=command.get("text", ""), seconds=command.get("seconds")
    )


def ack_cue(state: State, command: dict, ctx: Context) -> list[Happening]:
    found = state["cues"].get(command["cue"])
    if found is None:
        raise CommandRefused("unknown_cue", f"No cue {command['cue']!r} is outstanding.", "cue")
    presenter_of(state, command["presenter"])
    if command["presenter"] not in recipients(state, found):
        raise CommandRefused("not_recipient", "That cue was not sent to this presenter.", "presenter")
    found["acks"].setdefault(command["presenter"], ctx.now)
    return [{"type": "ack", "cue": command["cue"], "presenter": command["presenter"]}]


def clear_cue(state: State, command: dict, ctx: Context) -> list[Happening]:
    if command["cue"] not in state["cues"]:
        raise CommandRefused("unknown_cue", f"No cue {command['cue']!r} is outstanding.", "cue")
    del state["cues"][command["cue"]]
    return [{"type": "cue_cleared", "cue": command["cue"]}]


def latest_cues(state: State) -> dict[str, str]:
    """Each presenter's newest cue id (presenters never cued are left out)."""
    latest: dict[str, str] = {}
    for cue_id in sorted(state["cues"], key=serial):
        for presenter_id in recipients(state, state["cues"][cue_id]):
            latest[presenter_id] = cue_id
    return latest


def unacknowledged(state: State) -> dict[str, str]:
    """Presenters whose newest cue they have not acknowledged, and that cue's id."""
    return {pid: cid for pid, cid in latest_cues(state).items() if pid not in state["cues"][cid]["acks"]}


def message(state: State, command: dict, ctx: Context) -> list[Happening]:
    """One line of the private chat between the producers and a presenter; the role says who wrote it."""
    presenter_of(state, command["presenter"])
    message_id = next_id(state, "m")
    state["messages"][message_id] = {
        "presenter": command["presenter"],
        "from": "presenter" if ctx.role == "presenter" else "producer",
        "by": ctx.actor,
        "text": command["text"],
        "at": ctx.now,
    }
    trim(state["messages"], MAX_MESSAGES)
    return [{"type": "message", "message": message_id, "presenter": command["presenter"]}]


def send_question(state: State, command: dict, ctx: Context) -> list[Happening]:
    """Push an audience question to a presenter: a chat line that carries the question, so it is
    kept in the event's record with the rest of their conversation."""
    question = state["questions"].get(command["question"])
    if question is None:
        raise CommandRefused("unknown_question", f"No question {command['question']!r}.", "question")
    if question["status"] == "dismissed":
        raise CommandRefused("dismissed", "A dismissed question is not passed on.", "question")
    presenter_of(state, command["presenter"])
    message_id = next_id(state, "m")
    asker = f" ({question['name']})" if question["name"] else ""
    state["messages"][message_id] = {
        "presenter": command["presenter"],
        "from": "producer",
        "by": ctx.actor,
        "text": question["text"] + asker,
        "at": ctx.now,
        "question": command["question"],
    }
    trim(state["messages"], MAX_MESSAGES)
    return [{"type": "message", "message": message_id, "presenter": command["presenter"]}]


HANDLERS = {
    "cue": cue,
    "ack_cue": ack_cue,
    "clear_cue": clear_cue,
    "message": message,
    "send_question": send_question,
}
