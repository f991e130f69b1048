"""Polls: prepared as drafts, opened to viewers' votes and closed; results shown to viewers when the
producer chooses. Pure.

At most one poll is open: opening another closes it. Viewers' votes are rows in the database
(stage.models.PollVote); their counts reach the state as absolute tallies (stage/votes.py).
"""

from stage.contract.enums import POLL_STATUS
from stage.state import MAX_POLLS, CommandRefused, Context, Happening, State, next_id, require_not_ended

DRAFT, OPEN, CLOSED = POLL_STATUS.values


def poll_of(state: State, poll_id: str) -> dict:
    poll = state["polls"].get(poll_id)
    if poll is None:
        raise CommandRefused("unknown_poll", f"No poll {poll_id!r}.", "poll")
    return poll


def add_poll(state: State, command: dict, ctx: Context) -> list[Happening]:
    require_not_ended(state)
    if len(state["polls"]) >= MAX_POLLS:
        raise CommandRefused("too_many_polls", "The poll list of this show is full.", "type")
    poll_id = next_id(state, "v")
    state["polls"][poll_id] = {
        "question": command["question"],
        "options": list(command["options"]),
        "counts": [0] * len(command["options"]),
        "status": DRAFT,
        "results_shown": False,
        "opened_at": None,
        "closed_at": None,
    }
    return [{"type": "poll", "poll": poll_id, "added": True, "status": DRAFT}]


def set_poll_status(state: State, command: dict, ctx: Context) -> list[Happening]:
    poll = poll_of(state, command["poll"])
    status = command["status"]
    if poll["status"] == status:
        return []
    happenings = []
    if status == OPEN:
        require_not_ended(state)
        for other_id, other in state["polls"].items():
            if other["status"] == OPEN:
                other["status"], other["closed_at"] = CLOSED, ctx.now
                happenings.append({"type": "poll", "poll": other_id, "status": CLOSED})
        poll["opened_at"], poll["closed_at"] = poll["opened_at"] or ctx.now, None
    else:
        if poll["status"] == DRAFT:
            raise CommandRefused("not_open", "A poll that was never open cannot close.", "status")
        poll["closed_at"] = ctx.now
    poll["status"] = status
    return [*happenings, {"type": "poll", "poll": command["poll"], "status": status}]


def show_poll_results(state: State, command: dict, ctx: Context) -> list[Happening]:
    poll = poll_of(state, command["poll"])
    if command["shown"] and poll["status"] == DRAFT:
        raise CommandRefused("not_open", "A poll nobody could answer has no results to show.", "shown")
    poll["results_shown"] = command["shown"]
    return [{"type": "poll", "poll": command["poll"], "results_shown": command["shown"]}]


def remove_poll(state: State, command: dict, ctx: Context) -> list[Happening]:
    """Only a draft goes: a poll viewers could answer stays, for the event's report."""
    poll = poll_of(state, command["poll"])
    if poll["status"] != DRAFT:
        raise CommandRefused("not_draft", "Only a poll that was never opened can be removed.", "poll")
    del state["polls"][command["poll"]]
    return [{"type": "poll", "poll": command["poll"], "removed": True}]


def in_play(state: State) -> str | None:
    """The poll viewers see: the open one, else the last one closed whose results are shown."""
    polls = state.get("polls", {})
    open_now = next((pid for pid, poll in polls.items() if poll["status"] == OPEN), None)
    if open_now is not None:
        return open_now
    shown = [pid for pid, poll in polls.items() if poll["status"] == CLOSED and poll["results_shown"]]
    return max(shown, key=lambda pid: polls[pid]["closed_at"] or 0.0, default=None)


HANDLERS = {
    "add_poll": add_poll,
    "set_poll_status": set_poll_status,
    "show_poll_results": show_poll_results,
    "remove_poll": remove_poll,
}
